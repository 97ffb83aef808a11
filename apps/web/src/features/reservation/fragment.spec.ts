import { describe, expect, it } from 'vitest';
import {
  CAPABILITY_BYTES,
  decodeFragment,
  encodeCapabilityFragment,
  encodeFullFragment,
  FragmentError,
  FULL_FRAGMENT_BYTES,
  type ReservationSecrets,
} from './fragment';

function filled(n: number, start: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

const secrets: ReservationSecrets = {
  capability: filled(32, 1),
  replySecretKey: filled(32, 100),
  therapistKey: filled(32, 200),
  slotId: filled(16, 50),
  // Mon 26 Oct 2026, 09:30 in Berlin (CET, the day after the DST change)
  slotStartMs: Date.UTC(2026, 9, 26, 8, 30),
  durationMinutes: 50,
  terminart: 3,
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof FragmentError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('answer link fragment', () => {
  it('round-trips the full form compactly (URL-safe, 159 characters)', () => {
    const text = encodeFullFragment(secrets);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(text.length).toBe(Math.ceil((FULL_FRAGMENT_BYTES * 4) / 3));
    expect(text.length).toBe(159);
    const d = decodeFragment(`#${text}`);
    expect(d).toEqual({ kind: 'full', secrets });
    expect(decodeFragment(text)).toEqual(d);
  });

  it('round-trips the capability-only form', () => {
    const text = encodeCapabilityFragment(secrets.capability);
    expect(text.length).toBe(43);
    expect(decodeFragment(`#${text}`)).toEqual({ kind: 'capability', capability: secrets.capability });
  });

  it('refuses malformed fragments with a clean error', () => {
    const full = encodeFullFragment(secrets);
    expect(codeOf(() => decodeFragment(''))).toBe('empty');
    expect(codeOf(() => decodeFragment('#'))).toBe('empty');
    expect(codeOf(() => decodeFragment('#not base64!'))).toBe('malformed');
    expect(codeOf(() => decodeFragment('#AAAA'))).toBe('malformed');
    expect(codeOf(() => decodeFragment(`#${full.slice(0, -4)}`))).toBe('malformed');
    expect(codeOf(() => decodeFragment(`#${full}AA`))).toBe('malformed');
    expect(codeOf(() => decodeFragment(`#${full}%20`))).toBe('malformed');
    const wrongVersion = `C${full.slice(1)}`;
    expect(codeOf(() => decodeFragment(`#${wrongVersion}`))).toBe('unsupported_version');
  });

  it('refuses to encode values that do not fit', () => {
    expect(codeOf(() => encodeFullFragment({ ...secrets, slotStartMs: secrets.slotStartMs + 1 }))).toBe('malformed');
    expect(codeOf(() => encodeFullFragment({ ...secrets, capability: filled(16, 0) }))).toBe('malformed');
    expect(codeOf(() => encodeFullFragment({ ...secrets, durationMinutes: 0 }))).toBe('malformed');
    expect(codeOf(() => encodeCapabilityFragment(filled(CAPABILITY_BYTES - 1, 0)))).toBe('malformed');
  });

  it('decodes every possible capability-length input without throwing anything but FragmentError', () => {
    for (let i = 0; i < 200; i++) {
      const junk = Array.from({ length: i }, (_, j) => 'Aa0_-'.charAt((i * 7 + j) % 5)).join('');
      try {
        decodeFragment(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(FragmentError);
      }
    }
  });
});
