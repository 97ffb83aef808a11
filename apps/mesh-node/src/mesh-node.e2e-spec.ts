import { meshAddress, sha256, signingKeyPairFromSeed, toBase64Url, toHex, utf8 } from '@qpc/crypto';
import { decodeAnnounceBatch } from '@qpc/fapp';
import { createMeshEnvelope, createMeshNode } from '@qpc/mesh';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNodeOptions } from './options.js';
import { runNode, type LogLine } from './run.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
let data: DemoDataset;
let dir: string;
let server: Server;
let serverUrl: string;
const posted: string[] = [];
let regionAnnounces: string[] = [];

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 60, now: T0, seed: 'mesh-node-e2e' });
  dir = mkdtempSync(join(tmpdir(), 'qpc-node-'));
  // A stand-in for the server's two FAPP routes the bridge uses (the real ones are tested in apps/server).
  server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/api/v1/fapp/announces/batch' && req.headers['content-type'] === 'application/protobuf') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const items = decodeAnnounceBatch(new Uint8Array(Buffer.concat(chunks)));
        posted.push(...items.map(toBase64Url));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: items.map((_, index) => ({ index, status: 'stored' })) }));
      });
      return;
    }
    const m = /^\/api\/v1\/fapp\/regions\/(\d+)\/announces/.exec(req.url ?? '');
    if (req.method === 'GET' && m) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ announces: regionAnnounces, unavailable: [], nextCursor: null }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  serverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('qpc-node', () => {
  it('keeps its identity and its store-and-forward queue across a restart', async () => {
    const logs: LogLine[] = [];
    const opts = parseNodeOptions(['--listen', '/ip4/127.0.0.1/tcp/0', '--control', 'off', '--data-dir', join(dir, 'a'), '--region', '10']);
    const first = await runNode(opts, { log: (l) => logs.push(l), now });
    const peerId = first.node.peerId.toString();
    const recipient = signingKeyPairFromSeed(sha256(utf8('node-e2e/recipient')));
    const sender = signingKeyPairFromSeed(sha256(utf8('node-e2e/sender')));
    const envelope = createMeshEnvelope({ sender, recipient: meshAddress(recipient.publicKey), payload: utf8('sealed bytes'), nowMs: now(), ttlMs: 3600_000 });
    expect(first.node.saf.deposit(envelope, now()).kind).toBe('stored');
    await first.shutdown();

    const second = await runNode(opts, { log: (l) => logs.push(l), now });
    try {
      expect(second.node.peerId.toString()).toBe(peerId);
      expect(second.node.saf.stats().envelopes).toBe(1);
      const fetcher = await createMeshNode({ identitySeed: sha256(utf8('node-e2e/recipient')), trust: data.authority.trust, now, dht: false, routing: false });
      try {
        const mail = await fetcher.fetchMail(second.node.multiaddrs()[0]!, recipient);
        expect(mail.map((m) => new TextDecoder().decode(m.payload))).toEqual(['sealed bytes']);
      } finally {
        await fetcher.stop();
      }
    } finally {
      await second.shutdown();
    }
    expect(logs.map((l) => l.event)).toEqual(expect.arrayContaining(['started', 'stopped', 'saf']));
    // Log lines name peers by id and ports by number, never by IP address.
    expect(JSON.stringify(logs)).not.toMatch(/127\.0\.0\.1|\/ip4\//);
  });

  it('bridges: pulls a region from the server into the mesh and pushes mesh announces to the server', async () => {
    const trustArgs = ['--authority', toHex(data.authority.keys.publicKey)];
    const inRegion = data.therapists.filter((t) => t.plz.startsWith('10'));
    const [fromServer, fromMesh] = [inRegion[0]!, inRegion[1]!];
    regionAnnounces = [toBase64Url(fromServer.announce)];
    const bridged = await runNode(parseNodeOptions(['--listen', '/ip4/127.0.0.1/tcp/0', '--control', 'off', '--data-dir', join(dir, 'b'), '--region', '10', '--server', serverUrl, ...trustArgs]), {
      log: () => undefined,
      now,
    });
    try {
      await bridged.bridge!.pullAll();
      expect(bridged.node.announces('10').map((r) => r.therapistId)).toContain(toHex(fromServer.signing.publicKey));
      expect(posted).toEqual([]);

      bridged.node.ingest(fromMesh.announce, 'gossip');
      await bridged.bridge!.stop();
      expect(posted).toEqual([toBase64Url(fromMesh.announce)]);
      expect(bridged.node.announces('10')[0]!.verified).toBe(true);
    } finally {
      await bridged.shutdown();
    }
  });
});
