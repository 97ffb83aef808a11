// A fresh database for one benchmark run: embedded PGlite in this process by default, or with
// DATABASE_URL set, a new database on that PostgreSQL server, dropped when the run ends.
import { openDataSource } from '../../apps/server/src/database/data-source.js';
import { startEmbeddedDatabaseThread } from '../../apps/server/src/database/embedded.js';

export interface BenchDb {
  url: string;
  backend: string;
  close(): Promise<void>;
}

export async function freshDatabase(name: string): Promise<BenchDb> {
  const given = process.env.DATABASE_URL;
  if (!given) {
    const db = await startEmbeddedDatabaseThread();
    return { url: db.url, backend: 'PGlite 0.5 (PostgreSQL 18 in WASM, on its own thread of this process, as the server runs it)', close: () => db.stop() };
  }
  const database = `qpc_bench_${name}_${process.pid}`;
  const admin = await openDataSource(given, 1);
  await admin.query(`CREATE DATABASE "${database}"`);
  const version: { server_version: string }[] = await admin.query('SHOW server_version');
  const u = new URL(given);
  u.pathname = `/${database}`;
  return {
    url: u.toString(),
    backend: `PostgreSQL ${version[0]?.server_version ?? '?'} (${u.host})`,
    async close() {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
