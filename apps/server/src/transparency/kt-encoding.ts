import { utf8 } from '@qpc/crypto';
import { uuidBytes } from '../delivery/receipts.js';

/**
 * KT leaf: "qpc-kt-v1\n" || kind (1 = device added, 2 = device revoked) || account id (16) ||
 * device id (16) || username length (u8) || username (UTF-8) || device signing key (32) ||
 * time in ms (u64 BE). The SDK decodes the same layout.
 */
export const KT_LEAF_CONTEXT = 'qpc-kt-v1\n';
export const KT_HEAD_CONTEXT = 'qpc-sth-v1\n';
export type KtKind = 'add' | 'revoke';

export interface KtEntry {
  kind: KtKind;
  accountId: string;
  deviceId: string;
  username: string;
  signingKey: Uint8Array;
  timeMs: number;
}

export function encodeKtLeaf(e: KtEntry): Uint8Array {
  const ctx = utf8(KT_LEAF_CONTEXT);
  const name = utf8(e.username);
  const out = new Uint8Array(ctx.length + 1 + 16 + 16 + 1 + name.length + 32 + 8);
  let o = 0;
  out.set(ctx, o);
  o += ctx.length;
  out[o++] = e.kind === 'add' ? 1 : 2;
  out.set(uuidBytes(e.accountId), o);
  o += 16;
  out.set(uuidBytes(e.deviceId), o);
  o += 16;
  out[o++] = name.length;
  out.set(name, o);
  o += name.length;
  out.set(e.signingKey, o);
  o += 32;
  new DataView(out.buffer).setBigUint64(o, BigInt(e.timeMs));
  return out;
}

/** Signed tree head input: context || tree size (u64 BE) || timestamp ms (u64 BE) || root hash (32). */
export function treeHeadInput(treeSize: number, timeMs: number, root: Uint8Array): Uint8Array {
  const ctx = utf8(KT_HEAD_CONTEXT);
  const out = new Uint8Array(ctx.length + 16 + 32);
  out.set(ctx, 0);
  const v = new DataView(out.buffer);
  v.setBigUint64(ctx.length, BigInt(treeSize));
  v.setBigUint64(ctx.length + 8, BigInt(timeMs));
  out.set(root, ctx.length + 16);
  return out;
}
