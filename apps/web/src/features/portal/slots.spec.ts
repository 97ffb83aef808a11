import { zonedParts } from '@qpc/fapp';
import { describe, expect, it } from 'vitest';
import { mondayOf, planSlots, publishable, weekDays } from './slots';
import { nextSequence } from './keys';

let n = 0;
const id = () => String(++n).padStart(32, '0');
const before = Date.UTC(2026, 9, 1);

describe('slot planning in Europe/Berlin', () => {
  it('a weekly slot keeps its wall-clock time across the October DST change', () => {
    const r = planSlots([], { date: { year: 2026, month: 10, day: 19 }, hour: 9, minute: 0, durationMinutes: 50, terminart: 1, weeks: 3 }, before, id);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.slots.map((s) => [zonedParts(s.startMs).day, zonedParts(s.startMs).hour])).toEqual([
      [19, 9],
      [26, 9],
      [2, 9],
    ]);
    // 09:00 CEST is 07:00 UTC, 09:00 CET is 08:00 UTC.
    expect(new Date(r.slots[0]!.startMs).getUTCHours()).toBe(7);
    expect(new Date(r.slots[1]!.startMs).getUTCHours()).toBe(8);
  });

  it('refuses overlaps and slots in the past', () => {
    const first = planSlots([], { date: { year: 2026, month: 10, day: 20 }, hour: 10, minute: 0, durationMinutes: 100, terminart: 1, weeks: 1 }, before, id);
    if (first.kind !== 'ok') throw new Error(first.kind);
    expect(planSlots(first.slots, { date: { year: 2026, month: 10, day: 20 }, hour: 11, minute: 0, durationMinutes: 25, terminart: 1, weeks: 1 }, before, id).kind).toBe('overlap');
    expect(planSlots(first.slots, { date: { year: 2026, month: 10, day: 20 }, hour: 11, minute: 40, durationMinutes: 25, terminart: 1, weeks: 1 }, before, id).kind).toBe('ok');
    expect(planSlots([], { date: { year: 2026, month: 9, day: 1 }, hour: 10, minute: 0, durationMinutes: 25, terminart: 1, weeks: 1 }, before, id).kind).toBe('past');
    expect(publishable(first.slots, Date.UTC(2026, 10, 1))).toEqual([]);
  });

  it('carries the group size of a group slot, and none otherwise', () => {
    const r = planSlots([], { date: { year: 2026, month: 10, day: 21 }, hour: 18, minute: 0, durationMinutes: 100, terminart: 5, groupSize: 6, weeks: 1 }, before, id);
    expect(r.kind === 'ok' && r.slots[0]!.groupSize).toBe(6);
    const single = planSlots([], { date: { year: 2026, month: 10, day: 21 }, hour: 18, minute: 0, durationMinutes: 50, terminart: 1, weeks: 1 }, before, id);
    expect(single.kind === 'ok' && 'groupSize' in single.slots[0]!).toBe(false);
  });

  it('weeks start on Monday in Berlin, also late on Sunday evening UTC', () => {
    // Sunday 2026-10-25 23:30 UTC is Monday 00:30 in Berlin.
    expect(mondayOf(Date.UTC(2026, 9, 25, 23, 30))).toEqual({ year: 2026, month: 10, day: 26 });
    expect(weekDays({ year: 2026, month: 10, day: 26 })[6]).toEqual({ year: 2026, month: 11, day: 1 });
  });

  it('the announce sequence always grows, even without the previous one', () => {
    expect(nextSequence(5, 1_000_000)).toBe(1000);
    expect(nextSequence(2_000, 1_000_000)).toBe(2_001);
  });
});
