import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { de } from '../../i18n/de';
import { en } from '../../i18n/en';
import { problemMessage } from './labels';

/** Every problem the patient endpoints (region sync, reserve, mailbox, cancel) and the proxy can answer with. */
const PATIENT_PROBLEMS = [
  'fapp.slot_held',
  'fapp.slot_booked',
  'fapp.stamp_reused',
  'fapp.rate_limited',
  'fapp.unknown_slot',
  'fapp.slot_in_past',
  'fapp.stale_stamp',
  'fapp.bad_stamp',
  'fapp.mailbox_in_use',
  'fapp.unknown_mailbox',
  'fapp.not_held',
  'fapp.hold_mismatch',
  'fapp.expired',
  'fapp.reservation_mismatch',
  'fapp.invalid_plz',
  'request.invalid',
  'web.upstream_unavailable',
  'network',
];

describe('problemMessage', () => {
  it('has its own calm sentence for every patient-facing problem, in both languages', () => {
    for (const errors of [de.errors, en.errors]) {
      const messages = PATIENT_PROBLEMS.map((code) => problemMessage(errors, code, 409));
      for (const [i, m] of messages.entries()) {
        expect(m, PATIENT_PROBLEMS[i]).not.toBe(errors.generic);
        expect(m, PATIENT_PROBLEMS[i]).not.toBe(errors.unavailable);
      }
      expect(new Set(messages).size).toBe(messages.length);
    }
  });

  it('tells the slot-taken case kindly', () => {
    expect(problemMessage(de.errors, 'fapp.slot_held')).toMatch(/^Dieser Termin wurde gerade von jemand anderem reserviert/);
    expect(problemMessage(en.errors, 'fapp.slot_held')).toMatch(/^Someone else has just reserved this appointment/);
  });

  it('falls back to "server problem" for 5xx and to a generic sentence otherwise', () => {
    expect(problemMessage(de.errors, 'health.database_unreachable', 503)).toBe(de.errors.unavailable);
    expect(problemMessage(de.errors, 'fapp.something_new', 400)).toBe(de.errors.generic);
    expect(problemMessage(en.errors, 'http.418', 418)).toBe(en.errors.generic);
  });
});

describe('enum labels', () => {
  // The search form builds its options from these dictionaries alone (no protocol code before
  // the page is interactive), so they must name every enum value, in the enum's order.
  const enums = { fachrichtung: Fachrichtung, kostentraeger: Kostentraeger, terminart: Terminart, altersgruppe: Altersgruppe, modalitaet: Modalitaet };

  it('list every enum name but UNSPECIFIED, in the enum order, in both languages', () => {
    for (const [dictName, dict] of Object.entries({ de, en })) {
      for (const [field, e] of Object.entries(enums)) {
        const names = Object.entries(e)
          .filter(([k, v]) => typeof v === 'number' && k !== 'UNSPECIFIED')
          .sort((a, b) => (a[1] as number) - (b[1] as number))
          .map(([k]) => k);
        expect(names.length, field).toBeGreaterThan(1);
        expect(Object.keys(dict.labels[field as keyof typeof enums]), `${dictName}.labels.${field}`).toEqual(names);
      }
    }
  });
});
