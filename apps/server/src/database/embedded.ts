import { mkdirSync } from 'node:fs';
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
 * Runs PGlite (PostgreSQL compiled to WASM) in this process and serves it on
 * 127.0.0.1 over the PostgreSQL wire protocol, so the server talks to it with the same
 * `pg` driver it uses for a real PostgreSQL. PGlite executes one query at a time; the
 * socket server queues connections and keeps a transaction on its own connection.
 */
export async function startEmbeddedDatabase(opts: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
  });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: opts.port ?? 0, maxConnections: opts.maxConnections ?? 32 });
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
