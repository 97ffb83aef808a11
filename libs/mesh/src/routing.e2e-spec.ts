import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { meshAddress, open, seal, sha256, signingKeyPairFromSeed, toHex, utf8 } from '@qpc/crypto';
import { MeshEnvelopeSchema, SafReplySchema } from '@qpc/proto';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshCapability } from '@qpc/proto';
import {
  createMeshEnvelope,
  createMeshNode,
  createNodeAnnounce,
  FrameChannel,
  MAX_ANNOUNCES_PER_STREAM,
  NODE_ANNOUNCE_PROTOCOL,
  ROUTE_PROTOCOL,
  type MeshEvent,
  type MeshNode,
  type OpenedEnvelope,
} from './index.js';
import { kemFor } from './test/keys.js';
import { EventLog } from './test/wait.js';

// Multi-hop routing over a real chain of five libp2p nodes on 127.0.0.1 (0 - 1 - 2 - 3 - 4):
// the ends are never connected; routes come from node announces flooded hop by hop.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const clock = T0 + 60_000;
const now = () => clock;
const seedFor = (label: string) => sha256(utf8(`mesh-routing-e2e/${label}`));
let data: DemoDataset;
const nodes: MeshNode[] = [];
const logs: EventLog<MeshEvent>[] = [];
const inbox: OpenedEnvelope[][] = [];
const extra: MeshNode[] = [];

async function start(label: string, i: number): Promise<MeshNode> {
  logs[i] = new EventLog<MeshEvent>();
  inbox[i] = [];
  // No DHT: its lookups would connect the ends of the chain.
  return createMeshNode({ identitySeed: seedFor(label), trust: data.authority.trust, now, dht: false, onEvent: logs[i]!.push, onEnvelope: (e) => inbox[i]!.push(e) });
}

const routeEvent = (addr: string) => (e: MeshEvent) => e.type === 'route' && e.address === addr;
const envelopeEvent = (action: string, contentId: string, reason?: string) => (e: MeshEvent) =>
  e.type === 'envelope' && e.action === action && e.contentId === contentId && (reason === undefined || e.reason === reason);

function envelopeTo(target: MeshNode, payload: Uint8Array, maxHops = 8): Uint8Array {
  const sender = signingKeyPairFromSeed(seedFor('sender'));
  return createMeshEnvelope({ sender, recipient: target.address, payload, nowMs: clock, ttlMs: 3600_000, maxHops });
}

const contentIdOf = (env: Uint8Array) => toHex(sha256(fromBinary(MeshEnvelopeSchema, env).body).slice(0, 16));

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 4, now: T0, seed: 'mesh-routing-e2e' });
  for (let i = 0; i < 5; i++) nodes.push(await start(`chain-${i}`, i));
  for (let i = 0; i < 4; i++) await nodes[i]!.dial(nodes[i + 1]!.multiaddrs()[0]!);
  await Promise.all([
    logs[0]!.next(routeEvent(nodes[4]!.addressHex), 10_000, 'node 0 learns a route to node 4'),
    logs[4]!.next(routeEvent(nodes[0]!.addressHex), 10_000, 'node 4 learns a route to node 0'),
  ]);
});

afterAll(async () => {
  await Promise.all([...nodes, ...extra].map((n) => n.stop()));
});

describe('multi-hop routing over real libp2p nodes', () => {
  it('builds routes from flooded node announces, with the hop count along the chain', () => {
    expect(nodes[0]!.libp2p.getConnections(nodes[4]!.peerId)).toHaveLength(0);
    const r = nodes[0]!.routeTo(nodes[4]!.addressHex)!;
    expect(r.hops).toBe(4);
    expect(r.nextHop).toBe(nodes[1]!.peerId.toString());
    expect(nodes[2]!.routeTo(nodes[4]!.addressHex)?.hops).toBe(2);
    expect(nodes[4]!.routeTo(nodes[0]!.addressHex)?.nextHop).toBe(nodes[3]!.peerId.toString());
  });

  it('delivers a sealed envelope four hops away; relays forward it once and cannot read it', async () => {
    const kem = kemFor('chain-4');
    const env = envelopeTo(nodes[4]!, await seal(kem.publicKey, utf8('Termin bestätigt')));
    const id = contentIdOf(env);
    const arrived = logs[4]!.next(envelopeEvent('delivered', id), 10_000, 'delivery at node 4');
    expect(await nodes[0]!.send(env)).toEqual({ kind: 'forwarded', nextHop: nodes[1]!.peerId.toString() });
    await arrived;
    expect(inbox[4]!.map((e) => e.contentIdHex)).toEqual([id]);
    expect(inbox[4]![0]!.hopCount).toBe(4);
    expect(new TextDecoder().decode(await open(kem.secretKey, inbox[4]![0]!.payload))).toBe('Termin bestätigt');
    for (const i of [1, 2, 3]) {
      expect(logs[i]!.events.filter(envelopeEvent('forwarded', id))).toHaveLength(1);
      expect(inbox[i]).toEqual([]);
    }
  });

  it('drops a copy it has seen before (loop avoidance by content id), wherever it re-enters', async () => {
    const env = envelopeTo(nodes[4]!, utf8('once only'));
    const id = contentIdOf(env);
    await nodes[0]!.send(env);
    await logs[4]!.next(envelopeEvent('delivered', id), 10_000, 'first delivery');
    // The same envelope handed to node 2 again, as a loop would: accepted on the wire, not passed on.
    const replay = fromBinary(MeshEnvelopeSchema, env);
    replay.hopCount = 2;
    const conn = await nodes[1]!.dial(nodes[2]!.multiaddrs()[0]!);
    const ch = new FrameChannel(await conn.newStream(ROUTE_PROTOCOL), 1 << 20);
    await ch.write(toBinary(MeshEnvelopeSchema, replay));
    expect(fromBinary(SafReplySchema, await ch.read(5000)).result.case).toBe('deposited');
    await logs[2]!.next(envelopeEvent('dropped', id, 'duplicate'), 10_000, 'node 2 drops the copy');
    expect(await nodes[0]!.send(env)).toEqual({ kind: 'dropped', reason: 'duplicate' });
    expect(inbox[4]!.filter((e) => e.contentIdHex === id)).toHaveLength(1);
    expect(nodes[2]!.stats().envelopes.dropped.duplicate).toBe(1);
  });

  it('stops an envelope at its hop limit', async () => {
    const env = envelopeTo(nodes[4]!, utf8('two hops at most'), 2);
    const id = contentIdOf(env);
    await nodes[0]!.send(env);
    // 0 -> 1 (hop 1) -> 2 (hop 2); a third hop would exceed max_hops.
    await logs[2]!.next(envelopeEvent('dropped', id, 'hop-limit'), 10_000, 'node 2 drops at the hop limit');
    expect(logs[3]!.events.filter((e) => e.type === 'envelope' && e.contentId === id)).toEqual([]);
    expect(inbox[4]!.filter((e) => e.contentIdHex === id)).toEqual([]);
  });

  it('keeps an envelope for an unknown recipient and routes it once the recipient joins far away', async () => {
    const lateSeed = seedFor('late');
    const lateAddr = meshAddress(signingKeyPairFromSeed(lateSeed).publicKey);
    const sender = signingKeyPairFromSeed(seedFor('sender'));
    const env = createMeshEnvelope({ sender, recipient: lateAddr, payload: utf8('waiting for you'), nowMs: clock, ttlMs: 3600_000 });
    expect(await nodes[0]!.send(env)).toEqual({ kind: 'stored' });
    expect(nodes[0]!.saf.stats().envelopes).toBe(1);

    const lateLog = new EventLog<MeshEvent>();
    const got: OpenedEnvelope[] = [];
    const late = await createMeshNode({ identitySeed: lateSeed, trust: data.authority.trust, now, dht: false, onEvent: lateLog.push, onEnvelope: (e) => got.push(e) });
    extra.push(late);
    await late.dial(nodes[4]!.multiaddrs()[0]!);
    await lateLog.next(envelopeEvent('delivered', contentIdOf(env)), 10_000, 'delivery at the late node');
    expect(new TextDecoder().decode(got[0]!.payload)).toBe('waiting for you');
    expect(got[0]!.hopCount).toBe(5);
    expect(nodes[0]!.saf.stats().envelopes).toBe(0);
  });

  it('refuses a tampered envelope on the wire and counts it', async () => {
    const env = fromBinary(MeshEnvelopeSchema, envelopeTo(nodes[4]!, utf8('tampered')));
    env.signature = env.signature.slice();
    env.signature[3]! ^= 1;
    const conn = await nodes[1]!.dial(nodes[2]!.multiaddrs()[0]!);
    const ch = new FrameChannel(await conn.newStream(ROUTE_PROTOCOL), 1 << 20);
    await ch.write(toBinary(MeshEnvelopeSchema, env));
    const reply = fromBinary(SafReplySchema, await ch.read(5000));
    expect(reply.result.case === 'failure' && reply.result.value.code).toBe('BAD_SIGNATURE');
    expect(nodes[2]!.stats().envelopes.dropped['bad-signature']).toBe(1);
  });

  it('takes at most MAX_ANNOUNCES_PER_STREAM node announces from one stream', async () => {
    // A lone node and a light client that writes one announce too many on one stream.
    const lone = await createMeshNode({ identitySeed: seedFor('lone'), trust: data.authority.trust, now, dht: false });
    const client = await createMeshNode({ identitySeed: seedFor('client'), trust: data.authority.trust, now, dht: false, routing: false });
    extra.push(lone, client);
    const conn = await client.dial(lone.multiaddrs()[0]!);
    const ch = new FrameChannel(await conn.newStream(NODE_ANNOUNCE_PROTOCOL), 1 << 20);
    for (let i = 0; i <= MAX_ANNOUNCES_PER_STREAM; i++) {
      const node = signingKeyPairFromSeed(seedFor(`origin-${i}`));
      await ch.write(createNodeAnnounce({ node, capabilities: MeshCapability.RELAY, sequence: 1, nowMs: clock, ttlMs: 3600_000 }));
    }
    await ch.close();
    await expect.poll(() => lone.stats().routes, { timeout: 15_000 }).toBe(MAX_ANNOUNCES_PER_STREAM);
    const last = toHex(meshAddress(signingKeyPairFromSeed(seedFor(`origin-${MAX_ANNOUNCES_PER_STREAM}`)).publicKey));
    expect(lone.routeTo(last)).toBeUndefined();
  });
});
