import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { createRecoveryBundle, generateRecoveryCodes, openRecoveryBundle, parseRecoveryCode, recoveryBundleCodeIds } from './recovery.js';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
}

describe('recovery codes', () => {
  const kit = generateRecoveryCodes();
  const secret = utf8('identity seed + account key backup');

  it('eight readable codes', () => {
    expect(kit.codes).toHaveLength(8);
    for (const c of kit.codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    expect(new Set(kit.codes).size).toBe(8);
    // lenient typing: lower case, no dashes, O for 0
    const c = kit.codes[0]!;
    expect(parseRecoveryCode(c.toLowerCase().replaceAll('-', ' ').replaceAll('0', 'o'))).toEqual(parseRecoveryCode(c));
  });

  it('each code opens the bundle once; a used code fails; the others keep working', async () => {
    let bundle = await createRecoveryBundle(kit.slots, secret);
    const first = await openRecoveryBundle(bundle, kit.codes[3]!);
    expect(first.secret).toEqual(secret);
    bundle = first.bundle;
    expect(recoveryBundleCodeIds(bundle).open).toHaveLength(7);
    expect(recoveryBundleCodeIds(bundle).used).toHaveLength(1);
    expect(await code(openRecoveryBundle(bundle, kit.codes[3]!))).toBe('RECOVERY_CODE_USED');
    for (const c of [0, 1, 2, 4, 5, 6, 7]) {
      const r = await openRecoveryBundle(bundle, kit.codes[c]!);
      expect(r.secret).toEqual(secret);
      bundle = r.bundle;
    }
    expect(recoveryBundleCodeIds(bundle).open).toHaveLength(0);
  });

  it('a foreign or mistyped code fails cleanly; a new bundle needs no codes', async () => {
    const bundle = await createRecoveryBundle(kit.slots, secret);
    const other = generateRecoveryCodes(1);
    expect(await code(openRecoveryBundle(bundle, other.codes[0]!))).toBe('RECOVERY_CODE_INVALID');
    expect(await code(openRecoveryBundle(bundle, 'ABCDE-FGHJK'))).toBe('RECOVERY_CODE_INVALID');
    expect(await code(openRecoveryBundle(bundle, 'UUUUU-UUUUU-UUUUU-UUUUU'))).toBe('RECOVERY_CODE_INVALID');
    const rotated = await createRecoveryBundle(kit.slots, utf8('new secret'));
    expect((await openRecoveryBundle(rotated, kit.codes[0]!)).secret).toEqual(utf8('new secret'));
  });

  it('tampering with the bundle fails cleanly', async () => {
    const bundle = await createRecoveryBundle(kit.slots.slice(0, 2), secret);
    for (const pos of [0, 5, 6, 7 + 20, 7 + 16 + 600, bundle.length - 30, bundle.length - 1]) {
      const t = bundle.slice();
      t[pos]! ^= 1;
      expect(await code(openRecoveryBundle(t, kit.codes[0]!))).not.toBe('ok');
    }
  });

  it('property: random bytes never throw anything but CryptoError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 100 }), fc.string({ maxLength: 30 }), async (b, c) => {
        expect(await code(openRecoveryBundle(b, kit.codes[0]!))).not.toBe('ok');
        try {
          parseRecoveryCode(c);
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
        }
      }),
      { numRuns: 100 },
    );
  });
});
