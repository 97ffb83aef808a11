import { sha256, signingKeyPairFromSeed, toHex, utf8 } from '@qpc/crypto';
import { createMeshEnvelope } from '@qpc/mesh';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryControl } from './control-client.js';
import { parseNodeOptions, type ControlAddress } from './options.js';
import { runNode, type LogLine, type RunningNode } from './run.js';

// Two qpc-nodes (a - b) with their loopback control endpoints; b holds mail for an offline recipient.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
let data: DemoDataset;
let dir: string;
let a: RunningNode;
let b: RunningNode;
let controlB: ControlAddress;

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 30, now: T0, seed: 'mesh-control-e2e' });
  dir = mkdtempSync(join(tmpdir(), 'qpc-node-control-'));
  const args = (name: string) => ['--listen', '/ip4/127.0.0.1/tcp/0', '--control', '127.0.0.1:0', '--no-dht', '--data-dir', join(dir, name), '--region', '10', '--authority', toHex(data.authority.keys.publicKey)];
  a = await runNode(parseNodeOptions(args('a')), { log: () => undefined, now, heartbeatIntervalMs: 100 });
  const aAddress = a.node.addressHex;
  let routed!: () => void;
  const routeToA = new Promise<void>((r) => (routed = r));
  b = await runNode(parseNodeOptions([...args('b'), '--bootstrap', a.node.multiaddrs()[0]!]), {
    log: (l) => {
      if (l.event === 'route' && l.address === aAddress) routed();
    },
    now,
    heartbeatIntervalMs: 100,
  });
  controlB = { host: '127.0.0.1', port: b.control!.port };
  await routeToA;
  const t = data.therapists.find((x) => x.plz.startsWith('10'))!;
  await b.node.publishAnnounce(t.announce);
  const sender = signingKeyPairFromSeed(sha256(utf8('control-e2e/sender')));
  const offline = signingKeyPairFromSeed(sha256(utf8('control-e2e/offline')));
  const env = createMeshEnvelope({ sender, recipient: sha256(offline.publicKey).slice(0, 16), payload: utf8('sealed'), nowMs: now(), ttlMs: 3600_000 });
  expect((await b.node.send(env)).kind).toBe('stored');
});

afterAll(async () => {
  await Promise.all([a?.shutdown(), b?.shutdown()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('qpc-node control endpoint', () => {
  it('status: ids, peers, topics, store and queue sizes', async () => {
    const status = JSON.parse(await queryControl('status', controlB)) as Record<string, unknown>;
    expect(status).toMatchObject({
      peerId: b.node.peerId.toString(),
      meshAddress: b.node.addressHex,
      peers: 1,
      topics: ['/qpc/fapp/1/plz/10'],
      announces: 1,
      routes: 1,
      saf: { recipients: 1, envelopes: 1 },
      envelopes: { stored: 1 },
    });
  });

  it('peers: by peer id, transport and route, never by IP address', async () => {
    const text = await queryControl('peers', controlB);
    expect(text).toBe(`${a.node.peerId.toString()} outbound tcp 1 hop\n`);
    const res = await fetch(`http://127.0.0.1:${controlB.port}/peers`);
    expect(await res.text()).not.toMatch(/127\.0\.0\.1|\/ip4\//);
  });

  it('metrics: Prometheus text with peers, announces, forwarded/dropped envelopes and queue depth', async () => {
    const res = await fetch(`http://127.0.0.1:${controlB.port}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('qpc_mesh_peers 1\n');
    expect(text).toContain('qpc_mesh_announces_stored 1\n');
    expect(text).toContain('qpc_mesh_saf_queue_envelopes 1\n');
    expect(text).toContain('qpc_mesh_envelopes_forwarded_total 0\n');
    expect(text).toContain('qpc_mesh_envelopes_dropped_total{reason="hop-limit"} 0\n');
  });

  it('refuses other methods and paths with problem+json', async () => {
    const post = await fetch(`http://127.0.0.1:${controlB.port}/status`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('content-type')).toBe('application/problem+json');
    expect(((await post.json()) as { code: string }).code).toBe('METHOD_NOT_ALLOWED');
    const missing = await fetch(`http://127.0.0.1:${controlB.port}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('NOT_FOUND');
  });

  it('answers the qpc-node CLI from another process', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=source', '--import', '@swc-node/register/esm-register', join(import.meta.dirname, 'main.ts'), 'peers', '--control', `127.0.0.1:${controlB.port}`],
      { timeout: 15_000, env: { ...process.env, SWC_NODE_PROJECT: join(import.meta.dirname, '..', 'tsconfig.json') } },
    );
    expect(stdout).toBe(`${a.node.peerId.toString()} outbound tcp 1 hop\n`);
  });
});

describe('qpc-node over QUIC', () => {
  it('listens on QUIC when --listen names a quic-v1 address; the log names the UDP port, peers the QUIC link', async () => {
    const base = (name: string) => ['--control', '127.0.0.1:0', '--no-dht', '--data-dir', join(dir, name), '--region', '10', '--authority', toHex(data.authority.keys.publicKey)];
    const logs: LogLine[] = [];
    const c = await runNode(parseNodeOptions(['--listen', '/ip4/127.0.0.1/udp/0/quic-v1', ...base('quic-c')]), { log: (l) => logs.push(l), now, heartbeatIntervalMs: 100 });
    let d: RunningNode | undefined;
    try {
      const addr = c.node.multiaddrs()[0]!;
      expect(addr).toMatch(/^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/p2p\//);
      const started = logs.find((l) => l.event === 'started')!;
      expect(started.ports).toEqual([Number(/\/udp\/(\d+)/.exec(addr)![1])]);
      // d listens on TCP only; the QUIC bootstrap address turns the transport on for dialling.
      d = await runNode(parseNodeOptions(['--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', addr, ...base('quic-d')]), { log: () => undefined, now, heartbeatIntervalMs: 100 });
      const text = await queryControl('peers', { host: '127.0.0.1', port: d.control!.port });
      expect(text).toMatch(new RegExp(`^${c.node.peerId.toString()} outbound quic `));
    } finally {
      await Promise.all([c.shutdown(), d?.shutdown()]);
    }
  });
});
