import { afterEach, describe, expect, it } from 'vitest';
import { Terminart } from '@qpc/proto';
import { verifyAnnounce } from './announce.js';
import { HOUR_MS, MINUTE_MS } from './limits.js';
import { addDays, wallTimeToUtc, weekdayOf, zonedParts, zoneOffsetMs } from './time.js';
import { announceBytes, slotAt, trust } from './test/fixtures.js';

const iso = (ms: number) => new Date(ms).toISOString();
const berlin = (year: number, month: number, day: number, hour: number, minute = 0) => wallTimeToUtc({ year, month, day, hour, minute });

describe('Europe/Berlin wall clock <-> UTC across the 2026 DST changes', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = originalTz;
  });

  it('the change days are the last Sundays of March and October 2026', () => {
    expect(weekdayOf({ year: 2026, month: 3, day: 29 })).toBe(0);
    expect(weekdayOf({ year: 2026, month: 10, day: 25 })).toBe(0);
    expect(weekdayOf(addDays({ year: 2026, month: 3, day: 29 }, 7))).toBe(0);
    expect(addDays({ year: 2026, month: 3, day: 29 }, 7).month).toBe(4);
  });

  it('spring forward on 2026-03-29: 10:00 is 09:00Z before and 08:00Z after', () => {
    expect(iso(berlin(2026, 3, 27, 10))).toBe('2026-03-27T09:00:00.000Z');
    expect(iso(berlin(2026, 3, 28, 10))).toBe('2026-03-28T09:00:00.000Z');
    expect(iso(berlin(2026, 3, 29, 1, 30))).toBe('2026-03-29T00:30:00.000Z');
    expect(iso(berlin(2026, 3, 29, 3))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(berlin(2026, 3, 30, 10))).toBe('2026-03-30T08:00:00.000Z');
  });

  it('the skipped hour 02:30 moves forward to 03:30 CEST', () => {
    const t = berlin(2026, 3, 29, 2, 30);
    expect(iso(t)).toBe('2026-03-29T01:30:00.000Z');
    expect(zonedParts(t)).toMatchObject({ hour: 3, minute: 30 });
  });

  it('fall back on 2026-10-25: 10:00 is 08:00Z before and 09:00Z after; 02:30 takes the first occurrence', () => {
    expect(iso(berlin(2026, 10, 23, 10))).toBe('2026-10-23T08:00:00.000Z');
    expect(iso(berlin(2026, 10, 25, 2, 30))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(berlin(2026, 10, 26, 10))).toBe('2026-10-26T09:00:00.000Z');
    expect(zoneOffsetMs(Date.UTC(2026, 9, 25, 0, 30))).toBe(2 * HOUR_MS);
    expect(zoneOffsetMs(Date.UTC(2026, 9, 25, 1, 30))).toBe(HOUR_MS);
  });

  it('round-trips every office-hour quarter of the change weeks', () => {
    for (const [m, from] of [[3, 23], [10, 19]] as const) {
      for (let d = 0; d < 14; d++) {
        const date = addDays({ year: 2026, month: m, day: from }, d);
        for (let q = 8 * 4; q < 18 * 4; q++) {
          const t = wallTimeToUtc({ ...date, hour: Math.floor(q / 4), minute: (q % 4) * 15 });
          expect(zonedParts(t)).toMatchObject({ ...date, hour: Math.floor(q / 4), minute: (q % 4) * 15 });
        }
      }
    }
  });

  it('does not depend on the process time zone', () => {
    const expected = [berlin(2026, 3, 30, 10), berlin(2026, 10, 26, 10)];
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']) {
      process.env.TZ = tz;
      expect([berlin(2026, 3, 30, 10), berlin(2026, 10, 26, 10)]).toEqual(expected);
    }
  });

  it('slots built from Berlin wall times keep their UTC instants through sign and verify', () => {
    const now = Date.UTC(2026, 2, 26, 12);
    const starts = [berlin(2026, 3, 27, 10), berlin(2026, 3, 30, 10), berlin(2026, 3, 30, 11)];
    const bytes = announceBytes({ slots: starts.map((s, i) => slotAt(i + 1, s)), expiresAtMs: now + 7 * 24 * HOUR_MS }, undefined, now);
    const v = verifyAnnounce(bytes, { nowMs: now, trust });
    expect(v.announce.slots.map((s) => iso(s.startMs))).toEqual(['2026-03-27T09:00:00.000Z', '2026-03-30T08:00:00.000Z', '2026-03-30T09:00:00.000Z']);
    // Three calendar days apart on the wall clock, one hour less in elapsed time.
    expect(starts[1]! - starts[0]!).toBe(3 * 24 * HOUR_MS - HOUR_MS);
    expect(v.announce.slots.every((s) => s.terminart === Terminart.SPRECHSTUNDE && s.startMs % MINUTE_MS === 0)).toBe(true);
  });

  it('a 100-minute slot across the October change lasts 100 real minutes', () => {
    const now = Date.UTC(2026, 9, 24, 12);
    const start = berlin(2026, 10, 25, 1, 30);
    const v = verifyAnnounce(announceBytes({ slots: [slotAt(1, start, { durationMinutes: 100, terminart: Terminart.GRUPPE, groupSize: 5 })] }, undefined, now), { nowMs: now, trust });
    const s = v.announce.slots[0]!;
    const end = s.startMs + s.durationMinutes * MINUTE_MS;
    expect(zonedParts(s.startMs)).toMatchObject({ hour: 1, minute: 30 });
    // Wall clock shows 02:10 after 100 minutes because the hour 02:00-03:00 ran twice.
    expect(zonedParts(end)).toMatchObject({ hour: 2, minute: 10 });
  });
});
