import { equalBytes } from '@noble/ciphers/utils.js';
import { provider } from '#provider';
import { CryptoError } from './errors.js';

/** Cryptographically secure random bytes (node:crypto on Node, getRandomValues elsewhere). */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new CryptoError('INVALID_ARGUMENT', 'randomBytes: n must be a non-negative integer');
  return provider.randomBytes(n);
}

export function sha256(data: Uint8Array): Uint8Array {
  return provider.sha256(data);
}

export function sha512(data: Uint8Array): Uint8Array {
  return provider.sha512(data);
}

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return provider.hkdfSha256(ikm, salt, info, length);
}

/**
 * Constant-time comparison for MACs, tags and tokens: the running time depends on the length
 * only, not on where the inputs differ. JavaScript gives no hard guarantee (the JIT may
 * optimise), but there is no early exit in the code.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return false;
  return equalBytes(a, b);
}

/**
 * Overwrites a secret with zeros. JavaScript cannot guarantee that no other copy exists:
 * the garbage collector may have moved it, engines and native libraries keep their own copies
 * (OpenSSL key objects, strings), and a string (e.g. a password) can never be wiped at all.
 */
export function zeroize(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8 decoding; invalid sequences throw CryptoError('MALFORMED'). */
export function fromUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b);
  } catch (e) {
    throw new CryptoError('MALFORMED', 'invalid UTF-8', { cause: e });
  }
}

// Encoders write ASCII codes into a byte array and decode it once. Appending two characters at
// a time (`s += …`) gives V8 a rope of one node per step: a 32-byte key's hex was 63 nodes,
// each comparison of two such ids walked them (0.3 µs against 0.01-0.03 µs for flat strings),
// and every id kept as a map key or search-index entry held the rope.
const ascii = new TextDecoder();
const HEX_CODES = encoder.encode('0123456789abcdef');

/** Lower-case hex. */
export function toHex(b: Uint8Array): string {
  const out = new Uint8Array(b.length * 2);
  for (let i = 0; i < b.length; i++) {
    out[2 * i] = HEX_CODES[b[i]! >>> 4]!;
    out[2 * i + 1] = HEX_CODES[b[i]! & 15]!;
  }
  return ascii.decode(out);
}

/** Lower- or upper-case hex, even length; anything else throws CryptoError('MALFORMED'). */
export function fromHex(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new CryptoError('MALFORMED', 'invalid hex');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INV = new Int16Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_INV[B64URL.charCodeAt(i)] = i;
const B64URL_CODES = encoder.encode(B64URL);

/** RFC 4648 §5 base64url without padding. */
export function toBase64Url(b: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((b.length * 4) / 3));
  let o = 0;
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out[o++] = B64URL_CODES[n >>> 18]!;
    out[o++] = B64URL_CODES[(n >>> 12) & 63]!;
    out[o++] = B64URL_CODES[(n >>> 6) & 63]!;
    out[o++] = B64URL_CODES[n & 63]!;
  }
  const rest = b.length - i;
  if (rest > 0) {
    const n = (b[i]! << 16) | (rest === 2 ? b[i + 1]! << 8 : 0);
    out[o] = B64URL_CODES[n >>> 18]!;
    out[o + 1] = B64URL_CODES[(n >>> 12) & 63]!;
    if (rest === 2) out[o + 2] = B64URL_CODES[(n >>> 6) & 63]!;
  }
  return ascii.decode(out);
}

/**
 * Strict base64url decoding: no padding, no whitespace, canonical trailing bits. Anything else
 * throws CryptoError('MALFORMED'), so one byte string has exactly one encoding.
 */
export function fromBase64Url(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 4 === 1) throw new CryptoError('MALFORMED', 'invalid base64url');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64URL_INV[c]! : -1;
    if (v < 0) throw new CryptoError('MALFORMED', 'invalid base64url');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new CryptoError('MALFORMED', 'non-canonical base64url');
  return out;
}

/** Throws CryptoError(code) unless `b` is a Uint8Array of exactly `len` bytes. */
export function expectBytes(b: unknown, len: number | undefined, what: string, code: 'INVALID_KEY' | 'MALFORMED' | 'INVALID_ARGUMENT' = 'INVALID_ARGUMENT'): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new CryptoError(code, `${what} must be a Uint8Array`);
  if (len !== undefined && b.length !== len) throw new CryptoError(code, `${what} must be ${len} bytes`);
}
