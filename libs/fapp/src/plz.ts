import { fail } from './errors.js';

/**
 * German Postleitzahlen (five-digit system since 1993).
 *
 * Rule: exactly five ASCII digits, numerically within 01001..99998, and the first two
 * digits (the Leitregion) must be an assigned one. Leitregionen 00, 05, 43 and 62 are
 * not assigned (in use are 01-04, 06-42, 44-61, 63-99; 11 only for Berlin large
 * recipients such as 11011). The rule does not check that a full code is in use
 * today: delivery districts change every year, and a wrong-but-plausible code costs a
 * therapist findability, not safety.
 */
export const UNASSIGNED_LEITREGIONEN: ReadonlySet<string> = new Set(['00', '05', '43', '62']);
export const MIN_PLZ = 1001;
export const MAX_PLZ = 99998;

const FIVE_DIGITS = /^[0-9]{5}$/;
const PREFIX = /^[0-9]{2,5}$/;

export function isValidPlz(plz: string): boolean {
  if (!FIVE_DIGITS.test(plz)) return false;
  const n = Number(plz);
  if (n < MIN_PLZ || n > MAX_PLZ) return false;
  return !UNASSIGNED_LEITREGIONEN.has(plz.slice(0, 2));
}

export function assertPlz(plz: string): string {
  if (!isValidPlz(plz)) fail('INVALID_PLZ', 'PLZ must be a German postal code (5 digits, assigned Leitregion)');
  return plz;
}

/** A search prefix: 2 to 5 digits whose Leitregion is assigned (and, at 5 digits, a valid PLZ). */
export function isValidPlzPrefix(prefix: string): boolean {
  if (!PREFIX.test(prefix)) return false;
  if (UNASSIGNED_LEITREGIONEN.has(prefix.slice(0, 2))) return false;
  if (prefix.length === 5) return isValidPlz(prefix);
  // 01001 is the lowest code, so "010" and "0100" still lead somewhere; "99999" does not exist
  // but "9999" leads to 99998.
  return true;
}

export function assertPlzPrefix(prefix: string): string {
  if (!isValidPlzPrefix(prefix)) fail('INVALID_PLZ', 'PLZ prefix must be 2 to 5 digits of an assigned Leitregion');
  return prefix;
}
