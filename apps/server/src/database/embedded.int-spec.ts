import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedDatabase } from './embedded.js';

let db: EmbeddedDatabase;

beforeAll(async () => {
  db = await startEmbeddedDatabase();
});
afterAll(async () => {
  await db?.stop();
});

describe('embedded database over the wire', () => {
  it('keeps each connection’s extended-protocol batch together under concurrency', async () => {
    // node-postgres sends Parse/Bind/Describe/Execute/Sync for every parameterised query. If the
    // socket server ran another connection's Parse between them, Bind would hit the wrong
    // unnamed statement ("bind message supplies 2 parameters, but prepared statement requires 1")
    // or, worse, run with another query's parameters.
    const clients = Array.from({ length: 6 }, () => new pg.Client({ connectionString: db.url }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const runs = clients.map(async (c, k) => {
        const results: boolean[] = [];
        for (let i = 0; i < 60; i++) {
          if (k % 2 === 0) {
            const r = await c.query<{ s: number }>('SELECT $1::int + $2::int AS s', [k, i]);
            results.push(r.rows[0]!.s === k + i);
          } else {
            const r = await c.query<{ t: string }>('SELECT $1::text AS t', [`${k}:${i}`]);
            results.push(r.rows[0]!.t === `${k}:${i}`);
          }
        }
        return results;
      });
      const all = (await Promise.all(runs)).flat();
      expect(all).toHaveLength(360);
      expect(all.every(Boolean)).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
