import { describe, expect, it } from 'vitest';
import { isValidLanguage } from './language.js';
import { isValidPlz, isValidPlzPrefix } from './plz.js';

describe('German PLZ', () => {
  it('accepts real codes across the Leitregionen', () => {
    for (const p of ['01001', '01067', '04109', '10115', '11011', '20095', '50667', '60311', '70173', '80331', '99998']) expect(isValidPlz(p)).toBe(true);
  });

  it('rejects wrong shapes, out-of-range and unassigned Leitregionen', () => {
    for (const p of ['', '1011', '101155', '1011a', ' 10115', '00000', '01000', '99999', '00123', '05123', '43123', '62001', '１０１１５']) {
      expect(isValidPlz(p)).toBe(false);
    }
  });

  it('checks search prefixes of 2 to 5 digits', () => {
    expect(['10', '101', '1011', '10115', '99'].every(isValidPlzPrefix)).toBe(true);
    expect(['1', '00', '62', '430', '101155', '99999'].some(isValidPlzPrefix)).toBe(false);
  });

  it('languages are ISO 639 codes, including Deutsche Gebaerdensprache', () => {
    expect(['de', 'tr', 'ar', 'uk', 'gsg', 'ckb'].every(isValidLanguage)).toBe(true);
    expect(['DE', 'deu', 'xx', 'de-DE', ''].some(isValidLanguage)).toBe(false);
  });
});
