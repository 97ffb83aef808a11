// Text helpers with no protocol code behind them: the search page's first paint loads only these,
// while the Berlin-time formatting and the enum labels come with the code that needs them.
import type { Dictionary } from '../../i18n/de';

/** Fills `{name}` placeholders. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}

/** A calm, translated sentence for an API problem code (or `network`). */
export function problemMessage(errors: Dictionary['errors'], code: string, status = 0): string {
  const known = (errors as Record<string, string>)[code];
  if (known) return known;
  if (status >= 500) return errors.unavailable;
  return errors.generic;
}

/** A refusal the page can explain: an API problem code, or `network` when nothing answered. */
export class ApiProblem extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}
