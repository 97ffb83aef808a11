import { provider } from '#provider';
import { concatBytes, randomBytes, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';

/**
 * Proof-of-work stamp (hashcash over a context).
 *
 * Stamp = `0x01 (version) || bits (u8) || salt (8 random bytes) || counter (u64 BE)`, 18 bytes.
 * Digest = SHA-256("quicprochat/stamp/v1" || u32be(len(context)) || context || stamp).
 * Valid for difficulty d iff bits >= d and the digest starts with at least `bits` zero bits.
 * Verification is one hash. Replay protection is the caller's job: put something
 * unique (a slot id, a server nonce, a time window) into the context.
 */
export const STAMP_VERSION = 0x01;
export const STAMP_LENGTH = 18;
export const MAX_STAMP_BITS = 64;
const DOMAIN = utf8('quicprochat/stamp/v1');
const TRIES_PER_SLICE = 2048;

function prefix(context: Uint8Array): Uint8Array {
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, context.length);
  return concatBytes(DOMAIN, len, context);
}

function leadingZeroBits(h: Uint8Array): number {
  let n = 0;
  for (const b of h) {
    if (b === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

function checkBits(d: number): void {
  if (!Number.isInteger(d) || d < 0 || d > MAX_STAMP_BITS) {
    throw new CryptoError('INVALID_ARGUMENT', `difficultyBits must be an integer in 0..${MAX_STAMP_BITS}`);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Mints a stamp; expected cost 2^difficultyBits hashes. Yields to the event loop every
 * 2048 tries, reports progress and honours `signal` (CryptoError('ABORTED')).
 */
export async function mintStamp(
  context: Uint8Array,
  difficultyBits: number,
  opts: { onProgress?: (tries: number) => void; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  checkBits(difficultyBits);
  if (!(context instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'context must be a Uint8Array');
  const p = prefix(context);
  const buf = new Uint8Array(p.length + STAMP_LENGTH);
  buf.set(p);
  const stamp = buf.subarray(p.length);
  stamp[0] = STAMP_VERSION;
  stamp[1] = difficultyBits;
  stamp.set(randomBytes(8), 2);
  const counter = new DataView(buf.buffer, buf.byteOffset + p.length + 10, 8);
  let tries = 0;
  for (;;) {
    for (let i = 0; i < TRIES_PER_SLICE; i++) {
      const c = tries++;
      counter.setUint32(0, Math.floor(c / 2 ** 32));
      counter.setUint32(4, c >>> 0);
      if (leadingZeroBits(provider.sha256(buf)) >= difficultyBits) return stamp.slice();
    }
    opts.onProgress?.(tries);
    if (opts.signal?.aborted) throw new CryptoError('ABORTED', 'stamp minting aborted', { cause: opts.signal.reason });
    await tick();
    if (opts.signal?.aborted) throw new CryptoError('ABORTED', 'stamp minting aborted', { cause: opts.signal.reason });
  }
}

/** One hash. False for anything malformed; never throws. */
export function verifyStamp(stamp: Uint8Array, context: Uint8Array, difficultyBits: number): boolean {
  if (!(stamp instanceof Uint8Array) || !(context instanceof Uint8Array)) return false;
  if (!Number.isInteger(difficultyBits) || difficultyBits < 0 || difficultyBits > 256) return false;
  if (stamp.length !== STAMP_LENGTH || stamp[0] !== STAMP_VERSION) return false;
  const bits = stamp[1]!;
  if (bits < difficultyBits) return false;
  return leadingZeroBits(provider.sha256(concatBytes(prefix(context), stamp))) >= bits;
}
