import { create } from '@bufbuild/protobuf';
import { sha256, utf8 } from '@qpc/crypto';
import { SlotQuerySchema } from '@qpc/proto';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeshNode, type MeshNode, type MeshNodeOptions } from './index.js';
import { waitFor } from './test/wait.js';

// Transports and discovery over real libp2p nodes on 127.0.0.1: WebSockets beside TCP,
// the bootstrap list (with redial), kad-dht lookups by mesh address, mDNS off by default.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
const seedFor = (label: string) => sha256(utf8(`mesh-discovery-e2e/${label}`));
let data: DemoDataset;
const started: MeshNode[] = [];

async function start(label: string, extra: Partial<MeshNodeOptions> = {}): Promise<MeshNode> {
  const n = await createMeshNode({ identitySeed: seedFor(label), trust: data.authority.trust, now, heartbeatIntervalMs: 100, regions: ['10'], ...extra });
  started.push(n);
  return n;
}

const connectedTo = (a: MeshNode, b: MeshNode) => a.libp2p.getConnections(b.peerId).length > 0;
const peerEvents = (n: MeshNode) => [{ target: n.libp2p as unknown as EventTarget, event: 'peer:connect' }];

beforeAll(() => {
  data = buildDemoDataset({ therapists: 20, now: T0, seed: 'mesh-discovery-e2e' });
});

afterAll(async () => {
  await Promise.all(started.map((n) => n.stop()));
});

describe('transports and discovery', () => {
  it('speaks the mesh protocols over WebSockets as over TCP', async () => {
    const ws = await start('ws-only', { listen: ['/ip4/127.0.0.1/tcp/0/ws'], dht: false });
    const addr = ws.multiaddrs().find((m) => m.includes('/ws/'))!;
    expect(addr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//);
    const t = data.therapists.find((x) => x.plz.startsWith('10'))!;
    expect((await ws.publishAnnounce(t.announce)).kind).toBe('accepted');

    const client = await start('ws-client', { dht: false });
    const conn = await client.dial(addr);
    expect(conn.remoteAddr.toString()).toContain('/ws');
    const response = await client.query(conn.remotePeer, create(SlotQuerySchema, { plzPrefix: '10', limit: 5 }));
    expect(response.announces.length).toBe(1);
    const synced = await client.syncRegion(conn.remotePeer, '10');
    expect(synced.accepted).toBe(1);
  });

  it('dials its bootstrap list at start and redials a bootstrap peer that comes back', async () => {
    const a = await start('boot-a', { listen: ['/ip4/127.0.0.1/tcp/0/ws'], dht: false });
    let b = await start('boot-b', { dht: false });
    const bAddr = b.multiaddrs()[0]!;
    const c = await start('boot-c', { dht: false, bootstrap: [a.multiaddrs()[0]!, bAddr], bootstrapRetryMs: 100 });
    expect(connectedTo(c, a) && connectedTo(c, b)).toBe(true);

    await b.stop();
    await waitFor(() => !connectedTo(c, b), [{ target: c.libp2p as unknown as EventTarget, event: 'peer:disconnect' }], 10_000, 'c notices b is gone');
    // b comes back on the same port with the same identity; c redials it on its own.
    b = await start('boot-b', { dht: false, listen: [bAddr.split('/p2p/')[0]!] });
    await waitFor(() => connectedTo(c, b), peerEvents(c), 10_000, 'c redials b');
  });

  it('finds a node by its mesh address through the DHT and dials it', async () => {
    // A line a - b - c - d: a is never connected to d, and only d knows its own addresses.
    const line = [await start('dht-a'), await start('dht-b'), await start('dht-c'), await start('dht-d')];
    for (let i = 0; i < 3; i++) await line[i]!.dial(line[i + 1]!.multiaddrs()[0]!);
    const [a, , , d] = line as [MeshNode, MeshNode, MeshNode, MeshNode];
    // d puts its announce into the DHT by itself shortly after its first connection.
    let found: Awaited<ReturnType<MeshNode['findNode']>>;
    await expect.poll(async () => (found = await a.findNode(d.addressHex, 2000))?.peerId.toString(), { timeout: 15_000 }).toBe(d.peerId.toString());
    expect(found!.multiaddrs.length).toBeGreaterThan(0);
    await a.dial(found!.peerId);
    expect(connectedTo(a, d)).toBe(true);

    // An address nobody published is not found (and nothing is made up).
    expect(await a.findNode('00'.repeat(16), 3000)).toBeUndefined();
  });

  it('with mDNS on, two nodes on this machine find and dial each other', async () => {
    const x = await start('mdns-x', { dht: false, mdns: true });
    const y = await start('mdns-y', { dht: false, mdns: true });
    await waitFor(() => connectedTo(x, y), peerEvents(x), 20_000, 'x and y find each other over mDNS');
  });

  it('keeps mDNS off unless asked', async () => {
    // Only the default is exercised: switching mDNS on would multicast from the test machine.
    const quiet = await start('quiet', { dht: false });
    const all = (quiet.libp2p as unknown as { components: { components: Record<string, object> } }).components.components;
    const tags = Object.values(all).map((c) => (c as { [Symbol.toStringTag]?: string } | undefined)?.[Symbol.toStringTag]);
    expect(tags).toContain('@libp2p/tcp');
    expect(tags).toContain('@libp2p/websockets');
    expect(tags).not.toContain('@libp2p/mdns');
    expect(Object.keys(all).filter((k) => k.startsWith('peer-discovery-'))).toEqual([]);
  });
});
