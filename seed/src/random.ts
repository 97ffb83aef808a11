import { concatBytes, sha256, utf8 } from '@qpc/crypto';

/**
 * Deterministic randomness for demo data: SHA-256 in counter mode over a seed string.
 * Same seed, same dataset — on every machine. Never use it for real keys.
 */
export class DemoRandom {
  private readonly key: Uint8Array;
  private counter = 0;
  private pool: Uint8Array = new Uint8Array(0);
  private offset = 0;

  constructor(seed: string) {
    this.key = sha256(utf8(`qpc-seed/v1\u0000${seed}`));
  }

  /** A child stream that does not shift this one's sequence: derive per-entity randomness. */
  fork(label: string): DemoRandom {
    return new DemoRandom(`${Array.from(this.key, (b) => b.toString(16).padStart(2, '0')).join('')}/${label}`);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.offset >= this.pool.length) {
        const c = new Uint8Array(8);
        new DataView(c.buffer).setBigUint64(0, BigInt(this.counter++));
        this.pool = sha256(concatBytes(this.key, c));
        this.offset = 0;
      }
      out[i] = this.pool[this.offset++]!;
    }
    return out;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    const b = this.bytes(7);
    let x = 0;
    for (const v of b) x = x * 256 + v;
    return (x % 2 ** 53) / 2 ** 53;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Picks by weight (weights need not sum to 1). */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.float() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** A random subset of `count` distinct items, in the input's order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const idx = items.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx
      .slice(0, Math.min(count, items.length))
      .sort((a, b) => a - b)
      .map((i) => items[i]!);
  }
}
