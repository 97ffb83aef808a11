import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { open, seal, SEAL_OVERHEAD } from './seal.js';
import { generateKemKeyPair } from './xwing.js';

const recipient = generateKemKeyPair();

async function openCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
}

describe('sealed box (HPKE base, X-Wing, HKDF-SHA256, ChaCha20-Poly1305)', () => {
  it('round trip with info and aad; padded to a bucket', async () => {
    const msg = utf8('Reservierung: Di 14:00');
    const sealed = await seal(recipient.publicKey, msg, { info: utf8('fapp/reserve'), aad: utf8('slot-42'), padTo: 128 });
    expect(sealed[0]).toBe(1);
    expect(sealed.length).toBe(SEAL_OVERHEAD + 128);
    expect(await open(recipient.secretKey, sealed, { info: utf8('fapp/reserve'), aad: utf8('slot-42') })).toEqual(msg);
  });

  it('default padding hides small length differences', async () => {
    const a = await seal(recipient.publicKey, new Uint8Array(1));
    const b = await seal(recipient.publicKey, new Uint8Array(200));
    expect(a.length).toBe(b.length);
    expect(await open(recipient.secretKey, b)).toEqual(new Uint8Array(200));
  });

  it('wrong key, info or aad fail cleanly', async () => {
    const sealed = await seal(recipient.publicKey, utf8('x'), { info: utf8('i'), aad: utf8('a') });
    expect(await openCode(open(generateKemKeyPair().secretKey, sealed, { info: utf8('i'), aad: utf8('a') }))).toBe('DECRYPT_FAILED');
    expect(await openCode(open(recipient.secretKey, sealed, { info: utf8('j'), aad: utf8('a') }))).toBe('DECRYPT_FAILED');
    expect(await openCode(open(recipient.secretKey, sealed, { info: utf8('i') }))).toBe('DECRYPT_FAILED');
  });

  it('flipping any bit fails cleanly', async () => {
    const sealed = await seal(recipient.publicKey, utf8('hello'), { padTo: 16 });
    // every byte of the version, a spread over enc, every byte of the ciphertext and tag
    const positions = [0, ...Array.from({ length: 40 }, (_, i) => 1 + i * 28), ...Array.from({ length: sealed.length - 1121 }, (_, i) => 1121 + i)];
    for (const pos of positions) {
      const t = sealed.slice();
      t[pos]! ^= 1 << (pos % 8);
      const code = await openCode(open(recipient.secretKey, t));
      expect(['DECRYPT_FAILED', 'UNSUPPORTED_VERSION']).toContain(code);
    }
    expect(await openCode(open(recipient.secretKey, sealed.subarray(0, sealed.length - 1)))).toBe('DECRYPT_FAILED');
  });

  it('bad keys are INVALID_KEY', async () => {
    expect(await openCode(seal(new Uint8Array(32), utf8('x')))).toBe('INVALID_KEY');
    expect(await openCode(open(new Uint8Array(31), new Uint8Array(2000)))).toBe('INVALID_KEY');
  });

  it('property: open() on random bytes throws only CryptoError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 1300 }), fc.boolean(), async (b, versioned) => {
        if (versioned && b.length > 0) b[0] = 1;
        expect(await openCode(open(recipient.secretKey, b))).not.toBe('ok');
      }),
      { numRuns: 40 },
    );
  });
});
