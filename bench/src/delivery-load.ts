// Load generator for bench/src/delivery.ts, run as a child process so the clients do not share
// the server's event loop. Talks to the parent over IPC: one request, one answer per phase.
// (Not a benchmark of its own: `npm run bench -- delivery` starts it.)
import { Agent, request } from 'node:http';
import { Pool, type PoolClient } from 'pg';
import { type AnswerFrame, SocketSender } from '@qpc/sdk';
import { WebSocket } from 'ws';
import { watchProcess } from './_util.js';

export interface Pair {
  senderToken: string;
  recipientToken: string;
  recipientDeviceId: string;
  senderDeviceId: string;
  groupId: string;
  /**
   * The pair's MLS application messages (base64url), encrypted in order during the unmeasured
   * setup: each send takes the next one (after the last, it starts over and counts a reuse).
   */
  messages: string[];
  groupIdBytes: string;
}

/** How senders send: `POST /groups/:id/messages`, or a `send` frame on their own push socket. */
export type Via = 'http' | 'ws';

type Phase =
  | { kind: 'closed'; port: number; pairs: Pair[]; ms: number; via: Via }
  | { kind: 'open'; port: number; pairs: Pair[]; ms: number; ratePerSec: number; via: Via }
  | { kind: 'raw'; databaseUrl: string; pairs: Pair[]; ms: number; poolSize: number };

/** `pairs` once during setup (megabytes of ciphertext: not sent again inside a measured phase), then phases. */
export type LoadRequest = { kind: 'pairs'; pairs: Pair[] } | WithoutPairs<Phase>;
type WithoutPairs<P> = P extends unknown ? Omit<P, 'pairs'> : never;

export interface LoadResult {
  /** Sends that had to reuse a message of the pair's stock (it ran out). */
  reused?: number;
  /** Closed loop: the stock indexes of the messages pushed to pair 0's recipient, in order (the parent decrypts them). */
  sample?: number[];
  messages: number;
  ms: number;
  /** Enqueue (request start) to push (frame at the recipient), ms. */
  latencies: number[];
  errors: string[];
  /** CPU time of this (client) process during the phase, ms. */
  cpuMs?: number;
  /** Open loop: this (client) process's event-loop delay and GC pauses during the phase (watchProcess). */
  stalls?: string;
}

/** Per pair: the next stock index to send (kept across phases: every send is a new ciphertext until the stock runs out). */
const cursors = new Map<number, number>();
let reused = 0;
function nextMessage(i: number, p: Pair): string {
  const k = cursors.get(i) ?? 0;
  cursors.set(i, k + 1);
  if (k >= p.messages.length) reused++;
  return p.messages[k % p.messages.length]!;
}

interface Conn {
  ws: WebSocket;
  onMessages: (seqs: number[], at: number, payloads: string[]) => void;
  ack(upTo: number): void;
  close(): void;
}

async function openRecipient(port: number, token: string): Promise<Conn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
  const conn: Conn = {
    ws,
    onMessages: () => undefined,
    // As the SDK acks: no `acked` frame back.
    ack: (upTo) => ws.send(JSON.stringify({ type: 'ack', upTo, reply: false })),
    close: () => ws.close(),
  };
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((r) => (ready = r));
  ws.on('message', (d) => {
    const at = performance.now();
    const f = JSON.parse(String(d)) as { type: string; messages?: { seq: number; payload: string }[] };
    if (f.type === 'ready') ready();
    else if (f.type === 'messages')
      conn.onMessages(
        f.messages!.map((m) => m.seq),
        at,
        f.messages!.map((m) => m.payload),
      );
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', token, after: 0 }));
  await isReady;
  return conn;
}

/** Keep-alive connections, one per pair in flight (node:http: less client CPU than fetch on these 2 shared cores). */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

async function send(port: number, p: Pair, i: number): Promise<number> {
  const body = JSON.stringify({ clientMessageId: crypto.randomUUID(), message: nextMessage(i, p) });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: 'POST',
        path: `/api/v1/groups/${p.groupId}/messages`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${p.senderToken}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  const parsed = JSON.parse(text) as { deliveries?: { seq: number }[]; code?: string };
  if (status !== 201 || !parsed.deliveries?.[0]) throw new Error(`send ${status} ${parsed.code ?? ''}`);
  return parsed.deliveries[0].seq;
}

type SendFn = (p: Pair, i: number) => Promise<number>;

/** Senders over HTTP (keep-alive) or, with `ws`, one push socket per sender with `send` frames (the SDK's SocketSender). */
async function senders(port: number, pairs: Pair[], via: Via): Promise<{ send: SendFn; close(): void }> {
  if (via === 'http') return { send: (p, i) => send(port, p, i), close: () => undefined };
  const sockets = await Promise.all(
    pairs.map(async (p) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
      const sender = new SocketSender(ws);
      let ready: () => void = () => undefined;
      const isReady = new Promise<void>((r) => (ready = r));
      ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as AnswerFrame;
        if (!sender.answer(f) && f.type === 'ready') ready();
      });
      ws.on('close', () => sender.close());
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.send(JSON.stringify({ type: 'hello', token: p.senderToken, after: 0 }));
      await isReady;
      return { ws, sender };
    }),
  );
  return {
    send: async (p, i) => {
      const r = await sockets[i]!.sender.request<{ deliveries: { seq: number }[] }>({ type: 'send', groupId: p.groupId, clientMessageId: crypto.randomUUID(), message: nextMessage(i, p) });
      if (!r.deliveries[0]) throw new Error('send: no delivery');
      return r.deliveries[0].seq;
    },
    close: () => sockets.forEach((s) => s.ws.close()),
  };
}

/** Per pair: send, wait for the push, ack over the socket, next. N messages in flight. */
async function closedLoop(req: Extract<Phase, { kind: 'closed' }>): Promise<LoadResult> {
  const conns = await Promise.all(req.pairs.map((p) => openRecipient(req.port, p.recipientToken)));
  const out = await senders(req.port, req.pairs, req.via);
  const latencies: number[] = [];
  const errors: string[] = [];
  const index = new Map(req.pairs[0]!.messages.map((m, k) => [m, k]));
  const sample: number[] = [];
  let messages = 0;
  const start = performance.now();
  const deadline = start + req.ms;
  await Promise.all(
    req.pairs.map(async (p, i) => {
      const c = conns[i]!;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const pushed = new Promise<{ seq: number; at: number }>(
          (resolve) =>
            (c.onMessages = (seqs, at, payloads) => {
              if (i === 0) sample.push(...payloads.map((m) => index.get(m) ?? -1));
              resolve({ seq: seqs[seqs.length - 1]!, at });
            }),
        );
        try {
          await out.send(p, i);
        } catch (e) {
          if (errors.length < 5) errors.push((e as Error).message);
          continue;
        }
        const { seq, at } = await pushed;
        latencies.push(at - t0);
        c.ack(seq);
        messages++;
      }
    }),
  );
  const ms = performance.now() - start;
  conns.forEach((c) => c.close());
  out.close();
  return { messages, ms, latencies, errors, sample };
}

/** Sends at a fixed total rate regardless of completions; latency = request start to push arrival. */
async function openLoop(req: Extract<Phase, { kind: 'open' }>): Promise<LoadResult> {
  const conns = await Promise.all(req.pairs.map((p) => openRecipient(req.port, p.recipientToken)));
  const out = await senders(req.port, req.pairs, req.via);
  const latencies: number[] = [];
  const errors: string[] = [];
  const sentAt = req.pairs.map(() => new Map<number, number>());
  const pushedAt = req.pairs.map(() => new Map<number, number>());
  conns.forEach((c, i) => {
    c.onMessages = (seqs, at) => {
      for (const s of seqs) {
        const t0 = sentAt[i]!.get(s);
        if (t0 !== undefined) {
          latencies.push(at - t0);
          sentAt[i]!.delete(s);
        } else pushedAt[i]!.set(s, at);
      }
      c.ack(seqs[seqs.length - 1]!);
    };
  });
  const interval = 1000 / req.ratePerSec;
  const watch = watchProcess();
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  let n = 0;
  while (performance.now() - start < req.ms) {
    const due = start + n * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const i = n % req.pairs.length;
    const t0 = performance.now();
    n++;
    inflight.push(
      out.send(req.pairs[i]!, i).then(
        (seq) => {
          const at = pushedAt[i]!.get(seq);
          if (at !== undefined) {
            latencies.push(at - t0);
            pushedAt[i]!.delete(seq);
          } else sentAt[i]!.set(seq, t0);
        },
        (e: Error) => {
          if (errors.length < 5) errors.push(e.message);
        },
      ),
    );
  }
  await Promise.all(inflight);
  const until = performance.now() + 5000;
  while (latencies.length < n - errors.length && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  const ms = performance.now() - start;
  const stalls = watch.stop();
  conns.forEach((c) => c.close());
  out.close();
  return { messages: n, ms, latencies, errors, stalls };
}

/**
 * The same database work done raw with `pg`: per message one transaction that takes the queue's
 * next sequence and inserts the row, then the ack's delete from the previous ack on (one
 * statement, as the server does).
 */
async function raw(req: Extract<Phase, { kind: 'raw' }>): Promise<LoadResult> {
  const pool = new Pool({ connectionString: req.databaseUrl, max: req.poolSize });
  const errors: string[] = [];
  let failures = 0;
  // An idle client's error (the database dropped it) is reported, not fatal.
  pool.on('error', (e) => {
    if (errors.length < 5) errors.push(`idle client: ${e.message}`);
  });
  // Where each queue's last ack ended (not timed).
  const heads = await pool.query<{ device_id: string; acked_seq: string }>(`SELECT device_id, acked_seq FROM queue_head WHERE device_id = ANY($1)`, [req.pairs.map((p) => p.recipientDeviceId)]);
  const ackedAt = new Map(heads.rows.map((r) => [r.device_id, r.acked_seq]));
  let messages = 0;
  const start = performance.now();
  const deadline = start + req.ms;
  await Promise.all(
    req.pairs.map(async (p) => {
      const payload = Buffer.from(p.messages[0]!, 'base64url');
      const gid = Buffer.from(p.groupIdBytes, 'base64url');
      let acked = ackedAt.get(p.recipientDeviceId) ?? '0';
      while (performance.now() < deadline) {
        let c: PoolClient | undefined;
        try {
          c = await pool.connect();
          await c.query('BEGIN');
          const r = await c.query<{ seq: string }>(`UPDATE queue_head SET next_seq = next_seq + 1, depth = depth + 1 WHERE device_id = $1 RETURNING next_seq - 1 AS seq`, [p.recipientDeviceId]);
          const seq = r.rows[0]!.seq;
          await c.query(`INSERT INTO queued_message (device_id, seq, payload, sender_device_id, group_id, enqueued_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
            p.recipientDeviceId,
            seq,
            payload,
            p.senderDeviceId,
            gid,
            new Date(),
          ]);
          await c.query('COMMIT');
          c.release();
          c = undefined;
          // The ack deletes from the previous ack on, as the server's does (queue_head.acked_seq).
          await pool.query(
            `WITH d AS (DELETE FROM queued_message WHERE device_id = $1 AND seq > $3 AND seq <= $2 RETURNING 1)
             UPDATE queue_head SET depth = depth - (SELECT count(*) FROM d), acked_seq = $2 WHERE device_id = $1 RETURNING depth`,
            [p.recipientDeviceId, seq, acked],
          );
          acked = seq;
          messages++;
        } catch (e) {
          if (c) {
            await c.query('ROLLBACK').catch(() => undefined);
            c.release();
          }
          failures++;
          if (errors.length < 5) errors.push((e as Error).message);
        }
      }
    }),
  );
  const ms = performance.now() - start;
  if (failures > 0) errors.push(`${failures} raw transactions failed`);
  await pool.end();
  return { messages, ms, latencies: [], errors };
}

if (!process.send) {
  console.error('delivery-load is the client process of `npm run bench -- delivery`; run that instead');
  process.exit(2);
}

let pairs: Pair[] = [];

process.on('message', (msg: LoadRequest) => {
  if (msg.kind === 'pairs') {
    pairs = msg.pairs;
    process.send!({ messages: 0, ms: 0, latencies: [], errors: [] });
    return;
  }
  const req = { ...msg, pairs } as Phase;
  const cpu = process.cpuUsage();
  const run = req.kind === 'closed' ? closedLoop(req) : req.kind === 'open' ? openLoop(req) : raw(req);
  run.then(
    (r) => {
      const used = process.cpuUsage(cpu);
      process.send!({ ...r, cpuMs: (used.user + used.system) / 1000, reused });
    },
    (e: Error) => process.send!({ messages: 0, ms: 0, latencies: [], errors: [e.stack ?? e.message] }),
  );
});
