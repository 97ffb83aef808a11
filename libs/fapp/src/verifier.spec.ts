import { verify } from '@qpc/crypto';
import { Fachrichtung, Kostentraeger } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { verifyAnnounce } from './announce.js';
import { FappError } from './errors.js';
import { announceBytes, authority, NOW, slotAt, therapist, trust } from './test/fixtures.js';

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
