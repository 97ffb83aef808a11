import { describe, expect, it } from 'vitest';
import { buildIcs } from './ics';

describe('buildIcs', () => {
  it('writes UTC start and end, escaped text and CRLF lines', () => {
    const ics = buildIcs({ uid: 'abc', startMs: Date.UTC(2026, 9, 26, 8, 30), durationMinutes: 50, summary: 'Termin; Praxis, Berlin', description: 'Zeile 1\nZeile 2', nowMs: Date.UTC(2026, 9, 20, 7, 0) });
    expect(ics).toContain('DTSTART:20261026T083000Z\r\n');
    expect(ics).toContain('DTEND:20261026T092000Z\r\n');
    expect(ics).toContain('SUMMARY:Termin\\; Praxis\\, Berlin\r\n');
    expect(ics).toContain('DESCRIPTION:Zeile 1\\nZeile 2\r\n');
    expect(ics.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
    expect(ics.endsWith('END:VCALENDAR\r\n')).toBe(true);
  });
});
