import { verify } from '@qpc/crypto';
import { Fachrichtung, Kostentraeger, Terminart } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { verifyAnnounce } from './announce.js';
import { FappError } from './errors.js';
import { announceBytes, authority, NOW, rawAnnounceInit, signRawAnnounce, slotAt, slotId, therapist, trust } from './test/fixtures.js';

const bytes = announceBytes();

describe('verifyAnnounce with a caller-supplied signature verifier', () => {
  it('hands over both checks (announce, attestation) with exactly the inputs the default verifies', () => {
    const checks: [Uint8Array, Uint8Array, Uint8Array][] = [];
    const v = verifyAnnounce(bytes, { nowMs: NOW, trust, verifySignature: (...c) => (checks.push(c), true) });
    expect(v.verified).toBe(true);
    expect(checks).toHaveLength(2);
    expect(checks[0]![0]).toEqual(therapist.publicKey);
    expect(checks[1]![0]).toEqual(authority.publicKey);
    expect(checks.map((c) => verify(...c))).toEqual([true, true]);
    // A check that would fail: the same inputs with one bit of the signature flipped.
    const bad = checks[1]![2].slice();
    bad[0]! ^= 1;
    expect(verify(checks[1]![0], checks[1]![1], bad)).toBe(false);
  });

  it('a verifier that says no is BAD_SIGNATURE, for the announce as for the attestation', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return e instanceof FappError ? e.code : String(e);
      }
    };
    expect(code(() => verifyAnnounce(bytes, { nowMs: NOW, trust, verifySignature: () => false }))).toBe('BAD_SIGNATURE');
    let n = 0;
    expect(code(() => verifyAnnounce(bytes, { nowMs: NOW, trust, verifySignature: () => n++ === 0 }))).toBe('BAD_SIGNATURE');
    expect(n).toBe(2);
  });
});

describe('verifyAnnounce normalises what it returns', () => {
  it('gives enum sets and slots in order, whether the announce lists them in order or not', () => {
    const h = 3600_000;
    const slots = [slotAt(3, NOW + 3 * h), slotAt(1, NOW + h), slotAt(2, NOW + h + 50 * 60_000), slotAt(0, NOW + h - 50 * 60_000)];
    const listed = { fachrichtungen: [Fachrichtung.SYSTEMISCH, Fachrichtung.VERHALTENSTHERAPIE], kostentraeger: [Kostentraeger.SELBSTZAHLER, Kostentraeger.GKV, Kostentraeger.PKV] };
    const sorted = { fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE, Fachrichtung.SYSTEMISCH], kostentraeger: [Kostentraeger.GKV, Kostentraeger.PKV, Kostentraeger.SELBSTZAHLER] };
    const expected = [0, 1, 2, 3].map((n) => slotAt(n, 0).id!.join());
    for (const overrides of [
      { ...listed, slots },
      { ...sorted, slots: [...slots].sort((a, b) => a.startMs - b.startMs) },
    ]) {
      const { announce } = verifyAnnounce(announceBytes(overrides), { nowMs: NOW, trust });
      expect(announce.fachrichtungen).toEqual(sorted.fachrichtungen);
      expect(announce.kostentraeger).toEqual(sorted.kostentraeger);
      expect(announce.slots.map((s) => s.id.join())).toEqual(expected);
      expect(announce.slots.map((s) => s.startMs)).toEqual([...announce.slots.map((s) => s.startMs)].sort((a, b) => a - b));
    }
  });
});

describe('verifyAnnounce on sets and slots out of order', () => {
  const raw = (patch: Record<string, unknown>) => signRawAnnounce({ ...rawAnnounceInit(), ...patch });
  const code = (bytes: Uint8Array) => {
    try {
      verifyAnnounce(bytes, { nowMs: NOW, trust });
      return 'ok';
    } catch (e) {
      return e instanceof FappError ? e.code : String(e);
    }
  };
  const { VERHALTENSTHERAPIE: VT, SYSTEMISCH: ST, ANALYTISCH: AP } = Fachrichtung;

  it('finds a repeated value wherever it stands, and the first failure in list order decides', () => {
    expect(code(raw({ fachrichtungen: [VT, ST, VT] }))).toBe('MALFORMED');
    expect(code(raw({ fachrichtungen: [ST, VT, ST] }))).toBe('MALFORMED');
    expect(code(raw({ fachrichtungen: [VT, VT, 99] }))).toBe('MALFORMED');
    expect(code(raw({ fachrichtungen: [VT, 99, VT] }))).toBe('UNKNOWN_ENUM');
    // A long list of one known value: a repeat, found at its second element.
    expect(code(raw({ kostentraeger: Array.from({ length: 5_000 }, () => Kostentraeger.GKV) }))).toBe('MALFORMED');
    expect(code(raw({ fachrichtungen: [AP, ST, VT] }))).toBe('ok');
  });

  it('sorts languages, and finds a repeated one in any position after every code is checked', () => {
    const languages = (codes: string[]) => verifyAnnounce(raw({ languages: codes }), { nowMs: NOW, trust }).announce.languages;
    expect(languages(['tr', 'de', 'en'])).toEqual(['de', 'en', 'tr']);
    expect(languages(['de', 'en'])).toEqual(['de', 'en']);
    expect(code(raw({ languages: ['en', 'de', 'en'] }))).toBe('MALFORMED');
    expect(code(raw({ languages: ['en', 'de', 'en', 'xx'] }))).toBe('INVALID_LANGUAGE');
  });

  it('finds overlapping and repeated slots in any order', () => {
    const h = 3600_000;
    const at = (n: number, ms: number) => ({ id: slotId(n), startMs: BigInt(ms), durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE, groupSize: 0 });
    expect(code(raw({ slots: [at(1, NOW + 3 * h), at(2, NOW + h), at(3, NOW + h + 30 * 60_000)] }))).toBe('SLOT_OVERLAP');
    expect(code(raw({ slots: [at(1, NOW + 3 * h), at(2, NOW + h), at(1, NOW + 5 * h)] }))).toBe('DUPLICATE_SLOT');
    expect(code(raw({ slots: [at(1, NOW + 3 * h), at(2, NOW + h)] }))).toBe('ok');
  });
});

