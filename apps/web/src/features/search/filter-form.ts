import { isFappError, isValidLanguage, isValidPlzPrefix, validateFilter, wallTimeToUtc, addDays, type SlotFilter } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';

/** Raw values of the search form, as FormData gives them (checkboxes: present or not). */
export type FilterFormValues = Record<string, string | string[] | undefined>;

export type FilterFormField = 'plz' | 'from' | 'until' | 'language' | 'form';
export type FilterFormErrorCode = 'plz_required' | 'plz_invalid' | 'date_invalid' | 'date_order' | 'language_invalid' | 'invalid';

export type ParsedFilterForm =
  | {
      ok: true;
      /** What the page syncs: the first two digits of the PLZ (the only thing sent to the server). */
      region: string;
      /** Applied on the device only. */
      filter: SlotFilter;
    }
  | { ok: false; errors: Partial<Record<FilterFormField, FilterFormErrorCode>> };

/** Result list size: enough to scroll through, small enough to render quickly on a phone. */
export const RESULT_LIMIT = 100;

function one(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
}

function enumOf<E extends Record<string, string | number>>(e: E, raw: string): number | undefined {
  if (raw === '' || raw === 'any') return undefined;
  const value = e[raw as keyof E];
  return typeof value === 'number' && value !== 0 ? value : Number.NaN;
}

/** YYYY-MM-DD (an `<input type="date">` value) -> midnight in Berlin, as a UTC instant. */
function berlinMidnight(raw: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  return wallTimeToUtc({ year, month, day, hour: 0, minute: 0 });
}

/**
 * Parses the search form into the region to sync and the filter to apply on the device.
 * Every select holds an enum *name* (e.g. `VERHALTENSTHERAPIE`) or `any`; the date range is
 * inclusive of whole Berlin days (`until` ends at the next midnight).
 */
export function parseFilterForm(values: FilterFormValues): ParsedFilterForm {
  const errors: Partial<Record<FilterFormField, FilterFormErrorCode>> = {};
  const plz = one(values.plz).replace(/\s+/g, '');
  if (plz === '') errors.plz = 'plz_required';
  else if (!/^\d{2,5}$/.test(plz) || !isValidPlzPrefix(plz)) errors.plz = 'plz_invalid';

  const language = one(values.language);
  if (language !== '' && language !== 'any' && !isValidLanguage(language)) errors.language = 'language_invalid';

  const fromRaw = one(values.from);
  const untilRaw = one(values.until);
  const fromMs = fromRaw === '' ? undefined : berlinMidnight(fromRaw);
  const untilDay = untilRaw === '' ? undefined : berlinMidnight(untilRaw);
  if (fromMs === null) errors.from = 'date_invalid';
  if (untilDay === null) errors.until = 'date_invalid';
  let untilMs: number | undefined;
  if (typeof untilDay === 'number') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(untilRaw)!;
    const next = addDays({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, 1);
    untilMs = wallTimeToUtc({ ...next, hour: 0, minute: 0 });
    if (typeof fromMs === 'number' && untilMs <= fromMs) errors.until = 'date_order';
  }

  const enums = {
    fachrichtung: enumOf(Fachrichtung, one(values.fachrichtung)),
    kostentraeger: enumOf(Kostentraeger, one(values.kostentraeger)),
    terminart: enumOf(Terminart, one(values.terminart)),
    modalitaet: enumOf(Modalitaet, one(values.modalitaet)),
    altersgruppe: enumOf(Altersgruppe, one(values.altersgruppe)),
  };
  if (Object.values(enums).some((v) => Number.isNaN(v))) errors.form = 'invalid';
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const draft: SlotFilter = { plzPrefix: plz, limit: RESULT_LIMIT };
  if (enums.fachrichtung !== undefined) draft.fachrichtungen = [enums.fachrichtung];
  if (enums.kostentraeger !== undefined) draft.kostentraeger = [enums.kostentraeger];
  if (enums.terminart !== undefined) draft.terminarten = [enums.terminart];
  if (enums.modalitaet !== undefined) draft.modalitaeten = [enums.modalitaet];
  if (enums.altersgruppe !== undefined) draft.altersgruppe = enums.altersgruppe;
  if (language !== '' && language !== 'any') draft.language = language;
  if (values.barrierFree !== undefined && one(values.barrierFree) !== '') draft.barrierFreeOnly = true;
  if (values.verifiedOnly !== undefined && one(values.verifiedOnly) !== '') draft.verifiedOnly = true;
  if (typeof fromMs === 'number') draft.fromMs = fromMs;
  if (untilMs !== undefined) draft.untilMs = untilMs;
  try {
    return { ok: true, region: plz.slice(0, 2), filter: validateFilter(draft) };
  } catch (e) {
    if (isFappError(e)) return { ok: false, errors: { form: 'invalid' } };
    throw e;
  }
}
