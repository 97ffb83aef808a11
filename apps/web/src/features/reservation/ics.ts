// A minimal RFC 5545 calendar entry for a confirmed appointment. Times are UTC instants, so
// every calendar shows the practice's Berlin time correctly in its own zone.

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/([,;])/g, '\\$1');
}

export function buildIcs(input: { uid: string; startMs: number; durationMinutes: number; summary: string; description?: string; nowMs: number }): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//quicprochat//patient//DE',
    'CALSCALE:GREGORIAN',
    'BEGIN:VEVENT',
    `UID:${input.uid}@quicprochat`,
    `DTSTAMP:${stamp(input.nowMs)}`,
    `DTSTART:${stamp(input.startMs)}`,
    `DTEND:${stamp(input.startMs + input.durationMinutes * 60_000)}`,
    `SUMMARY:${escapeText(input.summary)}`,
    ...(input.description ? [`DESCRIPTION:${escapeText(input.description)}`] : []),
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
