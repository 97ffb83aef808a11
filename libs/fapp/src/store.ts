import { verifyAnnounce, type Announce, type AnnouncePolicy, type VerifiedAnnounce } from './announce.js';
import { FappError } from './errors.js';
import { MAX_ANNOUNCE_TTL_MS } from './limits.js';

/** What the store keeps per therapist: the newest announce and its exact bytes. */
export interface AnnounceRecord {
  therapistId: string;
  sequence: number;
  announce: Announce;
  verified: boolean;
  /** FappSigned bytes as received; serve and forward these. */
  bytes: Uint8Array;
  /** The signed body bytes; equal bodies at equal sequence are the same announce. */
  body: Uint8Array;
  expiresAtMs: number;
}

/** The sequence of a pruned announce, kept until no older announce can still be valid. */
export interface Tombstone {
  sequence: number;
  untilMs: number;
}

/**
 * Dedup and supersede state: at most one announce per therapist key, the one with the
 * highest sequence. Immutable; independent of any transport's duplicate cache.
 */
export interface AnnounceStore {
  readonly byTherapist: ReadonlyMap<string, AnnounceRecord>;
  readonly tombstones: ReadonlyMap<string, Tombstone>;
}

export function emptyAnnounceStore(): AnnounceStore {
  return { byTherapist: new Map(), tombstones: new Map() };
}

export type IngestResult =
  /** New therapist or higher sequence: store it and forward it. */
  | { kind: 'accepted'; store: AnnounceStore; record: AnnounceRecord; superseded: AnnounceRecord | undefined }
  /** Same sequence and same signed body: already known, do not forward again. */
  | { kind: 'duplicate'; store: AnnounceStore; record: AnnounceRecord }
  /** Lower sequence (rollback/replay) or same sequence with other content (equivocation). */
  | { kind: 'rejected'; store: AnnounceStore; error: FappError; currentSequence: number };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The dedup rule (spec §5): the same sequence and the same signed body are the same announce,
 * whatever hop count a relay gave its envelope or however the envelope was encoded.
 */
export function sameAnnounce(a: { sequence: number; body: Uint8Array }, b: { sequence: number; body: Uint8Array }): boolean {
  return a.sequence === b.sequence && sameBytes(a.body, b.body);
}

/**
 * The supersede rule, applied to an announce that verifyAnnounce accepted.
 * Highest sequence per therapist wins; equal sequence with equal body is a duplicate;
 * anything else is STALE_SEQUENCE. Tombstones of pruned announces count as stored.
 */
export function ingestVerified(store: AnnounceStore, v: VerifiedAnnounce): IngestResult {
  const a = v.announce;
  const current = store.byTherapist.get(a.therapistId);
  const floor = current?.sequence ?? store.tombstones.get(a.therapistId)?.sequence;
  if (current && sameAnnounce({ sequence: a.sequence, body: v.body }, current)) {
    return { kind: 'duplicate', store, record: current };
  }
  if (floor !== undefined && a.sequence <= floor) {
    const error = new FappError(
      'STALE_SEQUENCE',
      a.sequence === floor ? `sequence ${a.sequence} already used with other content` : `sequence ${a.sequence} is not above ${floor}`,
    );
    return { kind: 'rejected', store, error, currentSequence: floor };
  }
  const record: AnnounceRecord = {
    therapistId: a.therapistId,
    sequence: a.sequence,
    announce: a,
    verified: v.verified,
    bytes: v.bytes,
    body: v.body,
    expiresAtMs: a.expiresAtMs,
  };
  const byTherapist = new Map(store.byTherapist);
  byTherapist.set(a.therapistId, record);
  let tombstones = store.tombstones;
  if (tombstones.has(a.therapistId)) {
    const t = new Map(tombstones);
    t.delete(a.therapistId);
    tombstones = t;
  }
  return { kind: 'accepted', store: { byTherapist, tombstones }, record, superseded: current };
}

/**
 * Removes announces expired at `nowMs` and returns them (a server deletes their rows).
 * Each leaves a tombstone with its sequence until issued_at + 30 days: an honest
 * therapist's older announces were issued earlier, so by then all of them have expired
 * and none can be replayed to bring back old slots.
 */
export function pruneExpired(store: AnnounceStore, nowMs: number): { store: AnnounceStore; removed: AnnounceRecord[] } {
  const removed: AnnounceRecord[] = [];
  const byTherapist = new Map<string, AnnounceRecord>();
  const tombstones = new Map<string, Tombstone>();
  for (const [k, t] of store.tombstones) if (t.untilMs > nowMs) tombstones.set(k, t);
  for (const [k, r] of store.byTherapist) {
    if (r.expiresAtMs > nowMs) {
      byTherapist.set(k, r);
      continue;
    }
    removed.push(r);
    const untilMs = r.announce.issuedAtMs + MAX_ANNOUNCE_TTL_MS;
    if (untilMs > nowMs) tombstones.set(k, { sequence: r.sequence, untilMs });
  }
  return { store: { byTherapist, tombstones }, removed };
}

/** Current announces whose PLZ starts with `plzPrefix` (region sync), by therapist id. */
export function announcesForPrefix(store: AnnounceStore, plzPrefix: string, nowMs: number): AnnounceRecord[] {
  return [...store.byTherapist.values()]
    .filter((r) => r.expiresAtMs > nowMs && r.announce.plz.startsWith(plzPrefix))
    .sort((a, b) => (a.therapistId < b.therapistId ? -1 : a.therapistId > b.therapistId ? 1 : 0));
}

/**
 * verifyAnnounce + ingestVerified in one step: every FappError becomes `rejected`
 * (with no currentSequence when the announce itself was invalid).
 */
export function ingestAnnounce(
  store: AnnounceStore,
  bytes: Uint8Array,
  policy: AnnouncePolicy,
): IngestResult | { kind: 'rejected'; store: AnnounceStore; error: FappError; currentSequence: undefined } {
  let v: VerifiedAnnounce;
  try {
    v = verifyAnnounce(bytes, policy);
  } catch (e) {
    if (e instanceof FappError) return { kind: 'rejected', store, error: e, currentSequence: undefined };
    throw e;
  }
  return ingestVerified(store, v);
}
