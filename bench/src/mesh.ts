// npm run bench -- mesh [--nodes N] [--announces N] [--chord K] [--timeout-ms MS]
// Announce propagation over a sparse mesh of real libp2p nodes (TCP + Noise + Yamux +
// gossipsub) in this one process on 127.0.0.1: a ring in which node i is also linked to
// node i + K (degree 4). Every node subscribes to one FAPP region; announces are published
// one after another from different nodes, and each travels through every node's FAPP
// validator (signature, licence attestation, supersede store) before it is forwarded.
// Printed in one run, beside a baseline measured on the same nodes in alternation: a
// payload of the announce's size (+1 byte; its first 32 bytes are a unique key, so
// gossipsub's content-addressed ids differ) on a raw gossipsub topic without any validator.
//   - delivery: share of (announce, node) pairs reached within --timeout-ms; target 100 %
//   - latency: per-node arrival after publish, p50/p99 over all pairs; target p99 < 2 s
//   - amplification: gossip copies each node received per announce (first copy and
//     duplicates, counted before gossipsub's dedup), and BYTES ON THE WIRE per node per
//     announce: every byte the process's TCP sockets write (net.Socket#write, which
//     @libp2p/tcp uses for each connection; Noise, Yamux, gossipsub data and control
//     frames, and anything else the nodes send) while that row's announces propagate,
//     minus the bytes of an idle window of the same length measured just before; divided
//     by the announce's own size it is the amplification factor; target < 8x
import { sha256, utf8 } from '@qpc/crypto';
import { verifyAnnounce } from '@qpc/fapp';
import { createMeshNode, fappTopicForPlz, type MeshEvent, type MeshNode } from '@qpc/mesh';
import { buildDemoDataset } from '@qpc/seed';
import { Socket } from 'node:net';
import { cpus } from 'node:os';
import { fmtMs, row, intArg } from './_util.js';

const NODES = Math.max(intArg('nodes', 30, 100), 4);
const ANNOUNCES = intArg('announces', 20, 200);
const CHORD = intArg('chord', 7, 50);
const TIMEOUT_MS = intArg('timeout-ms', 5000, 60_000);
const SETUP_LIMIT_MS = 60_000;
const RAW_TOPIC = '/qpc-bench/raw/1';

const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;

// Every byte written to a TCP socket in this process: all nodes' libp2p connections.
let wireBytes = 0;
const socketWrite = Socket.prototype.write;
Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
  const chunk: unknown = args[0];
  if (typeof chunk === 'string') wireBytes += Buffer.byteLength(chunk);
  else if (chunk instanceof Uint8Array) wireBytes += chunk.byteLength;
  return socketWrite.apply(this, args);
} as Socket['write'];

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Round {
  latencies: number[];
  missing: number;
  /** Bytes written to TCP sockets and wall time during this row's measurement windows. */
  wire: number;
  ms: number;
}

/** Wait after each announce so its late gossip (IHAVE/IWANT at the 200 ms heartbeat) is counted with it. */
const SETTLE_MS = 600;

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`mesh bench: ${NODES} nodes (ring + chord ${CHORD}), ${ANNOUNCES} announces, ${cpus().length} CPUs, Node ${process.version}`);

  // Announces of one region, one therapist each.
  const data = buildDemoDataset({ therapists: Math.max(60, ANNOUNCES * 8), now: T0, seed: 'bench-mesh' });
  const byRegion = new Map<string, typeof data.therapists>();
  for (const t of data.therapists) byRegion.set(t.plz.slice(0, 2), [...(byRegion.get(t.plz.slice(0, 2)) ?? []), t]);
  const [region, pool] = [...byRegion.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  const announces = pool.slice(0, ANNOUNCES).map((t) => ({ bytes: t.announce, id: verifyAnnounce(t.announce, { nowMs: now(), trust: data.authority.trust }).announce.therapistId }));
  const topic = fappTopicForPlz(region);
  const size = Math.round(announces.reduce((s, a) => s + a.bytes.length, 0) / announces.length);
  console.log(`dataset: ${announces.length} announces of region ${region} in ${fmtMs(performance.now() - started)} ms`);

  // Arrival hooks: FAPP acceptance from the node's events, raw arrivals from gossipsub's message event.
  const fappWaiters = new Map<string, (node: number) => void>();
  const rawWaiters = new Map<string, (node: number) => void>();
  const nodes: MeshNode[] = [];
  for (let i = 0; i < NODES; i++) {
    const onEvent = (e: MeshEvent) => {
      if (e.type === 'announce' && e.source === 'gossip' && e.outcome === 'accepted' && e.therapistId) fappWaiters.get(e.therapistId)?.(i);
    };
    const n = await createMeshNode({ identitySeed: sha256(utf8(`bench-mesh/${i}`)), regions: [region], trust: data.authority.trust, now, heartbeatIntervalMs: 200, dht: false, onEvent });
    n.pubsub.subscribe(RAW_TOPIC);
    n.pubsub.addEventListener('message', (e) => {
      if (e.detail.topic === RAW_TOPIC) rawWaiters.get(Buffer.from(e.detail.data.subarray(0, 32)).toString('hex'))?.(i);
    });
    nodes.push(n);
  }
  console.log(`${NODES} nodes started in ${fmtMs(performance.now() - started)} ms`);
  try {
    const edges = new Map<string, [number, number]>();
    for (let i = 0; i < NODES; i++) {
      for (const j of [(i + 1) % NODES, (i + CHORD) % NODES]) {
        if (i !== j) edges.set([Math.min(i, j), Math.max(i, j)].join('-'), [i, j]);
      }
    }
    // Four dials at a time; on a loaded machine a handshake can time out on the listening
    // side after the dialler saw it succeed, so links still missing are dialled again.
    const missing = () => [...edges.values()].filter(([i, j]) => nodes[i]!.libp2p.getConnections(nodes[j]!.peerId).length === 0);
    for (let round = 1; missing().length > 0; round++) {
      if (round > 5) throw new Error(`${missing().length} links could not be established`);
      const todo = missing();
      const worker = async () => {
        for (let e = todo.shift(); e; e = todo.shift()) await nodes[e[0]]!.dial(nodes[e[1]]!.multiaddrs()[0]!).catch(() => undefined);
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      await new Promise((r) => setTimeout(r, 500));
    }
    // Wait until gossipsub has grafted every link in both topics (degree 4 < D = 6) and the
    // node-announce flood that every new link sets off has settled (a route to every node),
    // so that routing traffic does not run during the measurement.
    const formed = () =>
      nodes.every(
        (n) => n.libp2p.getPeers().length === n.meshPeers(topic).length && n.libp2p.getPeers().length === n.meshPeers(RAW_TOPIC).length && n.stats().routes === NODES - 1,
      );
    const dialled = performance.now();
    console.log(`nodes up and dialled in ${fmtMs(dialled - started)} ms`);
    while (!formed()) {
      if (performance.now() - dialled > SETUP_LIMIT_MS) {
        const short = nodes.map((n, i) => `${i}:${n.libp2p.getPeers().length}/${n.meshPeers(topic).length}/${n.meshPeers(RAW_TOPIC).length}`).join(' ');
        throw new Error(`gossipsub meshes did not form in time (node:peers/fapp mesh/raw mesh) ${short}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const degree = nodes.reduce((s, n) => s + n.libp2p.getPeers().length, 0) / NODES;
    console.log(`topology: ${edges.size} links, mean degree ${degree.toFixed(1)}; gossipsub meshes formed and routing tables complete ${fmtMs(performance.now() - dialled)} ms after dialling\n`);

    const fapp: Round = { latencies: [], missing: 0, wire: 0, ms: 0 };
    const raw: Round = { latencies: [], missing: 0, wire: 0, ms: 0 };
    const before = { fapp: nodes.map((n) => n.gossipReceived[topic] ?? 0), raw: nodes.map((n) => n.gossipReceived[RAW_TOPIC] ?? 0) };

    const measure = async (waiters: Map<string, (node: number) => void>, key: string, origin: number, publish: () => Promise<unknown>, into: Round) => {
      const seen = new Set<number>([origin]);
      const w0 = wireBytes;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, TIMEOUT_MS);
        waiters.set(key, (i) => {
          if (seen.has(i)) return;
          seen.add(i);
          into.latencies.push(performance.now() - t0);
          if (seen.size === NODES) {
            clearTimeout(timer);
            resolve();
          }
        });
        void publish();
      });
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      waiters.delete(key);
      into.missing += NODES - seen.size;
      into.wire += wireBytes - w0;
      into.ms += performance.now() - t0;
    };

    // Idle baseline: what the nodes write with nothing published (heartbeats, pings, gossip
    // of empty windows), over as long a window as one announce's measurement is expected to
    // take; scaled per millisecond and subtracted from each row over the row's own duration.
    const idleWindowMs = SETTLE_MS + 400;
    const idle0 = wireBytes;
    const idleT0 = performance.now();
    await new Promise((r) => setTimeout(r, idleWindowMs * 4));
    const idleRate = (wireBytes - idle0) / (performance.now() - idleT0);

    for (let k = 0; k < announces.length; k++) {
      const a = announces[k]!;
      const origin = (k * 11) % NODES;
      const rawBytes = new Uint8Array(a.bytes.length + 1);
      rawBytes.set(sha256(a.bytes), 0);
      rawBytes.set(a.bytes.subarray(32), 32);
      rawBytes[a.bytes.length] = 0xbe;
      const rawKey = Buffer.from(rawBytes.subarray(0, 32)).toString('hex');
      // Alternate which side goes first so neither profits from the other's warm-up.
      const runFapp = () => measure(fappWaiters, a.id, origin, () => nodes[origin]!.publishAnnounce(a.bytes), fapp);
      const runRaw = () => measure(rawWaiters, rawKey, origin, () => nodes[origin]!.pubsub.publish(RAW_TOPIC, rawBytes), raw);
      if (k % 2 === 0) {
        await runFapp();
        await runRaw();
      } else {
        await runRaw();
        await runFapp();
      }
    }
    // Let late duplicates (gossip IHAVE/IWANT) arrive before counting copies.
    await new Promise((r) => setTimeout(r, 1000));
    const copies = (t: string, base: number[]) => nodes.reduce((s, n, i) => s + (n.gossipReceived[t] ?? 0) - base[i]!, 0) / ((NODES - 1) * announces.length);
    const report = (name: string, r: Round, c: number) => {
      const sorted = [...r.latencies].sort((x, y) => x - y);
      const pairs = (NODES - 1) * announces.length;
      return row(
        [name, `${(((pairs - r.missing) / pairs) * 100).toFixed(1)} %`, fmtMs(pct(sorted, 50)), fmtMs(pct(sorted, 99)), fmtMs(sorted.at(-1) ?? NaN), c.toFixed(2), Math.round(wirePerNode(r)), `${(wirePerNode(r) / size).toFixed(2)}x`],
        [38, 10, 10, 10, 10, 12, 14, 10],
      );
    };
    /** Wire bytes per node per announce, idle traffic of the same duration removed. */
    const wirePerNode = (r: Round) => (r.wire - idleRate * r.ms) / (NODES * announces.length);
    const cFapp = copies(topic, before.fapp);
    const cRaw = copies(RAW_TOPIC, before.raw);
    console.log(`idle traffic ${Math.round(idleRate * 1000)} B/s for all ${NODES} nodes; measured windows: FAPP ${fmtMs(fapp.ms)} ms, raw ${fmtMs(raw.ms)} ms`);
    console.log(row(['', 'delivery', 'p50 ms', 'p99 ms', 'max ms', 'copies/node', 'wire B/node', 'ampl.'], [38, 10, 10, 10, 10, 12, 14, 10]));
    console.log(report('FAPP announce (validated)', fapp, cFapp));
    console.log(report('baseline: raw gossipsub, no validator', raw, cRaw));
    const p99 = (r: Round) => pct([...r.latencies].sort((x, y) => x - y), 99);
    console.log(
      `\nannounce size ${size} B; bytes on the wire per node per announce ${Math.round(wirePerNode(fapp))} B = ${(wirePerNode(fapp) / size).toFixed(2)}x its size (target < 8x), baseline ${(wirePerNode(raw) / size).toFixed(2)}x; payload copies ${cFapp.toFixed(2)}x, baseline ${cRaw.toFixed(2)}x`,
    );
    console.log(`p99 ${fmtMs(p99(fapp))} ms (target < 2000 ms) = ${(p99(fapp) / p99(raw)).toFixed(2)}x the baseline's p99; delivery ${fapp.missing === 0 ? '100 %' : `${fapp.missing} pairs missing`}`);
    console.log(`total ${fmtMs(performance.now() - started)} ms`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
