import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { decryptVault, encryptVault, vaultParams, type VaultParams } from './vault.js';

// Cheap parameters keep the suite fast; the format and code paths are the same.
const FAST: VaultParams = { m: 64, t: 1, p: 1 };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
}

describe('vault (Argon2id + XChaCha20-Poly1305)', () => {
  it('round trip; wrong password is WRONG_PASSWORD', async () => {
    const blob = await encryptVault('korrekt Pferd Batterie', utf8('geheim'), { params: FAST });
    expect(new TextDecoder().decode(blob.subarray(0, 4))).toBe('QVLT');
    expect(vaultParams(blob)).toEqual(FAST);
    expect(await decryptVault('korrekt Pferd Batterie', blob)).toEqual(utf8('geheim'));
    expect(await decryptVault(utf8('korrekt Pferd Batterie'), blob)).toEqual(utf8('geheim'));
    expect(await code(decryptVault('falsch', blob))).toBe('WRONG_PASSWORD');
  });

  it('default parameters (OWASP baseline) work', async () => {
    const blob = await encryptVault('pw', utf8('x'));
    expect(vaultParams(blob)).toEqual({ m: 19456, t: 2, p: 1 });
    expect(await decryptVault('pw', blob)).toEqual(utf8('x'));
  });

  it('any flipped bit fails cleanly', async () => {
    const blob = await encryptVault('pw', utf8('secret data'), { params: FAST });
    for (let pos = 0; pos < blob.length; pos++) {
      const t = blob.slice();
      t[pos]! ^= 0x01;
      expect(['WRONG_PASSWORD', 'MALFORMED', 'UNSUPPORTED_VERSION']).toContain(await code(decryptVault('pw', t)));
    }
  });

  it('refuses absurd cost parameters in a crafted header', async () => {
    const blob = await encryptVault('pw', utf8('x'), { params: FAST });
    const t = blob.slice();
    new DataView(t.buffer).setUint32(6, 0xffffffff);
    expect(await code(decryptVault('pw', t))).toBe('MALFORMED');
    await expect(encryptVault('pw', utf8('x'), { params: { m: 1, t: 1, p: 1 } })).rejects.toBeInstanceOf(CryptoError);
  });

  it('property: random bytes never throw anything but CryptoError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 120 }), fc.boolean(), async (b, withMagic) => {
        if (withMagic && b.length >= 16) {
          b.set(utf8('QVLT'));
          b[4] = 1;
          b[5] = 1;
          new DataView(b.buffer).setUint32(6, 64);
          new DataView(b.buffer).setUint32(10, 1);
          b[14] = 1;
        }
        expect(await code(decryptVault('pw', b))).not.toBe('ok');
      }),
      { numRuns: 60 },
    );
  });
});
