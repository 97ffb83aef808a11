import { create } from '@bufbuild/protobuf';
import { meshAddress, sha256, utf8 } from '@qpc/crypto';
import { SlotQuerySchema } from '@qpc/proto';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeshEnvelope, createMeshNode, fappTopicForPlz, isQuicAddress, type MeshNode, type OpenedEnvelope } from './index.js';
import { waitFor } from './test/wait.js';

// QUIC (opt-in transport): two real nodes that listen on UDP/QUIC only and talk over it.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
const QUIC_LISTEN = '/ip4/127.0.0.1/udp/0/quic-v1';
let data: DemoDataset;
let a: MeshNode;
let b: MeshNode;
const delivered: OpenedEnvelope[] = [];

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 10, now: T0, seed: 'mesh-quic-e2e' });
  const common = { trust: data.authority.trust, now, heartbeatIntervalMs: 100, regions: ['10'], dht: false, listen: [QUIC_LISTEN] };
  a = await createMeshNode({ identitySeed: sha256(utf8('mesh-quic-e2e/a')), ...common });
  b = await createMeshNode({ identitySeed: sha256(utf8('mesh-quic-e2e/b')), ...common, onEnvelope: (e) => delivered.push(e), bootstrap: [a.multiaddrs()[0]!] });
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('QUIC transport', () => {
  it('listens on UDP/QUIC only when asked and connects over it', () => {
    expect(isQuicAddress(QUIC_LISTEN)).toBe(true);
    expect(isQuicAddress('/ip4/127.0.0.1/tcp/4001')).toBe(false);
    expect(a.multiaddrs()).toHaveLength(1);
    expect(a.multiaddrs()[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/p2p\//);
    const conns = b.libp2p.getConnections(a.peerId);
    expect(conns.length).toBeGreaterThan(0);
    for (const c of conns) expect(c.remoteAddr.toString()).toContain('/quic-v1');
  });

  it('gossips an announce, answers a query and routes an envelope over QUIC', async () => {
    const topic = fappTopicForPlz('10');
    await waitFor(() => a.meshPeers(topic).includes(b.peerId.toString()), [{ target: a.pubsub as unknown as EventTarget, event: 'gossipsub:heartbeat' }], 15_000, 'gossipsub mesh over QUIC');
    const t = data.therapists.find((x) => x.plz.startsWith('10'))!;
    expect((await a.publishAnnounce(t.announce)).kind).toBe('accepted');
    await expect.poll(() => b.announces('10').length, { timeout: 10_000 }).toBe(1);

    const response = await b.query(a.peerId, create(SlotQuerySchema, { plzPrefix: '10', limit: 5 }));
    expect(response.announces.length).toBe(1);

    await expect.poll(() => a.routeTo(b.addressHex)).toBeDefined();
    const env = createMeshEnvelope({ sender: a.identity, recipient: meshAddress(b.identity.publicKey), payload: utf8('over quic'), nowMs: now(), ttlMs: 60_000 });
    expect((await a.send(env)).kind).toBe('forwarded');
    await expect.poll(() => delivered.length).toBe(1);
    expect(new TextDecoder().decode(delivered[0]!.payload)).toBe('over quic');
  });

  it('keeps answering many request streams in a row on one QUIC connection', async () => {
    // Every query is a new stream that is closed after the reply; closed streams must not pile up.
    for (let i = 0; i < 200; i++) {
      const r = await b.query(a.peerId, create(SlotQuerySchema, { plzPrefix: '10', limit: 5 }));
      expect(r.announces.length).toBe(1);
    }
    const streams = b.libp2p.getConnections(a.peerId).flatMap((c) => c.streams);
    expect(streams.length).toBeLessThan(10);
  });

  it('a node that stops closes its QUIC connections on the other side', async () => {
    const c = await createMeshNode({ identitySeed: sha256(utf8('mesh-quic-e2e/c')), trust: data.authority.trust, now, dht: false, quic: true, listen: [QUIC_LISTEN] });
    await c.dial(a.multiaddrs()[0]!);
    // c's dial resolves once its side is up; a registers the inbound connection on its own time.
    await waitFor(() => a.libp2p.getConnections(c.peerId).length > 0, [{ target: a.libp2p as unknown as EventTarget, event: 'connection:open' }, { target: a.libp2p as unknown as EventTarget, event: 'peer:connect' }], 15_000, 'a sees c');
    await c.stop();
    await waitFor(() => a.libp2p.getConnections(c.peerId).length === 0, [{ target: a.libp2p as unknown as EventTarget, event: 'peer:disconnect' }], 15_000, 'a notices c is gone');
  });
});
