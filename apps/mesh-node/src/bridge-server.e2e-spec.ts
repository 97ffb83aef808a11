import { fromBase64Url, sha256, toBase64Url, toHex, utf8 } from '@qpc/crypto';
import { createMeshNode, type MeshEvent, type MeshNode } from '@qpc/mesh';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from './bridge.js';
import { parseNodeOptions } from './options.js';
import { runNode, type RunningNode } from './run.js';

// The bridge against the real server in this process (apps/server/test/app.ts: a migrated
// database, the real FAPP routes), reached through Fastify's inject instead of a socket.
// Mesh: a plain node `a` linked to the bridged node `b`.
interface InjectResponse {
  statusCode: number;
  body: string;
}
interface ServerTestApp {
  app: { inject(o: { method: string; url: string; headers?: Record<string, string>; payload?: string | Buffer }): Promise<InjectResponse> };
  close(): Promise<void>;
}
interface TestAppModule {
  createTestApp(env?: Record<string, string>, opts?: { clock?: { now(): number } }): Promise<ServerTestApp>;
}

const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
let data: DemoDataset;
let server: ServerTestApp;
let dir: string;
let a: MeshNode;
let b: RunningNode;
const aEvents: MeshEvent[] = [];

/** Requests the bridge made, by method and path. */
const requests: string[] = [];
/** While set, the bridge's POSTs wait for it before they reach the server. */
let gate: Promise<void> | undefined;

const serverFetch: FetchLike = async (url, init) => {
  const u = new URL(url);
  requests.push(`${init?.method ?? 'GET'} ${u.pathname}`);
  if (init?.method === 'POST') await gate;
  const body = init?.body;
  const payload = body === undefined ? {} : { payload: typeof body === 'string' ? body : Buffer.from(body) };
  const res = await server.app.inject({ method: init?.method ?? 'GET', url: `${u.pathname}${u.search}`, headers: init?.headers ?? {}, ...payload });
  return { ok: res.statusCode < 300, status: res.statusCode, json: async () => JSON.parse(res.body) as unknown };
};

async function serverRegion(prefix: string): Promise<string[]> {
  const res = await server.app.inject({ method: 'GET', url: `/api/v1/fapp/regions/${prefix}/announces?limit=200` });
  expect(res.statusCode).toBe(200);
  return (JSON.parse(res.body) as { announces: string[] }).announces;
}

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 200, now: T0, seed: 'mesh-bridge-server-e2e' });
  // Typed by hand and loaded by path: the server's sources are type-checked by its own project.
  const serverTest = '../../server/test/app.js';
  const { createTestApp } = (await import(serverTest)) as TestAppModule;
  const authority = `Demo=${toHex(data.authority.keys.publicKey)}`;
  server = await createTestApp({ FAPP_AUTHORITIES: authority }, { clock: { now } });
  dir = mkdtempSync(join(tmpdir(), 'qpc-bridge-server-'));
  b = await runNode(
    parseNodeOptions(['--listen', '/ip4/127.0.0.1/tcp/0', '--control', 'off', '--no-dht', '--data-dir', dir, '--region', '10', '--server', 'http://127.0.0.1:1', '--authority', toHex(data.authority.keys.publicKey)]),
    { log: () => undefined, now, heartbeatIntervalMs: 100, fetch: serverFetch },
  );
  a = await createMeshNode({ identitySeed: sha256(utf8('bridge-server-e2e/a')), regions: ['10'], trust: data.authority.trust, now, heartbeatIntervalMs: 100, dht: false, onEvent: (e) => aEvents.push(e) });
  await a.dial(b.node.multiaddrs()[0]!);
  const topic = '/qpc/fapp/1/plz/10';
  const linked = () => a.meshPeers(topic).includes(b.node.peerId.toString()) && b.node.meshPeers(topic).includes(a.peerId.toString());
  // Gossipsub grafts at heartbeats: re-check at each of a's.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gossipsub mesh a - b did not form')), 15_000);
    const check = () => {
      if (!linked()) return;
      clearTimeout(timer);
      a.pubsub.removeEventListener('gossipsub:heartbeat', check);
      resolve();
    };
    a.pubsub.addEventListener('gossipsub:heartbeat', check);
    check();
  });
});

afterAll(async () => {
  await a?.stop();
  await b?.shutdown();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bridge to the real server', () => {
  const inRegion = () => data.therapists.filter((t) => t.plz.startsWith('10'));

  it('an announce published on the mesh reaches the server FAPP store', async () => {
    const t = inRegion()[0]!;
    expect((await a.publishAnnounce(t.announce)).kind).toBe('accepted');
    await expect.poll(async () => (await serverRegion('10')).map((x) => toHex(fromBase64Url(x)))).toContain(toHex(t.announce));
  });

  it('a burst of announces from the mesh reaches the server in two batches, each announce counted', async () => {
    const burst = inRegion().slice(2, 12);
    expect(burst.length).toBe(10);
    const before = requests.filter((r) => r === 'POST /api/v1/fapp/announces/batch').length;
    const pushed = b.bridge!.counters.pushed;
    // The first push waits at the gate until b has accepted the whole burst from the mesh.
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    for (const t of burst) expect((await a.publishAnnounce(t.announce)).kind).toBe('accepted');
    await expect.poll(() => burst.every((t) => b.node.store.byTherapist.has(toHex(t.signing.publicKey)))).toBe(true);
    gate = undefined;
    open();
    const held = async () => {
      const region = new Set((await serverRegion('10')).map((x) => toHex(fromBase64Url(x))));
      return burst.filter((t) => region.has(toHex(t.announce))).length;
    };
    await expect.poll(held).toBe(burst.length);
    await expect.poll(() => b.bridge!.counters.pushed).toBe(pushed + burst.length);
    expect(b.bridge!.counters.pushFailed).toBe(0);
    const batches = requests.filter((r) => r === 'POST /api/v1/fapp/announces/batch').length - before;
    // The first announce alone, then the nine that arrived while it was in flight together.
    expect(batches).toBe(2);
  });

  it('an announce posted to the server reaches a mesh node that has no server', async () => {
    const t = inRegion()[1]!;
    const posted = await server.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ announce: toBase64Url(t.announce) }) });
    expect(posted.statusCode).toBeLessThan(300);
    await b.bridge!.pullAll();
    const id = toHex(t.signing.publicKey);
    await expect.poll(() => a.announces('10').map((r) => r.therapistId)).toContain(id);
    expect(aEvents.some((e) => e.type === 'announce' && e.source === 'gossip' && e.outcome === 'accepted' && e.therapistId === id)).toBe(true);
  });
});
