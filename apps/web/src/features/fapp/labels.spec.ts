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
