import { generateSigningKeyPair, sign, verify } from '@qpc/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type SignatureCheck, SignaturePool } from './signature-pool.node.js';

const pool = new SignaturePool(2);
afterAll(() => pool.close());

function checks(): { checks: SignatureCheck[]; names: string[] } {
  const out: SignatureCheck[] = [];
  const names: string[] = [];
  const add = (name: string, c: SignatureCheck) => (names.push(name), out.push(c));
  for (let i = 0; i < 12; i++) {
    const k = generateSigningKeyPair();
    const message = new TextEncoder().encode(`message ${i} `.repeat(i * 40));
    const signature = sign(k.secretKey, message);
    add(`good ${i}`, { publicKey: k.publicKey, message, signature });
    const flipped = signature.slice();
    flipped[i % 64]! ^= 1;
    add(`flipped signature ${i}`, { publicKey: k.publicKey, message, signature: flipped });
    add(`other message ${i}`, { publicKey: k.publicKey, message: new Uint8Array([...message, 1]), signature });
  }
  const k = generateSigningKeyPair();
  const m = new Uint8Array([1, 2, 3]);
  const s = sign(k.secretKey, m);
  add('short key', { publicKey: k.publicKey.subarray(0, 31), message: m, signature: s });
  add('short signature', { publicKey: k.publicKey, message: m, signature: s.subarray(0, 63) });
  add('key not on the curve', { publicKey: new Uint8Array(32).fill(0xff), message: m, signature: s });
  add('empty message', { publicKey: k.publicKey, message: new Uint8Array(0), signature: sign(k.secretKey, new Uint8Array(0)) });
  return { checks: out, names };
}

describe('SignaturePool', () => {
  it('gives the same answer as verify of @qpc/crypto for every check, in order, across workers', async () => {
    const { checks: cs, names } = checks();
    const got = await pool.verifyAll(cs);
    expect(Object.fromEntries(names.map((n, i) => [n, got[i]]))).toEqual(Object.fromEntries(names.map((n, i) => [n, verify(cs[i]!.publicKey, cs[i]!.message, cs[i]!.signature)])));
    expect(got.filter(Boolean)).toHaveLength(13);
  });

  it('starts its workers ahead of the first checks when asked to, and stops them on close', async () => {
    const own = new SignaturePool(2);
    expect(own.running).toBe(0);
    own.start();
    expect(own.running).toBe(2);
    const { checks: cs } = checks();
    expect(await own.verifyAll(cs)).toEqual(await pool.verifyAll(cs));
    expect(own.running).toBe(2);
    await own.close();
    expect(own.running).toBe(0);
  });

  it('serves concurrent callers independently', async () => {
    const { checks: cs } = checks();
    const [a, b, c] = await Promise.all([pool.verifyAll(cs), pool.verifyAll(cs.slice().reverse()), pool.verifyAll([])]);
    expect(b).toEqual(a.slice().reverse());
    expect(c).toEqual([]);
  });

  it('answers in order when one key signs most of a batch (a licensing authority) and when all keys are the same', async () => {
    const authority = generateSigningKeyPair();
    const cs: SignatureCheck[] = [];
    for (let i = 0; i < 60; i++) {
      const own = generateSigningKeyPair();
      const message = new TextEncoder().encode(`announce ${i}`);
      cs.push({ publicKey: own.publicKey, message, signature: sign(own.secretKey, message) });
      const body = new TextEncoder().encode(`attestation ${i}`);
      // Every third attestation signature is broken.
      const signature = sign(authority.secretKey, body);
      if (i % 3 === 0) signature[0]! ^= 1;
      cs.push({ publicKey: authority.publicKey, message: body, signature });
    }
    const expected = cs.map((c) => verify(c.publicKey, c.message, c.signature));
    expect(expected.filter((ok) => !ok)).toHaveLength(20);
    expect(await pool.verifyAll(cs)).toEqual(expected);
    const onlyAuthority = cs.filter((c) => c.publicKey === authority.publicKey);
    expect(await pool.verifyAll(onlyAuthority)).toEqual(onlyAuthority.map((c) => verify(c.publicKey, c.message, c.signature)));
  });
});

