import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { MerkleLog, merkleLeafHash, verifyConsistency, verifyInclusion } from './merkle.js';

// RFC 6962 / RFC 9162 reference data (the Certificate Transparency test leaves and tree heads).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(fromHex);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION = [
  { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];
const CONSISTENCY = [
  { first: 2, second: 8, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { first: 6, second: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { first: 2, second: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];

function refLog(): MerkleLog {
  const log = new MerkleLog();
  for (const l of LEAVES) log.append(l);
  return log;
}

describe('Merkle log (RFC 9162)', () => {
  it('reference roots for sizes 0..8', () => {
    const log = refLog();
    for (let n = 0; n <= 8; n++) expect(toHex(log.root(n))).toBe(ROOTS[n]);
  });

  it('reference inclusion proofs', () => {
    const log = refLog();
    for (const v of INCLUSION) {
      expect(log.inclusionProof(v.index, v.size).map(toHex)).toEqual(v.proof);
      expect(verifyInclusion(merkleLeafHash(LEAVES[v.index]!), v.index, v.size, v.proof.map(fromHex), fromHex(ROOTS[v.size]!))).toBe(true);
    }
  });

  it('reference consistency proofs', () => {
    const log = refLog();
    for (const v of CONSISTENCY) {
      expect(log.consistencyProof(v.first, v.second).map(toHex)).toEqual(v.proof);
      expect(verifyConsistency(v.first, v.second, fromHex(ROOTS[v.first]!), fromHex(ROOTS[v.second]!), v.proof.map(fromHex))).toBe(true);
    }
  });

  it('every inclusion and consistency proof up to 33 leaves verifies; tampering never does', () => {
    const log = new MerkleLog();
    for (let i = 0; i < 33; i++) log.append(Uint8Array.of(i, i * 3));
    for (let n = 1; n <= 33; n++) {
      const root = log.root(n);
      for (let i = 0; i < n; i++) {
        const p = log.inclusionProof(i, n);
        expect(verifyInclusion(log.leafHash(i), i, n, p, root)).toBe(true);
        if (n > 1) {
          expect(verifyInclusion(log.leafHash(i), (i + 1) % n, n, p, root)).toBe(false);
          expect(verifyInclusion(log.leafHash((i + 1) % n), i, n, p, root)).toBe(false);
        }
        if (p.length > 0) {
          const bad = p.map((x) => x.slice());
          bad[0]![0]! ^= 1;
          expect(verifyInclusion(log.leafHash(i), i, n, bad, root)).toBe(false);
          expect(verifyInclusion(log.leafHash(i), i, n, p.slice(0, -1), root)).toBe(false);
        }
      }
      for (let m = 1; m <= n; m++) {
        const p = log.consistencyProof(m, n);
        expect(verifyConsistency(m, n, log.root(m), root, p)).toBe(true);
        if (m < n) {
          const other = log.root(m === 1 ? 2 : m - 1);
          expect(verifyConsistency(m, n, other, root, p)).toBe(false);
          expect(verifyConsistency(m, n, log.root(m), log.root(m), p)).toBe(false);
        }
      }
    }
  });

  it('property: verifiers never throw on garbage', () => {
    const h = fc.uint8Array({ minLength: 0, maxLength: 40 });
    fc.assert(
      fc.property(h, fc.integer({ min: -3, max: 100 }), fc.integer({ min: -3, max: 100 }), fc.array(h, { maxLength: 8 }), h, (leaf, a, b, proof, root) => {
        expect(typeof verifyInclusion(leaf, a, b, proof, root)).toBe('boolean');
        expect(typeof verifyConsistency(a, b, leaf, root, proof)).toBe('boolean');
      }),
    );
  });
});
