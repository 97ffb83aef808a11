import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServerError } from '../common/server-error.js';
import { parseSearchQuery, SEARCH_LIMIT_MAX } from './search-query.js';

/** The fields a query is refused for, or the parsed query. */
function fieldsOf(raw: Record<string, unknown>): string[] {
  try {
    parseSearchQuery(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ServerError);
    const err = e as ServerError;
    expect(err.code).toBe('request.invalid');
    expect(err.status).toBe(400);
    return (err.extra.errors as { field: string; messages: string[] }[]).map((f) => f.field);
  }
  return [];
}

describe('parseSearchQuery', () => {
  it('parses every parameter into its type', () => {
    expect(
      parseSearchQuery({
        plz: '10115',
        fachrichtung: '1, 2',
        kostentraeger: ['1', '3'],
        terminart: '5',
        modalitaet: '2',
        altersgruppe: '1',
        language: 'gsg',
        barrierFree: 'true',
        verifiedOnly: '1',
        from: '2026-10-23',
        until: '2026-10-25T09:30:00+02:00',
        limit: '500',
        includeAnnounces: 'false',
      }),
    ).toEqual({
      plz: '10115',
      fachrichtung: [1, 2],
      kostentraeger: [1, 3],
      terminart: [5],
      modalitaet: [2],
      altersgruppe: 1,
      language: 'gsg',
      barrierFree: true,
      verifiedOnly: true,
      from: Date.UTC(2026, 9, 23),
      until: Date.UTC(2026, 9, 25, 7, 30),
      limit: 500,
      includeAnnounces: false,
    });
  });

  it('takes an empty query, and an empty list, as no filter', () => {
    expect(parseSearchQuery({})).toEqual({});
    expect(parseSearchQuery(undefined)).toEqual({});
    expect(parseSearchQuery({ fachrichtung: '' })).toEqual({});
  });

  it('keeps the limit within 1..500', () => {
    expect(parseSearchQuery({ limit: '1' })).toEqual({ limit: 1 });
    expect(parseSearchQuery({ limit: String(SEARCH_LIMIT_MAX) })).toEqual({ limit: SEARCH_LIMIT_MAX });
    for (const limit of ['0', String(SEARCH_LIMIT_MAX + 1), '-1', '1.5', '1e2', '', ' 5', '0x10']) expect(fieldsOf({ limit }), limit).toEqual(['limit']);
  });

  it('refuses a PLZ that is not 2 to 5 digits, and a language that is not an ISO 639 code', () => {
    for (const plz of ['1', '123456', 'abcde', '', '10 15']) expect(fieldsOf({ plz }), plz).toEqual(['plz']);
    for (const language of ['D', 'deutsch', 'DE', '']) expect(fieldsOf({ language }), language).toEqual(['language']);
  });

  it('refuses enum lists with anything but integers of up to four digits', () => {
    for (const fachrichtung of ['x', '1,,2', '1;2', '12345', '-1', '1.0']) expect(fieldsOf({ fachrichtung }), fachrichtung).toEqual(['fachrichtung']);
    // Enum numbers no version knows are well-formed here; validateFilter refuses them (fapp.unknown_enum).
    expect(parseSearchQuery({ fachrichtung: '99' })).toEqual({ fachrichtung: [99] });
    for (const altersgruppe of ['', 'x', '-1', '1.5']) expect(fieldsOf({ altersgruppe }), altersgruppe).toEqual(['altersgruppe']);
  });

  it('takes booleans as true, false, 1 or 0 only', () => {
    for (const v of ['yes', 'maybe', '', 'TRUE', '2']) expect(fieldsOf({ barrierFree: v, verifiedOnly: v, includeAnnounces: v }), v).toEqual(['barrierFree', 'verifiedOnly', 'includeAnnounces']);
  });

  it('takes instants with their offset or calendar dates, and nothing that would depend on the server’s time zone', () => {
    expect(parseSearchQuery({ from: '2026-03-29T01:00:00Z' })).toEqual({ from: Date.UTC(2026, 2, 29, 1) });
    expect(parseSearchQuery({ from: '2026-10-25T02:30:00.250-01:00' })).toEqual({ from: Date.UTC(2026, 9, 25, 3, 30, 0, 250) });
    expect(parseSearchQuery({ until: '2028-02-29' })).toEqual({ until: Date.UTC(2028, 1, 29) });
    for (const from of [
      'yesterday',
      '2026-10-23T09:00:00', // no offset: local time of whichever server answers
      '2026-02-29', // not a leap year
      '2026-02-30T00:00:00Z',
      '2026-13-01',
      '2026-10-23T24:00:00Z',
      '2026-10-23 09:00:00Z',
      '2026-W43',
      '2026-296',
      '20261023T090000Z',
      '1969-12-31T23:59:59Z',
      '',
    ]) {
      expect(fieldsOf({ from }), from).toEqual(['from']);
    }
  });

  it('answers any query object with a parsed query or request.invalid, nothing else', () => {
    const names = ['plz', 'fachrichtung', 'kostentraeger', 'terminart', 'modalitaet', 'altersgruppe', 'language', 'barrierFree', 'verifiedOnly', 'from', 'until', 'limit', 'includeAnnounces'];
    const value = fc.oneof(fc.string(), fc.constantFrom('', '1', '0', 'true', '10115', 'de', '2026-10-23', '2026-10-23T09:00:00Z', '1,2', '500', '501'));
    const query = fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string()), fc.oneof(value, fc.array(value, { maxLength: 3 })));
    fc.assert(
      fc.property(query, (raw) => {
        let parsed: ReturnType<typeof parseSearchQuery>;
        try {
          parsed = parseSearchQuery(raw);
        } catch (e) {
          expect(e).toBeInstanceOf(ServerError);
          expect((e as ServerError).code).toBe('request.invalid');
          return;
        }
        for (const [k, v] of Object.entries(parsed)) {
          expect(names).toContain(k);
          // Text only where the parameter is text; everything else parsed into its type.
          expect(typeof v === 'string').toBe(k === 'plz' || k === 'language');
        }
        if (parsed.plz !== undefined) expect(parsed.plz).toMatch(/^\d{2,5}$/);
        if (parsed.limit !== undefined) expect(parsed.limit >= 1 && parsed.limit <= SEARCH_LIMIT_MAX).toBe(true);
        for (const t of [parsed.from, parsed.until]) if (t !== undefined) expect(Number.isSafeInteger(t) && t >= 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses unknown parameters and a single-valued parameter given twice, naming every one', () => {
    expect(fieldsOf({ plz: '10', q: 'x', sort: 'price' })).toEqual(['q', 'sort']);
    expect(fieldsOf({ plz: ['10', '20'], limit: ['5', '6'], terminart: ['1', '2'] })).toEqual(['plz', 'limit']);
    expect(fieldsOf({ __proto__: 'x', constructor: '1', toString: '1' } as Record<string, unknown>)).toEqual(['constructor', 'toString']);
    expect(fieldsOf({ plz: '1', limit: '0', from: 'x' })).toEqual(['plz', 'limit', 'from']);
  });
});
