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
});
