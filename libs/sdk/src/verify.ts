import { concatBytes, constantTimeEqual, fromBase64Url, merkleLeafHash, sha256, utf8, verify, verifyConsistency, verifyInclusion } from '@qpc/crypto';

/** Mirrors the server's receipt layout: "qpc-receipt-v1\n" || SHA-256(payload) || queue (16) || seq (u64) || time ms (u64). */
const RECEIPT_CONTEXT = 'qpc-receipt-v1\n';
const KT_LEAF_CONTEXT = 'qpc-kt-v1\n';
const KT_HEAD_CONTEXT = 'qpc-sth-v1\n';

export interface Receipt {
  messageHash: string;
  queue: string;
  seq: number;
  time: string;
  signature: string;
}

export interface SignedTreeHead {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  signature: string;
}

export interface KtLeaf {
  kind: 'add' | 'revoke';
  accountId: string;
  deviceId: string;
  username: string;
  signingKey: Uint8Array;
  timeMs: number;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

function uuidBytes(id: string): Uint8Array {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error('not a UUID');
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

function uuidString(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** True when `receipt` is the server's signature over exactly this payload, queue, sequence and time. */
export function verifyReceipt(serverKey: Uint8Array, receipt: Receipt, payload: Uint8Array): boolean {
  const hash = sha256(payload);
  if (!constantTimeEqual(hash, fromBase64Url(receipt.messageHash))) return false;
  const timeMs = Date.parse(receipt.time);
  if (!Number.isSafeInteger(receipt.seq) || !Number.isFinite(timeMs)) return false;
  const input = concatBytes(utf8(RECEIPT_CONTEXT), hash, uuidBytes(receipt.queue), u64(receipt.seq), u64(timeMs));
  return verify(serverKey, input, fromBase64Url(receipt.signature));
}

export function verifyTreeHead(serverKey: Uint8Array, head: SignedTreeHead): boolean {
  const input = concatBytes(utf8(KT_HEAD_CONTEXT), u64(head.treeSize), u64(Date.parse(head.timestamp)), fromBase64Url(head.rootHash));
  return verify(serverKey, input, fromBase64Url(head.signature));
}

export function decodeKtLeaf(data: Uint8Array): KtLeaf {
  const ctx = utf8(KT_LEAF_CONTEXT);
  if (data.length < ctx.length + 34 + 1 + 40 || !constantTimeEqual(data.subarray(0, ctx.length), ctx)) throw new Error('not a KT leaf');
  let o = ctx.length;
  const kind = data[o++] === 1 ? 'add' : 'revoke';
  const accountId = uuidString(data.subarray(o, o + 16));
  o += 16;
  const deviceId = uuidString(data.subarray(o, o + 16));
  o += 16;
  const len = data[o++]!;
  const username = new TextDecoder().decode(data.subarray(o, o + len));
  o += len;
  const signingKey = data.slice(o, o + 32);
  o += 32;
  if (data.length !== o + 8) throw new Error('not a KT leaf');
  const timeMs = Number(new DataView(data.buffer, data.byteOffset + o, 8).getBigUint64(0));
  return { kind, accountId, deviceId, username, signingKey, timeMs };
}

export function verifyLeafInclusion(leaf: Uint8Array, index: number, head: SignedTreeHead, proof: string[]): boolean {
  return verifyInclusion(merkleLeafHash(leaf), index, head.treeSize, proof.map(fromBase64Url), fromBase64Url(head.rootHash));
}

export function verifyHeadConsistency(older: SignedTreeHead, newer: SignedTreeHead, proof: string[]): boolean {
  return verifyConsistency(older.treeSize, newer.treeSize, fromBase64Url(older.rootHash), fromBase64Url(newer.rootHash), proof.map(fromBase64Url));
}
