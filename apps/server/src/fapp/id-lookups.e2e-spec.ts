// FAPP's lookups by lists of ids find the rows through an index on the id. The id columns are
// character(n); a list bound as text[] makes PostgreSQL compare every row's id cast to text,
// which no index serves: a scan of the whole table per call (82 ms against 2.8 ms for 50 of
// 20 000 announces), or of every current announce through another index. With sequential
// scans switched off, each statement's plan must read the table through an index condition
// on the id column.
import { type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/db.js';
import { openDataSource } from '../database/data-source.js';
import { FappRepository } from './fapp.repository.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Plans?: PlanNode[];
}

/** Every read of a table in a plan, with the index condition it reads by (null: none). */
interface Scan {
  table: string;
  cond: string | null;
}

const scans = (n: PlanNode): Scan[] => [
  ...(n['Relation Name'] ? [{ table: n['Relation Name'], cond: n['Index Cond'] ?? n['Recheck Cond'] ?? null }] : []),
  ...(n.Plans ?? []).flatMap(scans),
];

const ids = (n: number, len: number) => Array.from({ length: n }, (_, i) => i.toString(16).padStart(len, '0'));

let db: TestDatabase;
let ds: DataSource;
let runner: QueryRunner;
/** The reads of each statement since the last `take()`. */
const recorded: { sql: string; scans: Scan[] }[] = [];
const take = () => recorded.splice(0);

/** Every read of `table` in these statements goes through an index condition on `column`. */
function expectIndexed(statements: { sql: string; scans: Scan[] }[], table: string, column: string): void {
  for (const st of statements) {
    const reads = st.scans.filter((x) => x.table === table);
    expect(reads.length, st.sql).toBeGreaterThan(0);
    for (const r of reads) expect(r.cond ?? 'no index condition', st.sql).toContain(column);
  }
}

/**
 * The real database on one connection with sequential scans off, recording each statement's
 * plan (EXPLAIN without ANALYZE: nothing runs twice) before running it.
 */
function explaining(): DataSource & EntityManager {
  const query = async (sql: string, params?: unknown[]) => {
    const out: { 'QUERY PLAN': [{ Plan: PlanNode }] | string }[] = await runner.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const raw = out[0]!['QUERY PLAN'];
    recorded.push({ sql, scans: scans((typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan) });
    return runner.query(sql, params);
  };
  return { query } as unknown as DataSource & EntityManager;
}

beforeAll(async () => {
  db = await testDatabase();
  ds = await openDataSource(db.url, 1);
  runner = ds.createQueryRunner();
  await runner.connect();
  // Enough current announces (one slot each) that reading all of them through the expiry index
  // costs more than a lookup of 50 ids: a plan without an id condition shows up as such.
  await runner.query(
    `INSERT INTO fapp_announce (therapist_id, sequence, plz, verified, fachrichtungen, altersgruppen, modalitaeten, kostentraeger, languages,
                                barrier_free, issued_at, expires_at, envelope)
     SELECT lpad(to_hex(g), 64, '0'), 1, '10115', false, '{1}', '{1}', '{1}', '{1}', '{de}', false, now(), now() + interval '7 days', '\\x00'::bytea
     FROM generate_series(1, 3000) g`,
  );
  await runner.query(`INSERT INTO fapp_slot SELECT therapist_id, lpad('1', 32, '0'), now() + interval '1 day', 50, 1, 0 FROM fapp_announce`);
  await runner.query('ANALYZE fapp_announce, fapp_slot, fapp_hold');
  await runner.query('SET enable_seqscan = off');
});

afterAll(async () => {
  await runner?.release();
  await ds?.destroy();
  await db?.close();
});

describe('FAPP lookups by id lists', () => {
  const repo = () => new FappRepository(explaining());
  const therapists = ids(50, 64);

  it('stored announces, envelopes and held slots of some therapists come through the primary keys', async () => {
    await repo().storedAnnounces(therapists);
    await repo().envelopes(therapists);
    const announces = take();
    expect(announces).toHaveLength(2);
    expectIndexed(announces, 'fapp_announce', 'therapist_id');
    await repo().unavailable(therapists, Date.now());
    const holds = take();
    expect(holds).toHaveLength(1);
    expectIndexed(holds, 'fapp_hold', 'therapist_id');
  });

  it("the search index's re-read of some therapists reads only their rows", async () => {
    await repo().searchState(Date.now(), therapists);
    const plans = take();
    expect(plans).toHaveLength(2);
    expectIndexed(plans, 'fapp_announce', 'therapist_id');
    expectIndexed(plans.slice(1), 'fapp_slot', 'therapist_id');
  });
});
