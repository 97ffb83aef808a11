// Announces are kept 30 days past their expiry, so that an older sequence cannot be replayed
// meanwhile, and then deleted with their slots. `expires_at` has no index (a re-announce updates
// its row in place, migration 1765300000000), so the deletion reads the whole table and the
// service runs it once an hour, not with every 30-second housekeeping round.
import { generateSigningKeyPair } from '@qpc/crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { plainAnnounceWrite } from '../../test/announces.js';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { FappRepository } from './fapp.repository.js';
import { ANNOUNCE_RETIRE_INTERVAL_MS, ReservationService } from './reservation.service.js';

const DAY = 24 * 3600_000;
const T0 = Date.UTC(2026, 11, 1, 9);

let t: TestApp;
let clock: TestClock;
let repo: FappRepository;

beforeAll(async () => {
  clock = new TestClock(T0);
  t = await createTestApp({}, { clock });
  repo = t.app.get(FappRepository);
});

afterAll(async () => {
  await t?.close();
});

/** Stores a therapist's announce issued at `issuedAtMs` (valid 7 days), with two slots; returns its id. */
async function storedAt(issuedAtMs: number): Promise<string> {
  const w = plainAnnounceWrite(generateSigningKeyPair(), 1, [1, 2], issuedAtMs);
  expect(await repo.upsertAnnounces([w])).toEqual(new Set([w.a.therapistId]));
  return w.a.therapistId;
}

async function present(ids: readonly string[]): Promise<{ announces: string[]; slots: number }> {
  const ds = t.app.get(DataSource);
  const announces: { id: string }[] = await ds.query(`SELECT therapist_id AS id FROM fapp_announce WHERE therapist_id = ANY($1::bpchar[])`, [ids]);
  const slots: { n: string }[] = await ds.query(`SELECT count(*) AS n FROM fapp_slot WHERE therapist_id = ANY($1::bpchar[])`, [ids]);
  return { announces: announces.map((a) => a.id).sort(), slots: Number(slots[0]!.n) };
}

describe('retiring expired announces', () => {
  it('deletes the announces expired more than 30 days ago and their slots, and keeps the others', async () => {
    // Issued 38 and 36 days ago: expired 31 and 29 days ago. And one current.
    const gone = await storedAt(clock.now() - 38 * DAY);
    const kept = await storedAt(clock.now() - 36 * DAY);
    const current = await storedAt(clock.now() - DAY);
    expect(await repo.retireAnnounces(clock.now())).toBe(1);
    expect(await present([gone, kept, current])).toEqual({ announces: [kept, current].sort(), slots: 4 });
    expect(await repo.retireAnnounces(clock.now())).toBe(0);
  });

  it('runs with the first housekeeping round, then once per interval', async () => {
    const reservations = t.app.get(ReservationService);
    clock.advance(2 * DAY);
    // The first round since the app started retires; the timer's own rounds run on the same clock.
    const first = await storedAt(clock.now() - 38 * DAY);
    expect((await reservations.collectGarbage()).retiredAnnounces).toBeGreaterThanOrEqual(1);
    expect((await present([first])).announces).toEqual([]);

    const next = await storedAt(clock.now() - 38 * DAY);
    clock.advance(ANNOUNCE_RETIRE_INTERVAL_MS - 1);
    expect(await reservations.collectGarbage()).toEqual({ expiredHolds: 0, retiredAnnounces: 0 });
    expect((await present([next])).announces).toEqual([next]);
    clock.advance(1);
    expect(await reservations.collectGarbage()).toEqual({ expiredHolds: 0, retiredAnnounces: 1 });
    expect((await present([next])).announces).toEqual([]);
  });

  it('leaves a retirement that failed to the next round', async () => {
    const reservations = t.app.get(ReservationService);
    const later = await storedAt(clock.now() - 38 * DAY);
    clock.advance(ANNOUNCE_RETIRE_INTERVAL_MS);
    const failing = vi.spyOn(repo, 'retireAnnounces').mockRejectedValueOnce(new Error('connection lost'));
    try {
      await expect(reservations.collectGarbage()).rejects.toThrow('connection lost');
    } finally {
      failing.mockRestore();
    }
    expect((await present([later])).announces).toEqual([later]);
    // The same minute: not an hour after the last retirement that was done.
    expect(await reservations.collectGarbage()).toEqual({ expiredHolds: 0, retiredAnnounces: 1 });
    expect((await present([later])).announces).toEqual([]);
  });
});
