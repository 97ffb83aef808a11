import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, fromHex, toHex } from './bytes.js';
import { CryptoError } from './errors.js';
import vectors from './test/fixtures/xwing-draft-connolly-cfrg.json' with { type: 'json' };
import { generateKemKeyPair, kemPublicKey, xwingDecapsulate, xwingEncapsulate } from './xwing.js';

interface Vector { seed: string; eseed: string; ss: string; sk: string; pk: string; ct: string }

describe('X-Wing (draft-connolly-cfrg-xwing-kem)', () => {
  it.each(vectors as Vector[])('draft test vector %#', (v) => {
    const kp = generateKemKeyPair(fromHex(v.seed));
    expect(toHex(kp.secretKey)).toBe(v.sk);
    expect(toHex(kp.publicKey)).toBe(v.pk);
    expect(toHex(kemPublicKey(kp.secretKey))).toBe(v.pk);
    const { cipherText, sharedSecret } = xwingEncapsulate(kp.publicKey, fromHex(v.eseed));
    expect(toHex(cipherText)).toBe(v.ct);
    expect(toHex(sharedSecret)).toBe(v.ss);
    expect(toHex(xwingDecapsulate(kp.secretKey, fromHex(v.ct)))).toBe(v.ss);
  });

  it('random round trip; tampered ciphertext gives a different secret (implicit rejection)', () => {
    const kp = generateKemKeyPair();
    expect(kp.publicKey).toHaveLength(1216);
    expect(kp.secretKey).toHaveLength(32);
    const { cipherText, sharedSecret } = xwingEncapsulate(kp.publicKey);
    expect(cipherText).toHaveLength(1120);
    expect(constantTimeEqual(xwingDecapsulate(kp.secretKey, cipherText), sharedSecret)).toBe(true);
    for (const pos of [0, 500, 1087, 1119]) {
      const ct = cipherText.slice();
      ct[pos]! ^= 1;
      expect(constantTimeEqual(xwingDecapsulate(kp.secretKey, ct), sharedSecret)).toBe(false);
    }
  });

  it('wrong sizes are CryptoErrors', () => {
    const kp = generateKemKeyPair();
    expect(() => generateKemKeyPair(new Uint8Array(31))).toThrow(CryptoError);
    expect(() => xwingEncapsulate(new Uint8Array(10))).toThrow(CryptoError);
    expect(() => xwingEncapsulate(kp.publicKey, new Uint8Array(32))).toThrow(CryptoError);
    expect(() => xwingDecapsulate(kp.secretKey, new Uint8Array(1000))).toThrow(CryptoError);
  });

  it('property: random keys and ciphertexts, of any length, give a result or a CryptoError', () => {
    const kp = generateKemKeyPair();
    const outcome = (f: () => Uint8Array | { sharedSecret: Uint8Array }): string => {
      try {
        const r = f();
        return (r instanceof Uint8Array ? r : r.sharedSecret).length === 32 ? 'secret' : 'bad length';
      } catch (e) {
        return e instanceof CryptoError ? 'CryptoError' : `other: ${String(e)}`;
      }
    };
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1300 }), fc.uint8Array({ minLength: 1120, maxLength: 1120 }), fc.uint8Array({ minLength: 1216, maxLength: 1216 })), (b) => {
        expect(outcome(() => xwingDecapsulate(kp.secretKey, b))).toBe(b.length === 1120 ? 'secret' : 'CryptoError');
        expect(outcome(() => xwingEncapsulate(b))).toMatch(b.length === 1216 ? /^(secret|CryptoError)$/ : /^CryptoError$/);
        expect(outcome(() => xwingDecapsulate(b, new Uint8Array(1120)))).toBe(b.length === 32 ? 'secret' : 'CryptoError');
      }),
      { numRuns: 60 },
    );
  });
});
