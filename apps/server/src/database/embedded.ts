import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabase {
  url: string;
  pglite: PGlite;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Data directory; omitted = in memory. */
  dataDir?: string;
  /** A dump made by `dumpDataDir()` to start from (tests restore a migrated snapshot this way). */
  loadDataDir?: Blob | File;
  port?: number;
  maxConnections?: number;
}

/**
 * Settings of the embedded database beyond PGlite's own defaults.
 *
 * `wal_init_zero=off`: a new 16 MiB WAL segment is not filled with zeroes first. PGlite creates
 * one for every 16 MiB of WAL (until `max_wal_size`, 1 GiB, forces a checkpoint that recycles
 * old ones), and zero-filling it ran inside the statement that crossed the boundary: under
 * sustained writes (a message is about 1.5 KiB of WAL) that statement, and every query queued
 * behind it, stalled for 100-270 ms about every 10 000 messages. Without zeroing, a loop of
 * 35 000 such messages had no statement over 30 ms, against three stalls of 160-206 ms with it.
 * The price is PostgreSQL's documented one: space for WAL is not reserved up front.
 */
export const EMBEDDED_SETTINGS: readonly string[] = ['-c', 'wal_init_zero=off'];

/**
 * Runs PGlite (PostgreSQL compiled to WASM) in this process and serves it on
 * 127.0.0.1 over the PostgreSQL wire protocol, so the server talks to it with the same
 * `pg` driver it uses for a real PostgreSQL. PGlite executes one query at a time; the
 * socket server queues the connections' messages; `keepBatchesWhole` makes that queue keep a
 * transaction and an extended-protocol batch on their own connection.
 */
export async function startEmbeddedDatabase(opts: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
  });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: opts.port ?? 0, maxConnections: opts.maxConnections ?? 32 });
  keepBatchesWhole(server, db);
  await server.start();
  const conn = server.getServerConn();
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    pglite: db,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

export interface EmbeddedDatabaseThread {
  url: string;
  stop(): Promise<void>;
}

/**
 * `startEmbeddedDatabase` on a worker thread of its own (how the server runs it): PGlite
 * executes statements synchronously, so on the server's thread every statement would stall
 * every request in flight; on its own thread it uses another core, and the server reaches it
 * over 127.0.0.1 exactly as before. `loadDataDir` is not supported here (tests use the
 * in-thread form).
 */
export async function startEmbeddedDatabaseThread(opts: Omit<EmbeddedOptions, 'loadDataDir'> = {}): Promise<EmbeddedDatabaseThread> {
  // From sources (tests, benchmarks) the thread loads the .ts file through the same loader
  // hooks (execArgv is inherited); from a build, the compiled .js beside this one.
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const worker = new Worker(new URL(`./embedded-thread.${ext}`, import.meta.url), { workerData: opts });
  const first = await new Promise<{ url?: string; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`embedded database thread exited with code ${code}`)));
  });
  if (!first.url) {
    await worker.terminate();
    throw new Error(`embedded database did not start: ${first.error ?? 'unknown error'}`);
  }
  return {
    url: first.url,
    async stop() {
      const stopped = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(error: unknown): void;
  onData(data: Uint8Array): void;
}
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Frontend messages that leave an extended-protocol batch open until the connection's Sync. */
const BATCH_MESSAGES = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/**
 * pglite-socket 0.2.17 runs the messages of all connections through one PGlite session, one
 * message at a time, and keeps a connection's messages together only inside a transaction
 * (upstream electric-sql/pglite#1046). An extended-protocol batch (Parse, Bind, Describe,
 * Execute … Sync), which node-postgres sends for every parameterised query, is not a
 * transaction: another connection's Parse could replace the unnamed statement between this
 * connection's Parse and Bind ("bind message supplies 2 parameters", results of the wrong
 * query), and one failed message left the queue stuck for good. This replaces the queue's
 * scheduler: the connection that opened a batch or a transaction owns the session until its
 * Sync or COMMIT; a failure rejects that message only; a connection that goes away in the
 * middle of a batch has the batch closed for it, so the next connection starts clean.
 */
function keepBatchesWhole(server: PGLiteSocketServer, db: PGlite): void {
  const q = (server as unknown as { queryQueue?: QueryQueue }).queryQueue;
  if (!q || !Array.isArray(q.queue) || typeof q.processQueue !== 'function' || typeof q.clearQueueForHandler !== 'function') {
    throw new Error('pglite-socket internals changed: review keepBatchesWhole in apps/server/src/database/embedded.ts');
  }
  let batchOwner: number | null = null;
  q.processQueue = async () => {
    if (q.processing) return;
    q.processing = true;
    try {
      while (q.queue.length > 0) {
        const owner = batchOwner ?? (db.isInTransaction() ? q.lastHandlerId : null);
        const at = owner === null ? 0 : q.queue.findIndex((m) => m.handlerId === owner);
        if (at === -1) break; // the owner's next message re-enters the scheduler
        const [item] = q.queue.splice(at, 1);
        if (!item) break;
        let bytes = 0;
        try {
          await db.runExclusive(() =>
            db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          q.lastHandlerId = item.handlerId;
          batchOwner = BATCH_MESSAGES.has(item.message[0] ?? 0) ? item.handlerId : null;
          item.resolve(bytes);
        } catch (e) {
          batchOwner = null;
          item.reject(e);
        }
      }
    } finally {
      q.processing = false;
    }
  };
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (batchOwner !== handlerId) return;
    batchOwner = null;
    // Close the abandoned batch (its statement, portal or error state) before anyone else runs.
    void db
      .runExclusive(() => db.execProtocolRaw(SYNC))
      .catch(() => undefined)
      .finally(() => void q.processQueue());
  };
}
