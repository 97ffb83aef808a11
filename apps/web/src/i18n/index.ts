import { de, type Dictionary } from './de';
import { en } from './en';
import { type Locale } from './locale-path';

export type { Dictionary };
export * from './locale-path';

const dictionaries: Record<Locale, Dictionary> = { de, en };

export function getDictionary(locale: Locale): Dictionary {
  return dictionaries[locale];
}
