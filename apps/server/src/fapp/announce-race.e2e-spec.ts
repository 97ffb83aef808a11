// Two announces of one therapist written at the same time (two server instances, or the mesh
// and the HTTP API of one): the higher sequence must end with exactly its own slots. The write
// that waits for the other's lock on the therapist must see the slots the other one added,
// or a slot neither the stored announce nor the therapist offers any more stays searchable.
//
// On PostgreSQL the interleaving is forced: a third connection holds the therapist's announce
// row, the lower sequence starts and waits for it, then the higher one starts (before the
// lower one has committed) and waits too; the row is released. PGlite executes one
// transaction at a time (a held row would stop every other connection), so there the two
// writes are only sent together and cannot interleave; the outcome must be the same.
import { generateSigningKeyPair, type SigningKeyPair } from '@qpc/crypto';
import { type DataSource, type QueryRunner } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainAnnounceWrite } from '../../test/announces.js';
import { testDatabase, type TestDatabase } from '../../test/db.js';
import { openDataSource } from '../database/data-source.js';
import { type AnnounceWrite, FappRepository } from './fapp.repository.js';

const T0 = Date.now();

/** A therapist's announce `sequence` with one slot per id. */
const write = (therapist: SigningKeyPair, sequence: number, slotIds: number[]) => plainAnnounceWrite(therapist, sequence, slotIds, T0);

const slotId = (n: number) => Buffer.alloc(16, n).toString('hex');

let db: TestDatabase;
let ds: DataSource;
let holder: QueryRunner;

beforeAll(async () => {
  db = await testDatabase();
  ds = await openDataSource(db.url, 6);
  holder = ds.createQueryRunner();
  await holder.connect();
});

afterAll(async () => {
  await holder?.release();
  await ds?.destroy();
  await db?.close();
});

/** Resolves once `n` backends wait for a lock (pg_stat_activity), polled on the database's own view. */
async function waitingForLocks(n: number): Promise<void> {
  for (;;) {
    const rows: { n: string }[] = await ds.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (Number(rows[0]!.n) >= n) return;
    await new Promise((r) => setImmediate(r));
  }
}

describe('two announces of one therapist at once', () => {
  // Alone, as single ingests are written, and in a batch with another therapist's announce.
  const other = () => write(generateSigningKeyPair(), 1, [1]);
  for (const [name, store] of [
    ['alone', (repo: FappRepository, w: AnnounceWrite) => repo.upsertAnnounces([w]).then((s) => s.has(w.a.therapistId))],
    ['in a batch', (repo: FappRepository, w: AnnounceWrite) => repo.upsertAnnounces([other(), w]).then((s) => s.has(w.a.therapistId))],
  ] as const) {
    it(`the higher sequence keeps exactly its slots (${name})`, async () => {
      const repo = new FappRepository(ds);
      const therapist = generateSigningKeyPair();
      const first = write(therapist, 1, [1]);
      expect(await store(repo, first)).toBe(true);
      const id = first.a.therapistId;

      // The lower sequence adds slot 2; the higher one offers slot 3 only.
      const forced = db.backend === 'postgres';
      if (forced) {
        await holder.startTransaction();
        await holder.query(`SELECT 1 FROM fapp_announce WHERE therapist_id = $1 FOR UPDATE`, [id]);
      }
      const lower = store(repo, write(therapist, 2, [1, 2]));
      if (forced) await waitingForLocks(1);
      const higher = store(repo, write(therapist, 3, [3]));
      if (forced) {
        await waitingForLocks(2);
        await holder.commitTransaction();
      }
      // Forced, the lower one is written first; on PGlite either may be (the lower is then stale).
      if (forced) expect(await lower).toBe(true);
      else await lower;
      expect(await higher).toBe(true);

      const stored: { sequence: string }[] = await ds.query(`SELECT sequence FROM fapp_announce WHERE therapist_id = $1`, [id]);
      expect(Number(stored[0]!.sequence)).toBe(3);
      const slots: { slot_id: string }[] = await ds.query(`SELECT slot_id FROM fapp_slot WHERE therapist_id = $1 ORDER BY slot_id`, [id]);
      expect(slots.map((s) => s.slot_id)).toEqual([slotId(3)]);
    });
  }
});

describe('an expiry and a re-announce of one therapist at once', () => {
  // The write leaves a slot row it carries unchanged alone. If the expiry deleted the stored
  // announce (and, by cascade, its slots) between the write's snapshot and its end, the new
  // announce would be stored without them. Forced on PostgreSQL: a third connection holds the
  // announce row, the expiry starts and waits for it, then the write starts; the row is released.
  it('the re-announce keeps every slot it carries', async () => {
    const repo = new FappRepository(ds);
    const therapist = generateSigningKeyPair();
    const DAY = 24 * 3600_000;
    // Stored 40 days ago: expired for 33 days, past the 30 days an expired announce is kept.
    const old = plainAnnounceWrite(therapist, 1, [1, 2], T0 - 40 * DAY);
    expect(await repo.upsertAnnounces([old])).toEqual(new Set([old.a.therapistId]));
    const id = old.a.therapistId;
    // The same slots (ids and times), announced again with a week to live.
    const base = plainAnnounceWrite(therapist, 2, [1, 2], T0 - 40 * DAY);
    const again: AnnounceWrite = { ...base, a: { ...base.a, expiresAtMs: T0 + 7 * DAY } };

    const forced = db.backend === 'postgres';
    if (forced) {
      await holder.startTransaction();
      await holder.query(`SELECT 1 FROM fapp_announce WHERE therapist_id = $1 FOR UPDATE`, [id]);
    }
    const expiry = repo.retireAnnounces(T0);
    if (forced) await waitingForLocks(1);
    const stored = repo.upsertAnnounces([again]);
    if (forced) {
      await waitingForLocks(2);
      await holder.commitTransaction();
    }
    await expiry;
    expect(await stored).toEqual(new Set([id]));

    const rows: { sequence: string }[] = await ds.query(`SELECT sequence FROM fapp_announce WHERE therapist_id = $1`, [id]);
    expect(rows.map((r) => Number(r.sequence))).toEqual([2]);
    const slots: { slot_id: string }[] = await ds.query(`SELECT slot_id FROM fapp_slot WHERE therapist_id = $1 ORDER BY slot_id`, [id]);
    expect(slots.map((s) => s.slot_id)).toEqual([slotId(1), slotId(2)]);
  });
});
