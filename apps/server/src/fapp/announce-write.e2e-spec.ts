// The announce write (`qpc_fapp_write_announces`) receives a batch's signed announces as one
// concatenation with their lengths, and each slot as the position of its announce in the batch.
// Each announce must get back exactly its own bytes and its own slots, whatever their lengths and
// whichever announces of the batch are stored; a call whose lengths or positions do not fit the
// batch must fail and write nothing.
import { generateSigningKeyPair, type SigningKeyPair } from '@qpc/crypto';
import type { PoolClient } from 'pg';
import { type DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainAnnounceWrite } from '../../test/announces.js';
import { testDatabase, type TestDatabase } from '../../test/db.js';
import { openDataSource } from '../database/data-source.js';
import { ANNOUNCE_WRITE_SQL, announceBatchParams, type AnnounceWrite, FappRepository } from './fapp.repository.js';

const T0 = Date.now();

/** A therapist's announce `sequence` with one slot per id. */
const write = (therapist: SigningKeyPair, sequence: number, slotIds: number[]) => plainAnnounceWrite(therapist, sequence, slotIds, T0);

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

let db: TestDatabase;
let ds: DataSource;
let repo: FappRepository;

beforeAll(async () => {
  db = await testDatabase();
  ds = await openDataSource(db.url, 2);
  repo = new FappRepository(ds);
});

afterAll(async () => {
  await ds?.destroy();
  await db?.close();
});

/** The stored envelope and slot ids of each therapist. */
async function stored(items: readonly AnnounceWrite[]): Promise<Map<string, { envelope: Buffer; slots: string[] }>> {
  const ids = items.map((w) => w.a.therapistId);
  const envelopes = await repo.storedAnnounces(ids);
  const slots: { therapist_id: string; slot_id: string }[] = await ds.query(
    `SELECT therapist_id, slot_id FROM fapp_slot WHERE therapist_id = ANY($1::bpchar[]) ORDER BY slot_id`,
    [ids],
  );
  return new Map(
    ids.map((id) => [id, { envelope: envelopes.get(id)!.envelope, slots: slots.filter((s) => s.therapist_id === id).map((s) => s.slot_id) }]),
  );
}

const slotIdsOf = (w: AnnounceWrite) => w.a.slots.map((s) => s.idHex).sort();

describe('the announce write', () => {
  it('stores each announce of a batch with its own bytes and slots, whatever their lengths', async () => {
    const therapists = [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()];
    const first = therapists.map((t, i) => write(t, 1, range(10 * i + 1, [1, 9, 3, 20][i]!)));
    expect(new Set(first.map((w) => w.envelope.byteLength)).size).toBe(4);
    expect(await repo.upsertAnnounces(first)).toEqual(new Set(first.map((w) => w.a.therapistId)));
    const after1 = await stored(first);
    for (const w of first) {
      expect(Buffer.compare(after1.get(w.a.therapistId)!.envelope, Buffer.from(w.envelope))).toBe(0);
      expect(after1.get(w.a.therapistId)!.slots).toEqual(slotIdsOf(w));
    }

    // Again, with the first and third stale (their stored sequence is as high): the slots of the
    // second and fourth must still go to them, and the others keep theirs.
    const second = [write(therapists[0]!, 1, [99]), write(therapists[1]!, 2, range(50, 4)), write(therapists[2]!, 1, [98]), write(therapists[3]!, 2, [11])];
    expect(await repo.upsertAnnounces(second)).toEqual(new Set([second[1]!.a.therapistId, second[3]!.a.therapistId]));
    const after2 = await stored(second);
    for (const [i, w] of [first[0], second[1], first[2], second[3]].entries()) {
      expect(Buffer.compare(after2.get(w!.a.therapistId)!.envelope, Buffer.from(w!.envelope)), `announce ${i}`).toBe(0);
      expect(after2.get(w!.a.therapistId)!.slots, `announce ${i}`).toEqual(slotIdsOf(w!));
    }
  });

  it('stores every column as given, an authority name that needs quoting in an array literal included', async () => {
    const base = [write(generateSigningKeyPair(), 7, [1, 2]), write(generateSigningKeyPair(), 1, [3])];
    // FAPP_AUTHORITIES allows any name without '=' and ';'.
    const authority = 'Kammer "Nord", {Test} \\ NULL';
    const attested: AnnounceWrite = {
      ...base[0]!,
      verified: true,
      attestation: { authority, authorityKey: 'ab'.repeat(32), attestationId: 'cd'.repeat(16) },
      a: { ...base[0]!.a, fachrichtungen: [1, 3], languages: ['de', 'dgs'], barrierFree: true, issuedAtMs: T0 - 1, expiresAtMs: T0 + 86_400_123 },
    };
    const plain = base[1]!;
    await repo.upsertAnnounces([attested, plain]);
    type Row = { therapist_id: string; sequence: string; plz: string; verified: boolean; authority: string | null; fachrichtungen: number[]; languages: string[];
      barrier_free: boolean; issued_at: Date; expires_at: Date; authority_key: string | null; attestation_id: string | null };
    const rows: Row[] = await ds.query(
      `SELECT therapist_id, sequence::text, plz, verified, authority, fachrichtungen, languages, barrier_free, issued_at, expires_at, authority_key, attestation_id
       FROM fapp_announce WHERE therapist_id = ANY($1::bpchar[])`,
      [[attested.a.therapistId, plain.a.therapistId]],
    );
    const byId = new Map(rows.map((r) => [r.therapist_id, r]));
    expect(byId.get(attested.a.therapistId)).toMatchObject({
      sequence: '7', plz: '10115', verified: true, authority, fachrichtungen: [1, 3], languages: ['de', 'dgs'], barrier_free: true,
      issued_at: new Date(T0 - 1), expires_at: new Date(T0 + 86_400_123), authority_key: 'ab'.repeat(32), attestation_id: 'cd'.repeat(16),
    });
    expect(byId.get(plain.a.therapistId)).toMatchObject({ sequence: '1', verified: false, authority: null, barrier_free: false, authority_key: null, attestation_id: null });
    const slots: { therapist_id: string; slot_id: string; start_at: Date; duration_min: number; terminart: number; group_size: number }[] = await ds.query(
      `SELECT therapist_id, slot_id, start_at, duration_min, terminart, group_size FROM fapp_slot WHERE therapist_id = ANY($1::bpchar[]) ORDER BY start_at`,
      [[attested.a.therapistId, plain.a.therapistId]],
    );
    expect(slots).toEqual(
      [...attested.a.slots.map((s) => ({ w: attested, s })), ...plain.a.slots.map((s) => ({ w: plain, s }))].map(({ w, s }) => ({
        therapist_id: w.a.therapistId, slot_id: s.idHex, start_at: new Date(s.startMs), duration_min: s.durationMinutes, terminart: s.terminart, group_size: s.groupSize,
      })),
    );
  });

  it('rewrites only the slots that changed: an unchanged slot row is not even locked', async () => {
    const therapist = generateSigningKeyPair();
    const first = write(therapist, 1, [1, 2, 3]);
    const id = first.a.therapistId;
    await repo.upsertAnnounces([first]);
    type Row = { slot_id: string; start_at: Date; xmin: string; xmax: string };
    const rows = async () =>
      new Map(
        ((await ds.query(`SELECT slot_id, start_at, xmin::text AS xmin, xmax::text AS xmax FROM fapp_slot WHERE therapist_id = $1`, [id])) as Row[]).map((r) => [
          r.slot_id,
          r,
        ]),
      );
    const before = await rows();
    // Sequence 2 keeps slot 1 as it is, moves slot 2 by an hour, drops slot 3 and adds slot 4.
    const base = write(therapist, 2, [1, 2, 4]);
    const moved = base.a.slots[1]!.idHex;
    const second: AnnounceWrite = { ...base, a: { ...base.a, slots: base.a.slots.map((s) => (s.idHex === moved ? { ...s, startMs: s.startMs + 3600_000 } : s)) } };
    expect(await repo.upsertAnnounces([second])).toEqual(new Set([id]));
    const after = await rows();
    expect([...after.keys()].sort()).toEqual(second.a.slots.map((s) => s.idHex).sort());
    const kept = base.a.slots[0]!.idHex;
    expect(after.get(kept)).toEqual(before.get(kept));
    expect(after.get(kept)!.xmax).toBe('0');
    expect(after.get(moved)!.xmin).not.toBe(before.get(moved)!.xmin);
    expect(after.get(moved)!.start_at.getTime()).toBe(second.a.slots[1]!.startMs);
  });

  it('reaches stored rows by key or ctid, however small the tables were when its plan was made', async () => {
    // A generic plan is kept per connection until the statistics change; one made on small
    // tables read the whole slot table to delete a dropped slot (migration 1765100000000).
    const config: { proconfig: string[] }[] = await ds.query(`SELECT proconfig FROM pg_proc WHERE proname = 'qpc_fapp_write_announce_rows'`);
    expect(config[0]!.proconfig).toEqual(expect.arrayContaining(['plan_cache_mode=force_generic_plan', 'enable_seqscan=off']));
    // On PostgreSQL, the plans themselves (PGlite has no auto_explain on its socket).
    if (db.backend !== 'postgres') return;
    const pool = (ds.driver as PostgresDriver).master as { connect(): Promise<PoolClient> };
    const c = await pool.connect();
    const plans: string[] = [];
    c.on('notice', (n) => plans.push(n.message ?? ''));
    try {
      await c.query(`LOAD 'auto_explain'`);
      await c.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = 'notice'`);
      const therapist = generateSigningKeyPair();
      await c.query(ANNOUNCE_WRITE_SQL, announceBatchParams([write(therapist, 1, [1, 2, 3])]));
      await c.query(ANNOUNCE_WRITE_SQL, announceBatchParams([write(therapist, 2, [1, 2])]));
    } finally {
      c.release();
    }
    const writes = plans.filter((p) => p.includes('INSERT INTO fapp_slot'));
    expect(writes).toHaveLength(2);
    for (const p of writes) expect(p).not.toMatch(/Seq Scan on fapp_(slot|announce)\b/);
    expect(writes[1]).toMatch(/Tid Scan on fapp_slot/);
  });

  it('keeps an envelope of a few KB in the announce row, not in the TOAST relation (migration 1765200000000)', async () => {
    const toast: { rel: string }[] = await ds.query(`SELECT reltoastrelid::regclass::text AS rel FROM pg_class WHERE relname = 'fapp_announce'`);
    const toastRows = async () => Number(((await ds.query(`SELECT count(*) AS n FROM ${toast[0]!.rel}`)) as { n: string }[])[0]!.n);
    const before = await toastRows();
    const therapist = generateSigningKeyPair();
    // 40 slots: a row well past the default target of about 2 KB, which moved the envelope out of line.
    const first = write(therapist, 1, range(1, 40));
    const second = write(therapist, 2, range(2, 40));
    expect(first.envelope.byteLength).toBeGreaterThan(2_500);
    await repo.upsertAnnounces([first]);
    await repo.upsertAnnounces([second]);
    expect(await toastRows()).toBe(before);
    const sizes: { stored: number; external: boolean }[] = await ds.query(
      `SELECT pg_column_size(envelope) AS stored, pg_column_size(envelope) < octet_length(envelope) AS external FROM fapp_announce WHERE therapist_id = $1`,
      [second.a.therapistId],
    );
    expect(sizes[0]).toEqual({ stored: second.envelope.byteLength + 4, external: false });
  });

  it('updates a re-announced row in place, touching none of its indexes (migration 1765300000000)', async () => {
    const therapist = generateSigningKeyPair();
    await repo.upsertAnnounces([write(therapist, 1, [1, 2, 3])]);
    // A minute later, as a therapist's next announce: a new sequence, issue and expiry time and
    // envelope; the same key, PLZ, attestation and slots.
    const next = plainAnnounceWrite(therapist, 2, [1, 2, 3], T0 + 60_000);
    expect(next.a.expiresAtMs).toBe(T0 + 60_000 + 7 * 24 * 3600_000);
    // The backend's counts not yet reported; none are reported while a transaction is open.
    const qr = ds.createQueryRunner();
    const counts = async () => {
      const rows: { updated: string; hot: string }[] = await qr.query(
        `SELECT pg_stat_get_xact_tuples_updated('fapp_announce'::regclass) AS updated, pg_stat_get_xact_tuples_hot_updated('fapp_announce'::regclass) AS hot`,
      );
      return { updated: Number(rows[0]!.updated), hot: Number(rows[0]!.hot) };
    };
    try {
      await qr.startTransaction();
      const before = await counts();
      await qr.query(ANNOUNCE_WRITE_SQL, announceBatchParams([next]));
      const after = await counts();
      await qr.commitTransaction();
      expect({ updated: after.updated - before.updated, hot: after.hot - before.hot }).toEqual({ updated: 1, hot: 1 });
    } finally {
      await qr.release();
    }
    expect((await stored([next])).get(next.a.therapistId)!.envelope.equals(Buffer.from(next.envelope))).toBe(true);
  });

  const call = (params: unknown[]) => ds.query(ANNOUNCE_WRITE_SQL, params);
  const count = async () => Number(((await ds.query(`SELECT count(*) AS n FROM fapp_announce`)) as { n: string }[])[0]!.n);

  // The parameters are array literals; these read and rewrite the integer ones.
  const ints = (p: unknown) => (p as string).slice(1, -1).split(',').map(Number);
  const lit = (xs: number[]) => `{${xs.join(',')}}`;
  for (const [name, spoil] of [
    ['lengths that add up to more than the envelopes', (p: unknown[]) => (p[14] = lit(ints(p[14]).map((n, i) => (i === 0 ? n + 1 : n))))],
    ['lengths that add up to less', (p: unknown[]) => (p[14] = lit(ints(p[14]).map((n, i) => (i === 1 ? n - 1 : n))))],
    ['a length of zero', (p: unknown[]) => (p[14] = lit([ints(p[14])[0]! + ints(p[14])[1]!, 0]))],
    ['fewer lengths than announces', (p: unknown[]) => (p[14] = lit([ints(p[14])[0]! + ints(p[14])[1]!]))],
    ['a slot of no announce (position 0)', (p: unknown[]) => (p[17] = lit(ints(p[17]).map(() => 0)))],
    ['a slot of no announce (past the batch)', (p: unknown[]) => (p[17] = lit(ints(p[17]).map(() => 3)))],
  ] as const) {
    it(`rejects ${name} and writes nothing`, async () => {
      const batch = [write(generateSigningKeyPair(), 1, [1, 2]), write(generateSigningKeyPair(), 1, [3])];
      const params = announceBatchParams(batch);
      spoil(params);
      const before = await count();
      await expect(call(params)).rejects.toMatchObject({ code: '22023' });
      expect(await count()).toBe(before);
      // The same batch, unspoilt, is stored.
      expect(await call(announceBatchParams(batch))).toHaveLength(2);
      expect(await count()).toBe(before + 2);
    });
  }
});
