import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { meshAddress, open, seal, sha256, signingKeyPairFromSeed, utf8 } from '@qpc/crypto';
import { buildAnnounce, forwardEnvelope, verifyAnnounce } from '@qpc/fapp';
import { FappSignedSchema, FappSyncReplySchema, FappSyncRequestSchema, SlotQuerySchema } from '@qpc/proto';
import { buildDemoDataset, type DemoDataset, type DemoTherapist } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMeshEnvelope,
  createMeshNode,
  fappTopicForPlz,
  FAPP_SYNC_PROTOCOL,
  FrameChannel,
  isAddressedTo,
  MeshError,
  type MeshEvent,
  type MeshNode,
} from './index.js';
import { kemFor } from './test/keys.js';
import { EventLog, waitFor } from './test/wait.js';

// Five real libp2p nodes on 127.0.0.1 in a line (0 - 1 - 2 - 3 - 4), one FAPP region.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
let clock = T0 + 60_000;
const now = () => clock;
const REGION = '10';
const TOPIC = fappTopicForPlz(REGION);
const seedFor = (label: string) => sha256(utf8(`mesh-e2e/${label}`));

let data: DemoDataset;
let berlin: DemoTherapist[];
const nodes: MeshNode[] = [];
const logs: EventLog<MeshEvent>[] = [];

async function startNode(label: string, regions = [REGION]): Promise<{ node: MeshNode; log: EventLog<MeshEvent> }> {
  const log = new EventLog<MeshEvent>();
  // No DHT: its lookups would dial across the line and make the topology dense.
  const node = await createMeshNode({ identitySeed: seedFor(label), regions, trust: data.authority.trust, now, heartbeatIntervalMs: 100, dht: false, onEvent: log.push });
  return { node, log };
}

function addrOf(n: MeshNode): string {
  return n.multiaddrs()[0]!;
}

function sawTherapist(log: EventLog<MeshEvent>, therapistId: string, outcome: string, sequence?: number) {
  return (e: MeshEvent) => e.type === 'announce' && e.therapistId === therapistId && e.outcome === outcome && (sequence === undefined || e.sequence === sequence);
}

function reannounce(t: DemoTherapist, sequence: number): Uint8Array {
  return buildAnnounce(t.signing, { ...t.input, sequence }, T0);
}

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 100, now: T0, seed: 'mesh-e2e' });
  berlin = data.therapists.filter((t) => t.plz.startsWith(REGION));
  expect(berlin.length).toBeGreaterThanOrEqual(6);
  for (let i = 0; i < 5; i++) {
    const { node, log } = await startNode(`line-${i}`);
    nodes.push(node);
    logs.push(log);
  }
  for (let i = 0; i < 4; i++) await nodes[i]!.dial(addrOf(nodes[i + 1]!));
  // Gossipsub grafts at heartbeats: wait until every link of the line is in both meshes.
  const linked = () => nodes.every((n, i) => [nodes[i - 1], nodes[i + 1]].filter(Boolean).every((m) => n.meshPeers(TOPIC).includes(m!.peerId.toString())));
  await waitFor(linked, nodes.map((n) => ({ target: n.pubsub, event: 'gossipsub:heartbeat' })), 15_000, 'gossipsub mesh along the line');
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('mesh over real libp2p nodes', () => {
  it('propagates an announce published at one end to the other end', async () => {
    const latencies: number[] = [];
    for (const t of berlin.slice(0, 5)) {
      const id = verifyAnnounce(t.announce, { nowMs: clock, trust: data.authority.trust }).announce.therapistId;
      const started = performance.now();
      const arrived = logs[4]!.next(sawTherapist(logs[4]!, id, 'accepted'), 10_000, 'announce at node 4');
      expect((await nodes[0]!.publishAnnounce(t.announce)).kind).toBe('accepted');
      await arrived;
      latencies.push(performance.now() - started);
    }
    for (const n of nodes) expect(n.announces(REGION).length).toBe(5);
    latencies.sort((a, b) => a - b);
    console.log(`gossip over 4 hops: median ${latencies[2]!.toFixed(1)} ms, max ${latencies[4]!.toFixed(1)} ms`);
  });

  it('does not propagate forged, replayed or stale announces, even long after gossip forgot them', async () => {
    const t = berlin[5]!;
    const id = verifyAnnounce(t.announce, { nowMs: clock, trust: data.authority.trust }).announce.therapistId;
    const seq2 = reannounce(t, 2);
    const seq3 = reannounce(t, 3);
    await nodes[0]!.publishAnnounce(seq2);
    await logs[4]!.next(sawTherapist(logs[4]!, id, 'accepted', 2), 10_000, 'sequence 2 at node 4');

    // Hours later, beyond gossipsub's 2-minute seen cache.
    clock += 3 * 3600_000;
    const forged = fromBinary(FappSignedSchema, seq3);
    forged.signature = forged.signature.slice();
    forged.signature[0]! ^= 1;
    // A relay replays the superseded sequence 1 with a bumped hop count (new gossip id, same signed body).
    const replayed = forwardEnvelope(t.announce);
    // Injected straight into gossipsub at node 0, bypassing node 0's own checks.
    await nodes[0]!.pubsub.publish(TOPIC, toBinary(FappSignedSchema, forged));
    await nodes[0]!.pubsub.publish(TOPIC, replayed);
    await logs[1]!.next((e) => e.type === 'announce' && e.code === 'BAD_SIGNATURE', 10_000, 'node 1 rejects the forgery');
    await logs[1]!.next(sawTherapist(logs[1]!, id, 'rejected'), 10_000, 'node 1 rejects the replay');

    // A valid sequence 3 behind them travels the whole line: the bad ones would have been ahead of it.
    await nodes[0]!.publishAnnounce(seq3);
    await logs[4]!.next(sawTherapist(logs[4]!, id, 'accepted', 3), 10_000, 'sequence 3 at node 4');
    for (const log of logs.slice(2)) expect(log.events.filter((e) => e.type === 'announce' && e.outcome === 'rejected')).toEqual([]);
    for (const n of nodes) expect(n.announces(REGION).find((r) => r.therapistId === id)?.sequence).toBe(3);
    clock = T0 + 120_000;
  });

  it('lets a late-joining node sync a region and answers queries from the cache', async () => {
    const late = await startNode('late', []);
    try {
      const result = await late.node.syncRegion(addrOf(nodes[2]!), REGION);
      expect(result.accepted).toBe(nodes[2]!.announces(REGION).length);
      expect(result.rejected).toBe(0);
      expect(late.node.announces(REGION).map((r) => r.therapistId)).toEqual(nodes[2]!.announces(REGION).map((r) => r.therapistId));

      const response = await late.node.query(addrOf(nodes[4]!), create(SlotQuerySchema, { plzPrefix: REGION, limit: 20 }));
      expect(response.hits.length).toBeGreaterThan(0);
      for (const a of response.announces) expect(verifyAnnounce(a, { nowMs: clock, trust: data.authority.trust }).announce.plz.startsWith(REGION)).toBe(true);

      await expect(late.node.query(addrOf(nodes[4]!), create(SlotQuerySchema, { plzPrefix: '1x' }))).rejects.toMatchObject({ code: 'REMOTE_FAILURE' });
    } finally {
      await late.node.stop();
    }
  });

  it('rejects malformed and oversized frames and closes the stream', async () => {
    const conn = await nodes[1]!.dial(addrOf(nodes[2]!));
    const ch = new FrameChannel(await conn.newStream(FAPP_SYNC_PROTOCOL), 1 << 20);
    await ch.write(new Uint8Array([0xff, 0xff, 0xff]));
    const reply = fromBinary(FappSyncReplySchema, await ch.read(5000));
    expect(reply.failure?.code).toBe('MALFORMED');
    await expect(ch.read(5000)).rejects.toBeInstanceOf(MeshError);

    const big = new FrameChannel(await conn.newStream(FAPP_SYNC_PROTOCOL), 1 << 20);
    await big.write(toBinary(FappSyncRequestSchema, create(FappSyncRequestSchema, { plzPrefix: '1'.repeat(400) })));
    await expect(big.read(5000)).rejects.toBeInstanceOf(MeshError);
    expect(logs[2]!.events.filter((e) => e.type === 'protocol-error').map((e) => e.type === 'protocol-error' && e.code)).toEqual(['MALFORMED', 'TOO_LARGE']);
  });

  it('stores and forwards an envelope to a recipient that comes online later', async () => {
    const recipientSeed = seedFor('recipient');
    const recipient = signingKeyPairFromSeed(recipientSeed);
    const kem = kemFor('recipient');
    const sender = signingKeyPairFromSeed(seedFor('sender'));
    const sealed = await seal(kem.publicKey, utf8('Ihr Termin am Dienstag ist bestätigt.'));
    const envelope = createMeshEnvelope({ sender, recipient: meshAddress(recipient.publicKey), payload: sealed, nowMs: clock, ttlMs: 24 * 3600_000 });
    const id = await nodes[0]!.deposit(addrOf(nodes[2]!), envelope);
    expect(await nodes[0]!.deposit(addrOf(nodes[2]!), envelope)).toBe(id);
    expect(nodes[2]!.saf.stats().envelopes).toBe(1);

    // Someone without the recipient's key learns nothing and deletes nothing.
    const impostor = { publicKey: recipient.publicKey, secretKey: signingKeyPairFromSeed(seedFor('impostor')).secretKey };
    await expect(nodes[1]!.fetchMail(addrOf(nodes[2]!), impostor)).rejects.toMatchObject({ code: 'REMOTE_FAILURE', message: expect.stringContaining('PROOF_REJECTED') });

    clock += 3600_000;
    const online = await createMeshNode({ identitySeed: recipientSeed, trust: data.authority.trust, now, dht: false, routing: false, bootstrap: [addrOf(nodes[2]!)] });
    try {
      const mail = await online.fetchMail(addrOf(nodes[2]!));
      expect(mail).toHaveLength(1);
      expect(isAddressedTo(mail[0]!, online.identity.publicKey)).toBe(true);
      expect(new TextDecoder().decode(await open(kem.secretKey, mail[0]!.payload))).toBe('Ihr Termin am Dienstag ist bestätigt.');
      expect(await online.fetchMail(addrOf(nodes[2]!))).toHaveLength(0);
      expect(nodes[2]!.saf.stats().envelopes).toBe(0);
    } finally {
      await online.stop();
    }
  });
});
