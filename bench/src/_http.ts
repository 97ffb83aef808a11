// The load client of the benchmarks that host the server in their own process: HTTP/1.1 over
// loopback sockets, from a worker thread.
//
// - Over real sockets, as a client's requests arrive. Fastify's `inject` (light-my-request) was
//   used before. It keeps every injected request's objects reachable until the next young-generation
//   collection (about 8 KiB per request), and each collection then copies and promotes megabytes.
//   Against a bare Fastify route, 6 000 sequential requests gave 14 scavenges averaging 12–14 ms
//   that kept 3.2–3.5 MB each when injected, and 16 averaging 1.2 ms that kept 12 KB each over a
//   socket. The injected runs' pauses were the benchmark's, not the server's.
// - From a worker thread: the client's own work (writing requests, parsing responses) runs on
//   another thread with a heap of its own, as another process's would. It still shares the
//   machine's two cores with the server and the database, as a load generator on the same
//   machine does. Each request's latency is taken in the worker, from writing the request to
//   the last byte of the response.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  /** JSON text, or bytes sent as `contentType`. */
  body?: string | Uint8Array;
  /** Default `application/json`. */
  contentType?: string;
}

export interface LoadResult {
  /** Milliseconds per request, in the order given. */
  latencies: Float64Array;
  statuses: Int32Array;
  /** The response bodies, when asked for; else the first three that were not 2xx. */
  bodies: string[];
  /** From the first request written to the last response read. */
  wallMs: number;
}

/** Requests handed to the load client's thread ahead of a run (see `LoadClient.prepare`). */
export interface PreparedRequests {
  readonly id: number;
  readonly count: number;
}

export interface LoadClient {
  /**
   * Hands `requests` to the client's thread and encodes their bodies there, ahead of the run
   * that sends them: copying them to the thread (for a batch ingest, megabytes of JSON text) is
   * then neither in that run's time nor in the CPU time or heap of this thread during it. A
   * prepared set is sent by one run.
   */
  prepare(requests: LoadRequest[]): Promise<PreparedRequests>;
  /** Sends `requests` (prepared or not), `concurrency` of them in flight, each on a keep-alive connection. */
  run(requests: LoadRequest[] | PreparedRequests, options: { concurrency: number; bodies?: boolean }): Promise<LoadResult>;
  close(): Promise<void>;
}

const WORKER = `
const { parentPort } = require('node:worker_threads');
const { Agent, request } = require('node:http');
const { performance } = require('node:perf_hooks');
const agent = new Agent({ keepAlive: true });
const prepared = new Map();
function encode(requests) {
  return requests.map((r) => ({ method: r.method, path: r.path, contentType: r.contentType || 'application/json', payload: r.body === undefined ? undefined : Buffer.from(r.body) }));
}
function call(port, r) {
  return new Promise((resolve, reject) => {
    const payload = r.payload;
    const headers = payload ? { 'content-type': r.contentType, 'content-length': payload.length } : undefined;
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
parentPort.on('message', async (m) => {
  if (m.close) { agent.destroy(); parentPort.close(); return; }
  if (m.prepare !== undefined) { prepared.set(m.prepare, encode(m.requests)); parentPort.postMessage({ prepared: m.prepare }); return; }
  const requests = m.requests ? encode(m.requests) : prepared.get(m.prepared);
  prepared.delete(m.prepared);
  if (!requests) { parentPort.postMessage({ error: 'no prepared requests ' + m.prepared }); return; }
  const n = requests.length;
  const latencies = new Float64Array(n);
  const statuses = new Int32Array(n);
  const bodies = [];
  let next = 0;
  try {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(m.concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        const res = await call(m.port, requests[i]);
        latencies[i] = performance.now() - s;
        statuses[i] = res.status;
        if (m.bodies) bodies[i] = res.body;
        else if ((res.status < 200 || res.status > 299) && bodies.length < 3) bodies.push(res.status + ' ' + res.body.slice(0, 500));
      }
    }));
    const wallMs = performance.now() - t0;
    parentPort.postMessage({ latencies, statuses, bodies, wallMs }, [latencies.buffer, statuses.buffer]);
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.stack || e) });
  }
});
`;

/** A load client of `port` on 127.0.0.1. One run or prepare at a time; the worker keeps the process alive only during one. */
export function loadClient(port: number): LoadClient {
  const worker = new Worker(WORKER, { eval: true });
  worker.unref();
  let nextId = 0;
  /** Posts `message` and resolves with the worker's answer (one exchange at a time). */
  const exchange = <T>(message: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const onError = (e: Error) => {
        worker.unref();
        reject(e);
      };
      worker.once('error', onError);
      worker.once('message', (m: T | { error: string }) => {
        worker.off('error', onError);
        worker.unref();
        if (typeof m === 'object' && m !== null && 'error' in m) reject(new Error(`load client: ${m.error}`));
        else resolve(m as T);
      });
      worker.ref();
      worker.postMessage(message);
    });
  return {
    async prepare(requests) {
      const id = ++nextId;
      await exchange<{ prepared: number }>({ prepare: id, requests });
      return { id, count: requests.length };
    },
    run(requests, { concurrency, bodies = false }) {
      return exchange<LoadResult>(Array.isArray(requests) ? { port, requests, concurrency, bodies } : { port, prepared: requests.id, concurrency, bodies });
    },
    async close() {
      worker.postMessage({ close: true });
      await worker.terminate();
    },
  };
}

/** Times requests inside the server: see `serverTimer`. */
export interface ServerTimer {
  /** Times the requests that arrive from now on. */
  start(): void;
  /** Stops timing; the milliseconds of each request timed since `start`, in the order they arrived. */
  stop(): number[];
}

/**
 * The time each request spends in `server`'s process, from its headers parsed (the `request`
 * event) to its response's last byte handed to the socket (`finish`), for the benchmarks that host
 * the server: beside the load client's latency it tells the server's own time from the time a
 * request spends in the kernel, in the client's thread and waiting for a core. A request still
 * in flight at `stop` is not counted.
 */
export function serverTimer(server: Server): ServerTimer {
  let into: number[] | undefined;
  server.prependListener('request', (_req, res) => {
    const times = into;
    if (!times) return;
    const i = times.length;
    times.push(NaN);
    const started = performance.now();
    res.once('finish', () => {
      times[i] = performance.now() - started;
    });
  });
  return {
    start() {
      into = [];
    },
    stop() {
      const times = into ?? [];
      into = undefined;
      return times.filter((t) => !Number.isNaN(t));
    },
  };
}

/**
 * A bare `node:http` server on 127.0.0.1 that answers every request with `body` as JSON: no
 * framework, no routing, no work. Timed through the same load client, it is the floor of a
 * request over loopback on this machine, against which the server's figures are read.
 */
export async function bareServer(body: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
