/**
 * Europe/Berlin wall-clock <-> UTC instants, through Intl only (no tz database of our
 * own, no dependence on the process time zone). The wire carries UTC instants; these
 * helpers exist for the edges: seed data, UIs, tests.
 */
export const BERLIN_TIME_ZONE = 'Europe/Berlin';

export interface WallTime {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface ZonedParts extends WallTime {
  second: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Wall-clock fields of a UTC instant in `timeZone`. */
export function zonedParts(utcMs: number, timeZone = BERLIN_TIME_ZONE): ZonedParts {
  const out: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(utcMs))) out[p.type] = p.value;
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour),
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: WEEKDAYS.indexOf(out.weekday ?? ''),
  };
}

/** Offset of `timeZone` from UTC at the instant, in ms (Berlin: +1 h or +2 h). */
export function zoneOffsetMs(utcMs: number, timeZone = BERLIN_TIME_ZONE): number {
  const p = zonedParts(utcMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The UTC instant of a wall-clock time in `timeZone`. Ambiguous times (the repeated hour
 * in October) resolve to the earlier instant; non-existent times (the skipped hour in
 * March) move forward by the gap, as Temporal's 'compatible' disambiguation does.
 */
export function wallTimeToUtc(wall: WallTime, timeZone = BERLIN_TIME_ZONE): number {
  const local = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const before = zoneOffsetMs(local - 36 * 3_600_000, timeZone);
  const after = zoneOffsetMs(local + 36 * 3_600_000, timeZone);
  const candidates = [...new Set([before, after])]
    .map((off) => local - off)
    .filter((t) => local === t + zoneOffsetMs(t, timeZone))
    .sort((a, b) => a - b);
  const first = candidates[0];
  if (first !== undefined) return first;
  // In a gap: interpret with the offset before the transition, which lands after it.
  return local - before;
}

/** Calendar date (year, month, day) plus `days`, independent of any time zone. */
export function addDays(date: { year: number; month: number; day: number }, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Day of week of a calendar date, 0 = Sunday. */
export function weekdayOf(date: { year: number; month: number; day: number }): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}
