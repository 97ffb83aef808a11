// Slot planning in Berlin wall-clock time. Pure: the page passes the clock in.
import { addDays, wallTimeToUtc, weekdayOf, zonedParts, MINUTE_MS } from '@qpc/fapp';

export interface PlannedSlot {
  /** 16 random bytes, hex; kept across re-announces so holds and bookings stay attached. */
  id: string;
  startMs: number;
  durationMinutes: 25 | 50 | 100;
  terminart: number;
  /** Participants of a group slot (Terminart GRUPPE); absent otherwise. */
  groupSize?: number;
}

export interface DayDate {
  year: number;
  month: number;
  day: number;
}

export interface SlotRequest {
  date: DayDate;
  hour: number;
  minute: number;
  durationMinutes: 25 | 50 | 100;
  terminart: number;
  groupSize?: number;
  /** 1 = a single slot; n = the same wall-clock time on n consecutive weeks. */
  weeks: number;
}

/** Monday of the Berlin week that contains `utcMs`. */
export function mondayOf(utcMs: number): DayDate {
  const z = zonedParts(utcMs);
  const date = { year: z.year, month: z.month, day: z.day };
  // weekdayOf: 0 = Sunday … 6 = Saturday.
  return addDays(date, -((weekdayOf(date) + 6) % 7));
}

export function weekDays(monday: DayDate): DayDate[] {
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i));
}

export function sameDay(utcMs: number, d: DayDate): boolean {
  const z = zonedParts(utcMs);
  return z.year === d.year && z.month === d.month && z.day === d.day;
}

export function parseDate(value: string): DayDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : null;
}

export function formatDate(d: DayDate): string {
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

export type PlanResult = { kind: 'ok'; slots: PlannedSlot[] } | { kind: 'overlap' } | { kind: 'past' };

function overlaps(a: { startMs: number; durationMinutes: number }, b: { startMs: number; durationMinutes: number }): boolean {
  return a.startMs < b.startMs + b.durationMinutes * MINUTE_MS && b.startMs < a.startMs + a.durationMinutes * MINUTE_MS;
}

/**
 * Adds one slot, or one per week at the same Berlin wall-clock time (so 09:00 stays 09:00 across
 * a DST change). Refuses slots in the past or overlapping existing ones.
 */
export function planSlots(existing: readonly PlannedSlot[], req: SlotRequest, nowMs: number, newId: () => string): PlanResult {
  const added: PlannedSlot[] = [];
  for (let w = 0; w < Math.max(1, req.weeks); w++) {
    const d = addDays(req.date, 7 * w);
    const startMs = wallTimeToUtc({ ...d, hour: req.hour, minute: req.minute });
    const slot: PlannedSlot = { id: newId(), startMs, durationMinutes: req.durationMinutes, terminart: req.terminart, ...(req.groupSize ? { groupSize: req.groupSize } : {}) };
    if (startMs <= nowMs) return { kind: 'past' };
    if ([...existing, ...added].some((s) => overlaps(s, slot))) return { kind: 'overlap' };
    added.push(slot);
  }
  return { kind: 'ok', slots: [...existing, ...added].sort((a, b) => a.startMs - b.startMs) };
}

/** Slots an announce may carry now: the past ones drop out. */
export function publishable(slots: readonly PlannedSlot[], nowMs: number): PlannedSlot[] {
  return slots.filter((s) => s.startMs > nowMs);
}
