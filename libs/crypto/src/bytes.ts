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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += HEX[x];
  return s;
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

/** RFC 4648 §5 base64url without padding. */
export function toBase64Url(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]!;
  }
  return s;
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
