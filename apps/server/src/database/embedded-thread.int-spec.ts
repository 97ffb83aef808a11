import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedDatabaseThread } from './embedded.js';

// The server's build runs its embedded database on a worker thread (main.ts). This drives the
// compiled module, as `npm start` does (`npm test` builds first): the thread starts, serves
// PostgreSQL clients on 127.0.0.1, leaves the caller's event loop free while a statement runs,
// and stops.

const BUILT = fileURLToPath(new URL('../../dist/database/embedded.js', import.meta.url));
let db: EmbeddedDatabaseThread;

beforeAll(async () => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: build the server first (npm run build:server; npm test does)`);
  const { startEmbeddedDatabaseThread } = (await import(BUILT)) as typeof import('./embedded.js');
  db = await startEmbeddedDatabaseThread();
});

afterAll(async () => {
  await db?.stop();
});

describe('embedded database on its own thread', () => {
  it('answers parameterised queries from a pool of connections, all correctly paired', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 8 });
    try {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => pool.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [i, `v${i}`])));
      expect(results.map((r) => [r.rows[0]!.n, r.rows[0]!.s])).toEqual(Array.from({ length: 100 }, (_, i) => [i, `v${i}`]));
    } finally {
      await pool.end();
    }
  });

  it('leaves the calling thread free while a long statement runs', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      let done = false;
      let turns = 0;
      const query = client.query('SELECT count(*)::int AS n FROM generate_series(1, 3000000)').then((r) => {
        done = true;
        return r.rows[0] as { n: number };
      });
      // Event-loop turns this thread gets while the statement runs: with the database on this
      // thread there would be none (PGlite executes a statement in one synchronous call).
      await new Promise<void>((resolve) => {
        const tick = () => {
          if (done) return resolve();
          turns++;
          setImmediate(tick);
        };
        setImmediate(tick);
      });
      expect(await query).toEqual({ n: 3_000_000 });
      expect(turns).toBeGreaterThan(100);
    } finally {
      await client.end();
    }
  });

  it('stops: the port is closed afterwards', async () => {
    const other = await (async () => {
      const { startEmbeddedDatabaseThread } = (await import(BUILT)) as typeof import('./embedded.js');
      return startEmbeddedDatabaseThread();
    })();
    const client = new pg.Client({ connectionString: other.url });
    await client.connect();
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.end();
    await other.stop();
    const again = new pg.Client({ connectionString: other.url, connectionTimeoutMillis: 5000 });
    await expect(again.connect()).rejects.toThrow();
  });
});
