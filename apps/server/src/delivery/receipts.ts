import { sha256, sign, utf8 } from '@qpc/crypto';
import type { SigningKeyPair } from '@qpc/crypto';

/**
 * Delivery receipt signing input (the SDK builds the same bytes to verify):
 * "qpc-receipt-v1\n" || SHA-256(payload) (32) || queue = device id as 16 UUID bytes ||
 * seq (u64 BE) || enqueued-at in ms since the epoch (u64 BE).
 */
export const RECEIPT_CONTEXT = 'qpc-receipt-v1\n';

export interface Receipt {
  messageHash: string;
  queue: string;
  seq: number;
  time: string;
  signature: string;
}

export function uuidBytes(id: string): Uint8Array {
  return new Uint8Array(Buffer.from(id.replace(/-/g, ''), 'hex'));
}

export function receiptInput(messageHash: Uint8Array, queue: string, seq: number, timeMs: number): Uint8Array {
  const ctx = utf8(RECEIPT_CONTEXT);
  const out = new Uint8Array(ctx.length + 32 + 16 + 16);
  const view = new DataView(out.buffer);
  out.set(ctx, 0);
  out.set(messageHash, ctx.length);
  out.set(uuidBytes(queue), ctx.length + 32);
  view.setBigUint64(ctx.length + 48, BigInt(seq));
  view.setBigUint64(ctx.length + 56, BigInt(timeMs));
  return out;
}

export function signReceipt(key: SigningKeyPair, payload: Uint8Array, queue: string, seq: number, timeMs: number): Receipt {
  return signReceiptOfHash(key, sha256(payload), queue, seq, timeMs);
}

/** The same from the message's SHA-256 (a retry re-signs from the stored hash, sequence and time: Ed25519 gives the same bytes). */
export function signReceiptOfHash(key: SigningKeyPair, hash: Uint8Array, queue: string, seq: number, timeMs: number): Receipt {
  const sig = sign(key.secretKey, receiptInput(hash, queue, seq, timeMs));
  return { messageHash: Buffer.from(hash).toString('base64url'), queue, seq, time: new Date(timeMs).toISOString(), signature: Buffer.from(sig).toString('base64url') };
}
