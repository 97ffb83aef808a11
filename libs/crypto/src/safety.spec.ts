import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.js';
import { generateSigningKeyPair } from './identity.js';
import { safetyNumber, verifySafetyQr } from './safety.js';

const alice = { publicKey: generateSigningKeyPair().publicKey, stableId: utf8('account:alice') };
const bob = { publicKey: generateSigningKeyPair().publicKey, stableId: utf8('account:bob') };

describe('safety numbers', () => {
  it('60 digits in 12 groups, identical on both sides', () => {
    const ab = safetyNumber(alice, bob);
    const ba = safetyNumber(bob, alice);
    expect(ab.digits).toMatch(/^\d{60}$/);
    expect(ab.groups).toHaveLength(12);
    expect(ab.groups.join('')).toBe(ab.digits);
    expect(ba.digits).toBe(ab.digits);
    expect(ba.qrPayload).toEqual(ab.qrPayload);
    expect(ab.qrPayload).toHaveLength(65);
  });

  it('changes when a key or an id changes', () => {
    const base = safetyNumber(alice, bob).digits;
    expect(safetyNumber({ ...alice, publicKey: generateSigningKeyPair().publicKey }, bob).digits).not.toBe(base);
    expect(safetyNumber(alice, { ...bob, stableId: utf8('account:bobby') }).digits).not.toBe(base);
  });

  it('QR verification, symmetric, and never throws on junk', () => {
    const qr = safetyNumber(alice, bob).qrPayload;
    expect(verifySafetyQr(qr, bob, alice)).toBe(true);
    const t = qr.slice();
    t[10]! ^= 1;
    expect(verifySafetyQr(t, alice, bob)).toBe(false);
    const mallory = { publicKey: generateSigningKeyPair().publicKey, stableId: utf8('account:bob') };
    expect(verifySafetyQr(qr, alice, mallory)).toBe(false);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      expect(verifySafetyQr(b, alice, bob)).toBe(false);
    }), { numRuns: 30 });
    expect(verifySafetyQr(qr, { publicKey: new Uint8Array(3), stableId: utf8('x') }, bob)).toBe(false);
  });
});
