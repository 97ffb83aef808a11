import { describe, expect, it } from 'vitest';
import { de } from './de';
import { en } from './en';
import { getDictionary, isLocale, locales, switchLocalePath } from './index';

/** Every leaf as `path -> value`, array indices included, so shapes compare exactly. */
function leaves(value: unknown, path = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      for (const [p, v] of leaves(child, path ? `${path}.${key}` : key)) out.set(p, v);
    }
  } else {
    out.set(path, value);
  }
  return out;
}

describe('dictionaries', () => {
  const all = { de, en };

  it('have exactly the same keys (and list lengths) in every language', () => {
    const reference = [...leaves(de).keys()].sort();
    expect(reference.length).toBeGreaterThan(20);
    for (const locale of locales) {
      expect([...leaves(all[locale]).keys()].sort(), locale).toEqual(reference);
    }
  });

  it('contain no empty or untrimmed strings, and nothing but strings', () => {
    for (const locale of locales) {
      for (const [path, value] of leaves(all[locale])) {
        expect(typeof value, `${locale}:${path}`).toBe('string');
        const text = value as string;
        expect(text.trim().length, `${locale}:${path} is empty`).toBeGreaterThan(0);
        expect(text, `${locale}:${path} has outer whitespace`).toBe(text.trim());
      }
    }
  });

  it('translate: apart from names and numbers, English differs from German', () => {
    const shared = new Set(['layout.brand']);
    const en_ = leaves(en);
    const same = [...leaves(de)].filter(([p, v]) => !shared.has(p) && en_.get(p) === v).map(([p]) => p);
    expect(same).toEqual([]);
  });

  it('give the crisis numbers in both languages', () => {
    for (const locale of locales) {
      expect(getDictionary(locale).crisis.telefonseelsorge.length).toBeGreaterThan(0);
    }
  });
});

describe('locale paths', () => {
  it('recognises only the supported locales', () => {
    expect(isLocale('de')).toBe(true);
    expect(isLocale('en')).toBe(true);
    expect(isLocale('fr')).toBe(false);
    expect(isLocale('')).toBe(false);
  });

  it('switches the language segment and keeps the rest of the path', () => {
    expect(switchLocalePath('/de', 'en')).toBe('/en');
    expect(switchLocalePath('/de/suche/ergebnis', 'en')).toBe('/en/suche/ergebnis');
    expect(switchLocalePath('/en/', 'de')).toBe('/de/');
    expect(switchLocalePath('/', 'en')).toBe('/en');
    expect(switchLocalePath('/healthz', 'de')).toBe('/de');
  });
});
