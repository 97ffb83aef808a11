// Locale names and URL helpers only: safe to import from client components without
// pulling the dictionaries into the browser bundle.

/** German first: it is a German health-care service. */
export const locales = ['de', 'en'] as const;
export type Locale = (typeof locales)[number];
export const defaultLocale: Locale = 'de';

export function isLocale(value: string): value is Locale {
  return (locales as readonly string[]).includes(value);
}

/** The language a page links to from its language switch. */
export function otherLocale(locale: Locale): Locale {
  return locale === 'de' ? 'en' : 'de';
}

/** `/de/suche?x=1` -> `/en/suche?x=1`; a path outside a locale goes to the locale's home page. */
export function switchLocalePath(pathname: string, to: Locale): string {
  const segments = pathname.split('/');
  if (segments[1] !== undefined && isLocale(segments[1])) {
    segments[1] = to;
    return segments.join('/');
  }
  return `/${to}`;
}
