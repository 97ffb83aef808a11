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
import { Worker } from 'node:worker_threads';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  /** JSON text. */
  body?: string;
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

export interface LoadClient {
  /** Sends `requests`, `concurrency` of them in flight, each on a keep-alive connection. */
  run(requests: LoadRequest[], options: { concurrency: number; bodies?: boolean }): Promise<LoadResult>;
  close(): Promise<void>;
}

const WORKER = `
const { parentPort } = require('node:worker_threads');
const { Agent, request } = require('node:http');
const { performance } = require('node:perf_hooks');
const agent = new Agent({ keepAlive: true });
function call(port, r) {
  return new Promise((resolve, reject) => {
    const payload = r.body === undefined ? undefined : Buffer.from(r.body);
    const headers = payload ? { 'content-type': 'application/json', 'content-length': payload.length } : undefined;
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
  const n = m.requests.length;
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
        const res = await call(m.port, m.requests[i]);
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

/** A load client of `port` on 127.0.0.1. One run at a time; the worker keeps the process alive only during a run. */
export function loadClient(port: number): LoadClient {
  const worker = new Worker(WORKER, { eval: true });
  worker.unref();
  return {
    run(requests, { concurrency, bodies = false }) {
      return new Promise((resolve, reject) => {
        const onError = (e: Error) => {
          worker.unref();
          reject(e);
        };
        worker.once('error', onError);
        worker.once('message', (m: LoadResult | { error: string }) => {
          worker.off('error', onError);
          worker.unref();
          if ('error' in m) reject(new Error(`load client: ${m.error}`));
          else resolve(m);
        });
        worker.ref();
        worker.postMessage({ port, requests, concurrency, bodies });
      });
    },
    async close() {
      worker.postMessage({ close: true });
      await worker.terminate();
    },
  };
}
