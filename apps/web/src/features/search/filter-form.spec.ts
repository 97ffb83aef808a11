import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { parseFilterForm, RESULT_LIMIT } from './filter-form';

describe('parseFilterForm', () => {
  it('syncs the 2-digit region of a full PLZ and filters on the whole PLZ', () => {
    expect(parseFilterForm({ plz: ' 10115 ' })).toEqual({ ok: true, region: '10', filter: { plzPrefix: '10115', limit: RESULT_LIMIT } });
    expect(parseFilterForm({ plz: '803' })).toMatchObject({ ok: true, region: '80', filter: { plzPrefix: '803' } });
  });

  it('maps every select to its enum and the checkboxes to flags', () => {
    const parsed = parseFilterForm({
      plz: '10',
      fachrichtung: 'VERHALTENSTHERAPIE',
      kostentraeger: 'GKV',
      terminart: 'SPRECHSTUNDE',
      modalitaet: 'VIDEO',
      altersgruppe: 'KINDER_JUGENDLICHE',
      language: 'tr',
      barrierFree: 'on',
      verifiedOnly: 'on',
    });
    expect(parsed).toEqual({
      ok: true,
      region: '10',
      filter: {
        plzPrefix: '10',
        fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE],
        kostentraeger: [Kostentraeger.GKV],
        terminarten: [Terminart.SPRECHSTUNDE],
        modalitaeten: [Modalitaet.VIDEO],
        altersgruppe: Altersgruppe.KINDER_JUGENDLICHE,
        language: 'tr',
        barrierFreeOnly: true,
        verifiedOnly: true,
        limit: RESULT_LIMIT,
      },
    });
  });

  it('treats "any" and empty values as no filter', () => {
    expect(parseFilterForm({ plz: '10', fachrichtung: 'any', kostentraeger: '', language: 'any', from: '', until: '' })).toEqual({
      ok: true,
      region: '10',
      filter: { plzPrefix: '10', limit: RESULT_LIMIT },
    });
  });

  it('reads dates as whole days in Berlin, across the DST change', () => {
    const parsed = parseFilterForm({ plz: '10', from: '2026-10-24', until: '2026-10-25' });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    // 24 Oct is summer time (UTC+2); 26 Oct 00:00 is winter time (UTC+1): the range is 49 hours.
    expect(parsed.filter.fromMs).toBe(Date.UTC(2026, 9, 23, 22, 0));
    expect(parsed.filter.untilMs).toBe(Date.UTC(2026, 9, 25, 23, 0));
  });

  it('reports field errors instead of throwing', () => {
    expect(parseFilterForm({})).toEqual({ ok: false, errors: { plz: 'plz_required' } });
    expect(parseFilterForm({ plz: '1' })).toEqual({ ok: false, errors: { plz: 'plz_invalid' } });
    expect(parseFilterForm({ plz: '05123' })).toEqual({ ok: false, errors: { plz: 'plz_invalid' } });
    expect(parseFilterForm({ plz: '10a' })).toEqual({ ok: false, errors: { plz: 'plz_invalid' } });
    expect(parseFilterForm({ plz: '101150' })).toEqual({ ok: false, errors: { plz: 'plz_invalid' } });
    expect(parseFilterForm({ plz: '10', from: '2026-02-30' })).toEqual({ ok: false, errors: { from: 'date_invalid' } });
    expect(parseFilterForm({ plz: '10', from: '2026-05-02', until: '2026-05-01' })).toEqual({ ok: false, errors: { until: 'date_order' } });
    expect(parseFilterForm({ plz: '10', language: 'xx' })).toEqual({ ok: false, errors: { language: 'language_invalid' } });
    expect(parseFilterForm({ plz: '10', fachrichtung: 'UNSPECIFIED' })).toEqual({ ok: false, errors: { form: 'invalid' } });
    expect(parseFilterForm({ plz: '10', terminart: 'toString' })).toEqual({ ok: false, errors: { form: 'invalid' } });
  });
});
