import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bareServer, loadClient, type LoadClient, serverTimer } from './_http.js';

// A server that answers each request with its method, path and body; `/status/N` answers N.
// It holds its answers until `gate` requests are waiting, then answers them all: a client that
// kept fewer in flight would never be answered.
let server: Server;
let client: LoadClient;
let gate = 1;
let inFlight = 0;
let mostInFlight = 0;
const held: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      held.push(() => {
        inFlight--;
        const status = /^\/status\/(\d{3})$/.exec(req.url ?? '')?.[1];
        res.writeHead(status ? Number(status) : 200, { 'content-type': 'application/json' });
        const type = req.headers['content-type'] ?? null;
        const body = Buffer.concat(chunks);
        // A body of another type comes back as hex, byte for byte.
        res.end(JSON.stringify({ method: req.method, path: req.url, type, body: type === null || type === 'application/json' ? body.toString() : body.toString('hex') }));
      });
      if (held.length >= gate) for (const answer of held.splice(0)) answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = loadClient((server.address() as AddressInfo).port);
});

afterAll(async () => {
  await client?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the benchmarks’ load client', () => {
  it('sends every request once and gives statuses, bodies and latencies in the order given', async () => {
    const requests = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0 ? { method: 'GET' as const, path: `/get/${i}` } : { method: 'POST' as const, path: `/post/${i}`, body: JSON.stringify({ i }) },
    );
    mostInFlight = 0;
    gate = 4;
    const res = await client.run(requests, { concurrency: 4, bodies: true });
    gate = 1;
    expect([...res.statuses]).toEqual(requests.map(() => 200));
    expect(res.bodies.map((b) => JSON.parse(b) as unknown)).toEqual(
      requests.map((r) => ({ method: r.method, path: r.path, type: r.body === undefined ? null : 'application/json', body: r.body ?? '' })),
    );
    expect(res.latencies).toHaveLength(20);
    for (const l of res.latencies) expect(l).toBeGreaterThan(0);
    expect(res.wallMs).toBeGreaterThanOrEqual(Math.max(...res.latencies));
    expect(mostInFlight).toBe(4);
  });

  it('keeps at most one request in flight when asked to', async () => {
    mostInFlight = 0;
    await client.run(Array.from({ length: 5 }, () => ({ method: 'GET' as const, path: '/one' })), { concurrency: 1 });
    expect(mostInFlight).toBe(1);
  });

  it('without bodies, keeps the first three responses that were not 2xx', async () => {
    const paths = ['/status/200', '/status/409', '/status/201', '/status/500', '/status/404', '/status/422'];
    const res = await client.run(
      paths.map((path) => ({ method: 'GET' as const, path })),
      { concurrency: 1 },
    );
    expect([...res.statuses]).toEqual([200, 409, 201, 500, 404, 422]);
    expect(res.bodies.map((b) => b.split(' ')[0])).toEqual(['409', '500', '404']);
  });

  it('sends prepared requests with their bodies, once', async () => {
    const requests = [
      { method: 'POST' as const, path: '/p/1', body: JSON.stringify({ a: 'ä'.repeat(3) }) },
      { method: 'GET' as const, path: '/p/2' },
    ];
    const prepared = await client.prepare(requests);
    expect(prepared.count).toBe(2);
    const res = await client.run(prepared, { concurrency: 1, bodies: true });
    expect(res.bodies.map((b) => JSON.parse(b) as unknown)).toEqual([
      { method: 'POST', path: '/p/1', type: 'application/json', body: requests[0]!.body },
      { method: 'GET', path: '/p/2', type: null, body: '' },
    ]);
    await expect(client.run(prepared, { concurrency: 1 })).rejects.toThrow(/load client: no prepared requests/);
  });

  it('sends a body of bytes exactly, with its content type', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const requests = [{ method: 'POST' as const, path: '/bin', body: bytes, contentType: 'application/protobuf' }];
    for (const given of [requests, await client.prepare(requests)]) {
      const res = await client.run(given, { concurrency: 1, bodies: true });
      expect(JSON.parse(res.bodies[0]!)).toEqual({ method: 'POST', path: '/bin', type: 'application/protobuf', body: Buffer.from(bytes).toString('hex') });
    }
  });

  it('rejects a run when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const lost = loadClient(port);
    try {
      await expect(lost.run([{ method: 'GET', path: '/' }], { concurrency: 1 })).rejects.toThrow(/load client: .*ECONNREFUSED/);
    } finally {
      await lost.close();
    }
  });

  it('times each request the server handles while its timer runs, from its arrival to its answer', async () => {
    // A server of its own, which holds the answer to /hold/N for N ms.
    const holding = createServer((req, res) => {
      const ms = Number(/^\/hold\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
      setTimeout(() => res.end('{}'), ms);
    });
    await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
    const other = loadClient((holding.address() as AddressInfo).port);
    const timer = serverTimer(holding);
    try {
      await other.run([{ method: 'GET', path: '/before' }], { concurrency: 1 });
      timer.start();
      await other.run(
        Array.from({ length: 6 }, (_, i) => ({ method: 'GET' as const, path: i % 2 === 0 ? '/hold/25' : '/now' })),
        { concurrency: 1 },
      );
      const times = timer.stop();
      await other.run([{ method: 'GET', path: '/after' }], { concurrency: 1 });
      expect(times).toHaveLength(6);
      times.forEach((t, i) => {
        expect(t).toBeGreaterThan(0);
        // A timer may fire up to a millisecond early by the loop's clock.
        if (i % 2 === 0) expect(t).toBeGreaterThanOrEqual(20);
      });
      expect(timer.stop()).toEqual([]);
    } finally {
      await other.close();
      await new Promise((resolve) => holding.close(resolve));
    }
  });

  it('has a bare server answer every request with the same body', async () => {
    const bare = await bareServer('{"results":[1,2,3]}');
    const other = loadClient(bare.port);
    try {
      const res = await other.run([{ method: 'GET', path: '/a' }, { method: 'POST', path: '/b', body: '{}' }], { concurrency: 1, bodies: true });
      expect([...res.statuses]).toEqual([200, 200]);
      expect(res.bodies).toEqual(['{"results":[1,2,3]}', '{"results":[1,2,3]}']);
    } finally {
      await other.close();
      await bare.close();
    }
  });
});
