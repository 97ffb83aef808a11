import { create } from '@bufbuild/protobuf';
import { SafSnapshotEntrySchema, SafSnapshotSchema } from '@qpc/proto';
import { decodeMesh, encodeMesh, u64 } from './codec.js';
import { MeshError, meshFail } from './errors.js';
import { openMeshEnvelope, type OpenedEnvelope } from './envelope.js';

export interface SafLimits {
  /** Envelopes kept per recipient address. */
  maxPerRecipient: number;
  maxBytesPerRecipient: number;
  /** All recipients together. */
  maxTotalBytes: number;
  /** Kept at most this long after receipt, even if the envelope lives longer. */
  maxAgeMs: number;
  /** Content ids of delivered envelopes remembered (so a second copy is not delivered again). */
  maxDeliveredIds: number;
}

export const DEFAULT_SAF_LIMITS: SafLimits = {
  maxPerRecipient: 256,
  maxBytesPerRecipient: 4 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 3600_000,
  maxDeliveredIds: 100_000,
};

export interface SafEntry {
  contentIdHex: string;
  recipientHex: string;
  bytes: Uint8Array;
  receivedAtMs: number;
  /** min(envelope expiry, receipt + maxAge). */
  dropAtMs: number;
}

export type DepositResult =
  | { kind: 'stored'; entry: SafEntry; envelope: OpenedEnvelope }
  /** Already queued or already delivered: nothing changes. */
  | { kind: 'duplicate'; contentIdHex: string }
  | { kind: 'rejected'; error: MeshError };

export interface SafStats {
  recipients: number;
  envelopes: number;
  bytes: number;
}

/**
 * Store-and-forward queue for offline recipients, keyed by mesh address. Sans-IO: the
 * clock comes in as `nowMs`, persistence is snapshot()/restore() bytes for the caller to
 * write. Mutable on purpose: a relay holds thousands of envelopes and copy-on-write
 * would make every deposit O(n).
 */
export class SafQueue {
  private readonly byRecipient = new Map<string, SafEntry[]>();
  private readonly byId = new Map<string, SafEntry>();
  /** contentIdHex -> envelope expiry, insertion-ordered for eviction. */
  private readonly delivered = new Map<string, number>();
  private totalBytes = 0;

  constructor(readonly limits: SafLimits = DEFAULT_SAF_LIMITS) {}

  /** Verifies an envelope (signature, expiry, hops) and queues it for its recipient. */
  deposit(bytes: Uint8Array, nowMs: number, receivedAtMs = nowMs): DepositResult {
    let env: OpenedEnvelope;
    try {
      env = openMeshEnvelope(bytes, nowMs);
    } catch (e) {
      if (e instanceof MeshError) return { kind: 'rejected', error: e };
      throw e;
    }
    if (this.byId.has(env.contentIdHex) || this.delivered.has(env.contentIdHex)) return { kind: 'duplicate', contentIdHex: env.contentIdHex };
    const dropAtMs = Math.min(env.expiresAtMs, receivedAtMs + this.limits.maxAgeMs);
    if (dropAtMs <= nowMs) return { kind: 'rejected', error: new MeshError('TTL_EXPIRED', 'envelope would outlive its queue age') };
    this.prune(nowMs);
    const list = this.byRecipient.get(env.recipientHex) ?? [];
    const queuedBytes = list.reduce((n, e) => n + e.bytes.length, 0);
    if (list.length >= this.limits.maxPerRecipient) return { kind: 'rejected', error: new MeshError('QUEUE_FULL', 'recipient queue holds the maximum number of envelopes') };
    if (queuedBytes + bytes.length > this.limits.maxBytesPerRecipient) return { kind: 'rejected', error: new MeshError('QUEUE_FULL', 'recipient queue is full') };
    if (this.totalBytes + bytes.length > this.limits.maxTotalBytes) return { kind: 'rejected', error: new MeshError('QUEUE_FULL', 'store-and-forward store is full') };
    const entry: SafEntry = { contentIdHex: env.contentIdHex, recipientHex: env.recipientHex, bytes, receivedAtMs, dropAtMs };
    list.push(entry);
    this.byRecipient.set(env.recipientHex, list);
    this.byId.set(entry.contentIdHex, entry);
    this.totalBytes += bytes.length;
    return { kind: 'stored', entry, envelope: env };
  }

  /** Queued envelopes for a recipient, oldest first; they stay queued until acknowledged. */
  pending(recipientHex: string, nowMs: number, limit = Infinity): SafEntry[] {
    this.prune(nowMs);
    return (this.byRecipient.get(recipientHex) ?? []).slice(0, limit);
  }

  /** Deletes acknowledged envelopes of this recipient; returns how many were deleted. */
  ack(recipientHex: string, contentIdsHex: readonly string[]): number {
    const list = this.byRecipient.get(recipientHex);
    if (!list) return 0;
    const wanted = new Set(contentIdsHex);
    let n = 0;
    const keep = list.filter((e) => {
      if (!wanted.has(e.contentIdHex)) return true;
      this.remove(e);
      this.rememberDelivered(e);
      n++;
      return false;
    });
    if (keep.length === 0) this.byRecipient.delete(recipientHex);
    else this.byRecipient.set(recipientHex, keep);
    return n;
  }

  /** Drops envelopes past their drop time; returns how many. */
  prune(nowMs: number): number {
    let n = 0;
    for (const [rcpt, list] of this.byRecipient) {
      const keep = list.filter((e) => {
        if (e.dropAtMs > nowMs) return true;
        this.remove(e);
        n++;
        return false;
      });
      if (keep.length === 0) this.byRecipient.delete(rcpt);
      else if (keep.length !== list.length) this.byRecipient.set(rcpt, keep);
    }
    for (const [id, until] of this.delivered) if (until <= nowMs) this.delivered.delete(id);
    return n;
  }

  stats(): SafStats {
    return { recipients: this.byRecipient.size, envelopes: this.byId.size, bytes: this.totalBytes };
  }

  /** Everything queued, as bytes for the data directory. */
  snapshot(): Uint8Array {
    const entries = [...this.byId.values()].map((e) => create(SafSnapshotEntrySchema, { envelope: e.bytes, receivedAtMs: BigInt(e.receivedAtMs) }));
    return encodeMesh(SafSnapshotSchema, create(SafSnapshotSchema, { entries }));
  }

  /** Rebuilds a queue from snapshot bytes; envelopes that no longer verify or have expired are dropped. */
  static restore(bytes: Uint8Array, nowMs: number, limits: SafLimits = DEFAULT_SAF_LIMITS): SafQueue {
    const snap = decodeMesh(SafSnapshotSchema, bytes, limits.maxTotalBytes + 16 * 1024 * 1024);
    const q = new SafQueue(limits);
    for (const e of snap.entries) q.deposit(e.envelope, nowMs, u64(e.receivedAtMs, 'received_at_ms'));
    return q;
  }

  private remove(e: SafEntry): void {
    this.byId.delete(e.contentIdHex);
    this.totalBytes -= e.bytes.length;
  }

  private rememberDelivered(e: SafEntry): void {
    this.delivered.set(e.contentIdHex, e.dropAtMs);
    while (this.delivered.size > this.limits.maxDeliveredIds) {
      const oldest = this.delivered.keys().next().value;
      if (oldest === undefined) break;
      this.delivered.delete(oldest);
    }
  }
}

export function assertSafLimits(l: SafLimits): SafLimits {
  for (const [k, v] of Object.entries(l)) if (!Number.isSafeInteger(v) || v <= 0) meshFail('MALFORMED', `SAF limit ${k} must be a positive integer`);
  return l;
}
