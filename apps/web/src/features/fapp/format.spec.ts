import { describe, expect, it } from 'vitest';
import { berlinClock, berlinDate, fill } from './format';

describe('Berlin time formatting', () => {
  it('shows the same office hour on both sides of the October 2026 DST change', () => {
    const beforeChange = Date.UTC(2026, 9, 23, 7, 0); // Fri 23 Oct, CEST (UTC+2)
    const afterChange = Date.UTC(2026, 9, 26, 8, 0); // Mon 26 Oct, CET (UTC+1)
    expect(berlinClock(beforeChange)).toBe('09:00');
    expect(berlinClock(afterChange)).toBe('09:00');
    expect(berlinDate(beforeChange, 'de')).toBe('Freitag, 23. Oktober 2026');
    expect(berlinDate(afterChange, 'en')).toBe('Monday, 26 October 2026');
  });

  it('uses Berlin, not the machine zone, around midnight and in March', () => {
    expect(berlinClock(Date.UTC(2026, 2, 29, 1, 30))).toBe('03:30'); // just after the spring change
    expect(berlinDate(Date.UTC(2026, 0, 1, 23, 30), 'de')).toBe('Freitag, 2. Januar 2026');
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(fill('{a} und {b} {c}', { a: 1, b: 'zwei' })).toBe('1 und zwei {c}');
  });
});
