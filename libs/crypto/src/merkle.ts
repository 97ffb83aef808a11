import { provider } from '#provider';
import { constantTimeEqual } from './bytes.js';
import { CryptoError } from './errors.js';

/**
 * Append-only Merkle log as in RFC 9162 §2.1 (the Certificate Transparency tree):
 * leaf hash = SHA-256(0x00 || data), node hash = SHA-256(0x01 || left || right),
 * the empty tree hashes to SHA-256(""), and a tree of n leaves splits at k, the largest power
 * of two smaller than n. Used for key transparency and tamper-evident transcript export.
 */
export const MERKLE_HASH_LENGTH = 32;
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

export function merkleLeafHash(data: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + data.length);
  b.set(LEAF);
  b.set(data, 1);
  return provider.sha256(b);
}

export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + left.length + right.length);
  b.set(NODE);
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return provider.sha256(b);
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new CryptoError('INVALID_ARGUMENT', `${what} must be a non-negative integer`);
}

/** An in-memory log of leaf hashes. Subtree hashes of complete power-of-two ranges are cached. */
export class MerkleLog {
  private readonly leaves: Uint8Array[] = [];
  private readonly cache = new Map<string, Uint8Array>();

  get size(): number {
    return this.leaves.length;
  }

  /** Appends `data` as a leaf; returns its index. */
  append(data: Uint8Array): number {
    this.leaves.push(merkleLeafHash(data));
    return this.leaves.length - 1;
  }

  /** Appends an already computed leaf hash. */
  appendLeafHash(leafHash: Uint8Array): number {
    if (leafHash.length !== MERKLE_HASH_LENGTH) throw new CryptoError('INVALID_ARGUMENT', 'leaf hash must be 32 bytes');
    this.leaves.push(leafHash.slice());
    return this.leaves.length - 1;
  }

  leafHash(index: number): Uint8Array {
    const h = this.leaves[index];
    if (!h) throw new CryptoError('INVALID_ARGUMENT', `no leaf ${index}`);
    return h;
  }

  /** MTH(D[0:treeSize]); defaults to the current size. */
  root(treeSize: number = this.size): Uint8Array {
    this.checkTreeSize(treeSize);
    if (treeSize === 0) return provider.sha256(new Uint8Array(0));
    return this.mth(0, treeSize);
  }

  /** PATH(m, D[0:treeSize]) (RFC 9162 §2.1.3.1). */
  inclusionProof(index: number, treeSize: number = this.size): Uint8Array[] {
    this.checkTreeSize(treeSize);
    checkSize(index, 'index');
    if (index >= treeSize) throw new CryptoError('INVALID_ARGUMENT', 'index outside the tree');
    return this.path(index, 0, treeSize);
  }

  /** PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1). */
  consistencyProof(first: number, second: number = this.size): Uint8Array[] {
    this.checkTreeSize(second);
    checkSize(first, 'first');
    if (first > second) throw new CryptoError('INVALID_ARGUMENT', 'first must not exceed second');
    if (first === 0 || first === second) return [];
    return this.subproof(first, 0, second, true);
  }

  private checkTreeSize(n: number): void {
    checkSize(n, 'tree size');
    if (n > this.size) throw new CryptoError('INVALID_ARGUMENT', `tree size ${n} exceeds log size ${this.size}`);
  }

  private mth(start: number, n: number): Uint8Array {
    if (n === 1) return this.leaves[start]!;
    const complete = (n & (n - 1)) === 0;
    const key = `${start}:${n}`;
    if (complete) {
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    const k = split(n);
    const h = merkleNodeHash(this.mth(start, k), this.mth(start + k, n - k));
    if (complete) this.cache.set(key, h);
    return h;
  }

  private path(m: number, start: number, n: number): Uint8Array[] {
    if (n <= 1) return [];
    const k = split(n);
    return m < k
      ? [...this.path(m, start, k), this.mth(start + k, n - k)]
      : [...this.path(m - k, start + k, n - k), this.mth(start, k)];
  }

  private subproof(m: number, start: number, n: number, b: boolean): Uint8Array[] {
    if (m === n) return b ? [] : [this.mth(start, n)];
    const k = split(n);
    return m <= k
      ? [...this.subproof(m, start, k, b), this.mth(start + k, n - k)]
      : [...this.subproof(m - k, start + k, n - k, false), this.mth(start, k)];
  }
}

function validHashes(proof: unknown): proof is Uint8Array[] {
  return Array.isArray(proof) && proof.every((p) => p instanceof Uint8Array && p.length === MERKLE_HASH_LENGTH);
}

function validSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** RFC 9162 §2.1.3.2. Returns false for any invalid input; never throws. */
export function verifyInclusion(leafHash: Uint8Array, index: number, treeSize: number, proof: Uint8Array[], root: Uint8Array): boolean {
  if (!validSize(index) || !validSize(treeSize) || index >= treeSize) return false;
  if (!(leafHash instanceof Uint8Array) || !(root instanceof Uint8Array) || !validHashes(proof)) return false;
  // Sizes beyond 2^53 cannot occur here; bigint keeps the shifts exact above 2^31.
  let fn = BigInt(index);
  let sn = BigInt(treeSize - 1);
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = merkleNodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && constantTimeEqual(r, root);
}

/** RFC 9162 §2.1.4.2. Returns false for any invalid input; never throws. */
export function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: Uint8Array[]): boolean {
  if (!validSize(first) || !validSize(second) || first > second) return false;
  if (!(firstRoot instanceof Uint8Array) || !(secondRoot instanceof Uint8Array) || !validHashes(proof)) return false;
  if (first === second) return proof.length === 0 && constantTimeEqual(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0; // the empty tree is a prefix of every tree
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : proof;
  let fn = BigInt(first - 1);
  let sn = BigInt(second - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = merkleNodeHash(c, fr);
      sr = merkleNodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = merkleNodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && constantTimeEqual(fr, firstRoot) && constantTimeEqual(sr, secondRoot);
}
