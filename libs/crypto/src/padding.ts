import { CryptoError } from './errors.js';

/**
 * Padding before sealing hides the exact plaintext length.
 *
 * Scheme (ISO/IEC 7816-4 style): `plaintext || 0x80 || 0x00…` up to the target length.
 * - `bucket` given: the target is the smallest multiple of `bucket` that is >= len + 1.
 * - default: Padmé(len + 1) with a floor of 256 bytes (Padmé leaks O(log log n) bits of the
 *   length and costs at most ~12 % overhead).
 * unpad() strips trailing zeros and exactly one 0x80 marker.
 */
export const DEFAULT_PAD_FLOOR = 256;
export const MAX_PAD_BUCKET = 1 << 24;

/** Padmé: round L up so that only the top ~log2(log2 L) bits of its length stay significant. */
export function padmeLength(len: number): number {
  if (len < 2) return len;
  const e = Math.floor(Math.log2(len));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.floor((len + mask) / (mask + 1)) * (mask + 1);
}

export function paddedLength(len: number, bucket?: number): number {
  const min = len + 1;
  if (bucket === undefined) return Math.max(DEFAULT_PAD_FLOOR, padmeLength(min));
  if (!Number.isSafeInteger(bucket) || bucket < 1 || bucket > MAX_PAD_BUCKET) {
    throw new CryptoError('INVALID_ARGUMENT', `pad bucket must be an integer in 1..${MAX_PAD_BUCKET}`);
  }
  return Math.ceil(min / bucket) * bucket;
}

export function pad(plaintext: Uint8Array, bucket?: number): Uint8Array {
  if (!(plaintext instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'plaintext must be a Uint8Array');
  const out = new Uint8Array(paddedLength(plaintext.length, bucket));
  out.set(plaintext);
  out[plaintext.length] = 0x80;
  return out;
}

/** Returns a view into `padded` without the padding; CryptoError('MALFORMED') if there is no marker. */
export function unpad(padded: Uint8Array): Uint8Array {
  if (!(padded instanceof Uint8Array)) throw new CryptoError('MALFORMED', 'padded input must be a Uint8Array');
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80) throw new CryptoError('MALFORMED', 'bad padding');
  return padded.subarray(0, i);
}
