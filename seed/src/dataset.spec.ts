import { toHex } from '@qpc/crypto';
import { emptyAnnounceStore, ingestAnnounce, isValidPlz, matchSlots, validateFilter, verifyAnnounce, zonedParts, DAY_MS, MINUTE_MS } from '@qpc/fapp';
import { Fachrichtung } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { demoAuthority, DEMO_AUTHORITY_NAME, issueDemoAttestation } from './authority.js';
import { buildDemoDataset } from './dataset.js';
import { DemoRandom } from './random.js';
import { officeHourSlots, OFFICE_HOUR_STARTS } from './therapists.js';

const NOW = Date.UTC(2026, 2, 16, 7, 0); // Monday 2026-03-16, two weeks before the March DST change
const dataset = buildDemoDataset({ therapists: 200, now: NOW, seed: 'spec' });

describe('demo dataset', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = buildDemoDataset({ therapists: 20, now: NOW, seed: 'spec' });
    expect(again.announces.map(toHex)).toEqual(dataset.announces.slice(0, 20).map(toHex));
    const other = buildDemoDataset({ therapists: 20, now: NOW, seed: 'other' });
    expect(toHex(other.announces[0]!)).not.toBe(toHex(dataset.announces[0]!));
  });

  it('every announce verifies against the demo authority and lands in the store', () => {
    let store = emptyAnnounceStore();
    let verified = 0;
    for (const bytes of dataset.announces) {
      const r = ingestAnnounce(store, bytes, { nowMs: NOW, trust: dataset.authority.trust });
      expect(r.kind).toBe('accepted');
      store = r.store;
      if (r.kind === 'accepted' && r.record.verified) verified++;
    }
    expect(store.byTherapist.size).toBe(200);
    expect(verified).toBeGreaterThan(150);
    expect(verified).toBeLessThan(200);
  });

  it('spreads over real PLZ regions, methods, payers and languages', () => {
    const ts = dataset.therapists;
    expect(ts.every((t) => isValidPlz(t.plz))).toBe(true);
    const cities = new Set(ts.map((t) => t.city));
    for (const c of ['Berlin', 'Hamburg', 'München', 'Köln', 'Frankfurt am Main', 'Leipzig', 'Dresden', 'Stuttgart']) expect(cities).toContain(c);
    expect(new Set(ts.flatMap((t) => t.input.fachrichtungen)).size).toBe(4);
    expect(new Set(ts.flatMap((t) => t.input.kostentraeger)).size).toBe(4);
    expect(new Set(ts.flatMap((t) => t.input.modalitaeten)).size).toBe(3);
    const langs = new Set(ts.flatMap((t) => t.input.languages));
    for (const l of ['de', 'en', 'tr']) expect(langs).toContain(l);
  });

  it('places slots on weekdays in Berlin office hours over the next four weeks, across the DST change', () => {
    const starts = dataset.therapists.flatMap((t) => t.input.slots.map((s) => s.startMs));
    for (const s of starts) {
      const p = zonedParts(s);
      expect(p.weekday).toBeGreaterThanOrEqual(1);
      expect(p.weekday).toBeLessThanOrEqual(5);
      expect(OFFICE_HOUR_STARTS).toContain(p.hour);
      expect([0, 30]).toContain(p.minute);
      expect(s).toBeGreaterThan(NOW);
      expect(s).toBeLessThanOrEqual(NOW + 29 * DAY_MS);
      expect(s % MINUTE_MS).toBe(0);
    }
    // Both offsets occur: slots before 29 March are CET (UTC+1), after it CEST (UTC+2).
    const tenOclock = starts.filter((s) => zonedParts(s).hour === 10 && zonedParts(s).minute === 0);
    expect(new Set(tenOclock.map((s) => new Date(s).getUTCHours()))).toEqual(new Set([8, 9]));
  });

  it('the matcher finds demo slots like a patient would', () => {
    const candidates = dataset.announces.map((b) => verifyAnnounce(b, { nowMs: NOW, trust: dataset.authority.trust }));
    const hits = matchSlots(candidates, validateFilter({ plzPrefix: '10', fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE], limit: 10 }), { nowMs: NOW });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.announce.plz.startsWith('10'))).toBe(true);
  });

  it('keeps the secret keys for demo login', () => {
    const t = dataset.therapists[0]!;
    expect(t.signing.secretKey).toHaveLength(32);
    expect(t.kem.secretKey).toHaveLength(32);
  });
});

describe('demo authority', () => {
  it('is fixed, labelled demo, and issues attestations that verify', () => {
    const a = demoAuthority();
    expect(toHex(a.keys.publicKey)).toBe(toHex(demoAuthority().keys.publicKey));
    expect(DEMO_AUTHORITY_NAME).toMatch(/DEMO/);
    const t = dataset.therapists[0]!;
    const issued = issueDemoAttestation({ therapistKey: t.signing.publicKey, licenceNumber: 'DEMO-PP-1', fachrichtungen: [Fachrichtung.SYSTEMISCH], nowMs: NOW });
    expect(issued.attestation.authorityKey).toEqual(a.keys.publicKey);
    expect(issued.attestation.validUntilMs).toBe(NOW + 365 * DAY_MS);
  });
});

describe('office hour slot plans', () => {
  it('never overlap and respect the count', () => {
    const slots = officeHourSlots(new DemoRandom('x'), { nowMs: NOW, days: 28, count: 12 });
    expect(slots).toHaveLength(12);
    const sorted = [...slots].sort((a, b) => a.startMs - b.startMs);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.startMs).toBeGreaterThanOrEqual(sorted[i - 1]!.startMs + sorted[i - 1]!.durationMinutes * MINUTE_MS);
  });
});
