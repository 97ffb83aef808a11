import { sha256, utf8 } from '@qpc/crypto';
import { verifyAnnounce } from '@qpc/fapp';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeshNode, fappTopicForPlz, type MeshEvent, type MeshNode } from './index.js';
import { EventLog, waitFor } from './test/wait.js';

// Four real libp2p nodes on 127.0.0.1 in a line (a0 - a1 | b0 - b1); the link a1 - b0 is cut and restored.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
const REGION = '10';
const TOPIC = fappTopicForPlz(REGION);

let data: DemoDataset;
const nodes: MeshNode[] = [];
const logs: EventLog<MeshEvent>[] = [];

function addrOf(n: MeshNode): string {
  return n.multiaddrs()[0]!;
}

function has(n: MeshNode, therapistId: string): boolean {
  return n.announces(REGION).some((r) => r.therapistId === therapistId);
}

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 60, now: T0, seed: 'mesh-partition-e2e' });
  for (let i = 0; i < 4; i++) {
    const log = new EventLog<MeshEvent>();
    const node = await createMeshNode({
      identitySeed: sha256(utf8(`mesh-partition/${i}`)),
      regions: [REGION],
      trust: data.authority.trust,
      now,
      heartbeatIntervalMs: 100,
      dht: false,
      syncOnConnect: true,
      onEvent: log.push,
    });
    nodes.push(node);
    logs.push(log);
  }
  for (let i = 0; i < 3; i++) await nodes[i]!.dial(addrOf(nodes[i + 1]!));
  const linked = () => nodes.every((n, i) => [nodes[i - 1], nodes[i + 1]].filter(Boolean).every((m) => n.meshPeers(TOPIC).includes(m!.peerId.toString())));
  await waitFor(linked, nodes.map((n) => ({ target: n.pubsub, event: 'gossipsub:heartbeat' })), 10_000, 'gossipsub mesh along the line');
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('partition then heal', () => {
  it('delivers the announces published in each half while split to every node after the link returns', { timeout: 15_000 }, async () => {
    const [a0, a1, b0, b1] = nodes as [MeshNode, MeshNode, MeshNode, MeshNode];
    const berlin = data.therapists.filter((t) => t.plz.startsWith(REGION));
    expect(berlin.length).toBeGreaterThanOrEqual(2);
    const [x, y] = berlin.map((t) => ({ bytes: t.announce, id: verifyAnnounce(t.announce, { nowMs: now(), trust: data.authority.trust }).announce.therapistId }));

    // Split: cut the only link between the halves.
    const cutA = logs[1]!.next((e) => e.type === 'peer' && e.change === 'disconnect' && e.peer === b0.peerId.toString(), 5000, 'a1 sees b0 leave');
    const cutB = logs[2]!.next((e) => e.type === 'peer' && e.change === 'disconnect' && e.peer === a1.peerId.toString(), 5000, 'b0 sees a1 leave');
    await a1.libp2p.hangUp(b0.peerId);
    await Promise.all([cutA, cutB]);

    // One announce per half, each reaching the far node of its own half.
    const accepted = (id: string) => (e: MeshEvent) => e.type === 'announce' && e.outcome === 'accepted' && e.therapistId === id;
    const xInA = logs[1]!.next(accepted(x!.id), 5000, 'x at a1');
    const yInB = logs[2]!.next(accepted(y!.id), 5000, 'y at b0');
    expect((await a0.publishAnnounce(x!.bytes)).kind).toBe('accepted');
    expect((await b1.publishAnnounce(y!.bytes)).kind).toBe('accepted');
    await Promise.all([xInA, yInB]);
    expect([a0, a1].map((n) => has(n, y!.id))).toEqual([false, false]);
    expect([b0, b1].map((n) => has(n, x!.id))).toEqual([false, false]);

    // Heal: the link comes back; every node ends with both announces.
    await a1.dial(addrOf(b0));
    await Promise.all([
      ...logs.map((log, i) => log.next(accepted(x!.id), 8000, `x at node ${i}`)),
      ...logs.map((log, i) => log.next(accepted(y!.id), 8000, `y at node ${i}`)),
    ]);
    for (const n of nodes) expect([has(n, x!.id), has(n, y!.id)]).toEqual([true, true]);
    // The far nodes learnt the other half's announce by gossip from the node that synced it.
    expect(logs[0]!.events.find(accepted(y!.id))).toMatchObject({ source: 'gossip' });
    expect(logs[3]!.events.find(accepted(x!.id))).toMatchObject({ source: 'gossip' });
    expect(logs.flatMap((l) => l.events.filter((e) => e.type === 'protocol-error'))).toEqual([]);
  });
});
