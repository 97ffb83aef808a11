import { BERLIN_TIME_ZONE, zonedParts } from '@qpc/fapp';
import { type Locale } from '../../i18n/locale-path';

export { fill } from './text';

const dateFormats = new Map<Locale, Intl.DateTimeFormat>();

function dateFormat(locale: Locale): Intl.DateTimeFormat {
  let f = dateFormats.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'de' ? 'de-DE' : 'en-GB', { timeZone: BERLIN_TIME_ZONE, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
    dateFormats.set(locale, f);
  }
  return f;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** 24-hour wall-clock time in Berlin, e.g. `09:30`: what the practice's calendar says, wherever the patient is. */
export function berlinClock(utcMs: number): string {
  const p = zonedParts(utcMs);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** `Montag, 26. Oktober 2026` / `Monday, 26 October 2026`, in Berlin. */
export function berlinDate(utcMs: number, locale: Locale): string {
  return dateFormat(locale).format(new Date(utcMs));
}
