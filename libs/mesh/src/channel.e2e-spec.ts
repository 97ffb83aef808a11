import { sha256, signingKeyPairFromSeed, toHex, utf8 } from '@qpc/crypto';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelId, channelTopic, createMeshNode, sealChannelMessage, type ChannelMembership, type ChannelMessage, type MeshEvent, type MeshNode } from './index.js';
import { EventLog, waitFor } from './test/wait.js';

// A broadcast channel over a real line of libp2p nodes: member - relay - member - member.
// The relay forwards the channel's messages without its key.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
const seedFor = (label: string) => sha256(utf8(`mesh-channel-e2e/${label}`));
const KEY = sha256(utf8('mesh-channel-e2e/channel key'));
const TOPIC = channelTopic(channelId(KEY));
let data: DemoDataset;
const nodes: MeshNode[] = [];
const logs: EventLog<MeshEvent>[] = [];
const received: ChannelMessage[][] = [[], [], [], []];
let alice: ChannelMembership;

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 2, now: T0, seed: 'mesh-channel-e2e' });
  for (let i = 0; i < 4; i++) {
    logs.push(new EventLog<MeshEvent>());
    nodes.push(await createMeshNode({ identitySeed: seedFor(`n${i}`), trust: data.authority.trust, now, heartbeatIntervalMs: 100, dht: false, onEvent: logs[i]!.push }));
  }
  for (let i = 0; i < 3; i++) await nodes[i]!.dial(nodes[i + 1]!.multiaddrs()[0]!);
  alice = nodes[0]!.joinChannel(KEY, (m) => received[0]!.push(m));
  nodes[1]!.relayChannel(toHex(channelId(KEY)));
  nodes[2]!.joinChannel(KEY, (m) => received[2]!.push(m));
  nodes[3]!.joinChannel(KEY, (m) => received[3]!.push(m));
  const linked = () => nodes.every((n, i) => [nodes[i - 1], nodes[i + 1]].filter(Boolean).every((m) => n.meshPeers(TOPIC).includes(m!.peerId.toString())));
  await waitFor(linked, nodes.map((n) => ({ target: n.pubsub, event: 'gossipsub:heartbeat' })), 15_000, 'gossipsub mesh for the channel');
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

const read = (e: MeshEvent) => e.type === 'channel' && e.outcome === 'read';

describe('broadcast channels', () => {
  it('members read a message that a relay without the key forwarded', async () => {
    await alice.publish(utf8('Vertretung ab Montag: Praxis Nord'));
    await logs[3]!.next(read, 10_000, 'member 3 reads');
    await logs[2]!.next(read, 10_000, 'member 2 reads');
    for (const i of [2, 3]) {
      expect(received[i]!.map((m) => new TextDecoder().decode(m.payload))).toEqual(['Vertretung ab Montag: Praxis Nord']);
      expect(received[i]![0]!.senderKey).toEqual(nodes[0]!.identity.publicKey);
    }
    // The relay passed it on but has nothing to read it with.
    expect(logs[1]!.events.filter((e) => e.type === 'channel').map((e) => e.type === 'channel' && e.outcome)).toEqual(['relayed']);
    expect(nodes[1]!.stats().channels).toEqual({ joined: 0, relayed: 1 });
  });

  it('members reject a message sealed under another key; it goes no further', async () => {
    // The relay injects a well-framed message it sealed under a key of its own.
    const mallory = signingKeyPairFromSeed(seedFor('mallory'));
    const forged = sealChannelMessage(sha256(utf8('not the channel key')), mallory, utf8('Praxis geschlossen'), now());
    await nodes[1]!.pubsub.publish(TOPIC, forged);
    await logs[2]!.next((e) => e.type === 'channel' && e.outcome === 'rejected' && e.code === 'BAD_SIGNATURE', 10_000, 'member 2 rejects');
    // A good message behind it arrives at the far end, the forged one never did.
    await alice.publish(utf8('second'));
    await expect.poll(() => received[3]!.length, { timeout: 10_000 }).toBe(2);
    expect(received[3]!.map((m) => new TextDecoder().decode(m.payload))).toEqual(['Vertretung ab Montag: Praxis Nord', 'second']);
    expect(logs[3]!.events.filter((e) => e.type === 'channel' && e.outcome === 'rejected')).toEqual([]);
  });
});
