import { availableParallelism } from 'node:os';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { fromHex, toHex, verify } from '@qpc/crypto';
import {
  type Announce,
  type CachedAttestation,
  applyRevocationList,
  createTrustStore,
  decodeMessage,
  FappError,
  type SlotFilter,
  type TrustStore,
  type VerifiedAnnounce,
  validateAnnounceBody,
  validateFilter,
  verifyAnnounce,
  openEnvelope,
  DEFAULT_QUERY_LIMIT,
  sameAnnounce,
  ANNOUNCE_BATCH_MAX_BYTES,
  ANNOUNCE_BATCH_MAX_COUNT,
} from '@qpc/fapp';
import { FappKind, FappSignedSchema } from '@qpc/proto';
import { Clock } from '../common/clock.js';
import { toProblem } from '../common/problem.filter.js';
import { ServerError } from '../common/server-error.js';
import { ServerConfig } from '../config/config.js';
import { type AnnounceBatchItemDto, type AnnounceBatchResultDto } from './fapp.dto.js';
import { announceWrite, type AnnounceWrite, FappRepository } from './fapp.repository.js';
import { FappSearchIndex } from './search-index.js';
import { RevocationRepository } from './revocation.repository.js';
import { GroupCommit } from '../common/group-commit.js';
import { POOL_MIN_CHECKS, type SignatureCheck, SignaturePool } from './signature-pool.node.js';

/** Where a stored announce came from. */
export type IngestOrigin = 'http' | 'mesh';
export type StoredListener = (bytes: Uint8Array, origin: IngestOrigin) => void;
export type TrustListener = (trust: TrustStore) => void;

export interface IngestOutcome {
  therapistId: string;
  sequence: number;
  verified: boolean;
  authority: string | null;
  slots: number;
  expiresAt: string;
}

const REGION_PAGE_MAX = 500;

/** A Map that forgets its oldest entries beyond `max`. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: K, value: V): this {
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}

/** Parses FAPP_AUTHORITIES (`Name=hex;Name=hex`) into a trust store. */
export function trustStoreFromConfig(spec: string): TrustStore {
  const authorities = spec
    .split(';')
    .filter(Boolean)
    .map((entry) => {
      const i = entry.lastIndexOf('=');
      return { name: entry.slice(0, i).trim(), publicKey: fromHex(entry.slice(i + 1).trim().toLowerCase()) };
    });
  return createTrustStore(authorities);
}

const REVOCATION_RELOAD_MS = 30_000;
/** Single-ingest statements in flight at once; further ingests wait and go together. */
const INGEST_STATEMENTS = 2;
/** Announces per grouped statement at most (as many as a batch request may hold). */
const INGEST_GROUP_MAX = 100;

/** Authorities with the sequence of their newest applied revocation list: equal when nothing changed. */
function trustFingerprint(trust: TrustStore): string {
  return [...trust.authorities].map(([key, e]) => `${key}:${e.revocationSequence}:${e.revoked.size}`).sort().join(',');
}

/** Announces: ingest (verify, supersede by sequence), search, region sync, licence revocation. */
@Injectable()
export class FappService implements OnModuleInit, OnModuleDestroy {
  private trustStore: TrustStore;
  /** Decoded announces by therapist id, for reservations (keyed with the sequence they came from). */
  private readonly announceCache = new BoundedMap<string, { sequence: number; announce: Announce }>(50_000);
  private reloadTimer: NodeJS.Timeout | undefined;
  /** Attestations already verified (one per therapist, resent with every announce). */
  private readonly attestationCache = new BoundedMap<string, CachedAttestation>(20_000);
  private readonly storedListeners = new Set<StoredListener>();
  private readonly trustListeners = new Set<TrustListener>();
  /** Single ingests waiting for a statement (see writeGrouped). */
  private readonly ingestWrites = new GroupCommit<AnnounceWrite, boolean>({
    concurrency: INGEST_STATEMENTS,
    maxBatch: INGEST_GROUP_MAX,
    key: (w) => w.a.therapistId,
    run: (group) => this.writeGroup(group),
  });
  private readonly log = new Logger('fapp');
  /** Signature checks of batch ingest; none on a single-core machine. */
  private readonly pool = availableParallelism() > 1 ? new SignaturePool() : undefined;

  constructor(
    @Inject(FappRepository) private readonly repo: FappRepository,
    @Inject(RevocationRepository) private readonly revocations: RevocationRepository,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(FappSearchIndex) private readonly index: FappSearchIndex,
  ) {
    this.trustStore = trustStoreFromConfig(config.FAPP_AUTHORITIES);
  }

  get trust(): TrustStore {
    return this.trustStore;
  }

  async onModuleInit() {
    // Ready before the first batch arrives (a worker takes tens of milliseconds to start).
    this.pool?.start();
    await this.reloadRevocations();
    // Other instances may apply a newer list; pick it up.
    this.reloadTimer = setInterval(() => void this.reloadRevocations().catch(() => undefined), REVOCATION_RELOAD_MS);
    this.reloadTimer.unref();
  }

  async onModuleDestroy() {
    clearInterval(this.reloadTimer);
    await this.pool?.close();
  }

  /** Rebuilds the trust store from configuration plus every stored revocation list. */
  async reloadRevocations(): Promise<void> {
    let trust = trustStoreFromConfig(this.config.FAPP_AUTHORITIES);
    for (const row of await this.revocations.lists()) {
      try {
        trust = applyRevocationList(trust, new Uint8Array(row.list), this.clock.now()).trust;
      } catch {
        // A list from an authority no longer configured: ignored, kept for when it returns.
      }
    }
    this.setTrust(trust);
  }

  /**
   * Called with the new trust store whenever it changes: a revocation list applied here
   * (`revoke`) or picked up from the database (another instance applied it). Returns a
   * function that removes the listener. A listener's exception is logged and ignored.
   */
  onTrustChanged(fn: TrustListener): () => void {
    this.trustListeners.add(fn);
    return () => this.trustListeners.delete(fn);
  }

  private setTrust(trust: TrustStore): void {
    const changed = trustFingerprint(trust) !== trustFingerprint(this.trustStore);
    this.trustStore = trust;
    if (!changed) return;
    // Revocation made announces unverified in the database (here, or on the instance that applied the list).
    void this.index.reload().catch((e: unknown) => this.log.warn(`search index reload failed: ${(e as Error).message}`));
    for (const fn of this.trustListeners) {
      try {
        fn(trust);
      } catch (e) {
        this.log.error(e);
      }
    }
  }

  /** Applies a signed revocation list: stored for every instance, and revoked therapists become unverified. */
  async revoke(bytes: Uint8Array) {
    const r = applyRevocationList(this.trustStore, bytes, this.clock.now());
    if (r.kind === 'unchanged') return { applied: false, unverified: 0 };
    const authorityKey = toHex(r.authority.publicKey);
    const revokedIds = [...(r.trust.authorities.get(authorityKey)?.revoked ?? [])];
    const unverified = await this.repo.transaction(async (m) => {
      if (!(await this.revocations.storeList(m, authorityKey, r.sequence, bytes))) {
        throw new FappError('STALE_REVOCATION_LIST', 'a newer revocation list of this authority is already applied');
      }
      return this.revocations.unverify(m, authorityKey, revokedIds);
    });
    this.setTrust(r.trust);
    return { applied: true, authority: r.authority.name, sequence: r.sequence, revoked: r.revoked, unverified };
  }

  async revocationLists(): Promise<{ lists: string[] }> {
    return { lists: (await this.revocations.lists()).map((l) => l.list.toString('base64url')) };
  }

  /** The error the single endpoint gives for bytes that failed (re-checked inline; `fallback` if they pass now). */
  private verifyError(bytes: Uint8Array, nowMs: number, fallback: unknown): unknown {
    try {
      this.verify(bytes, nowMs);
      return fallback;
    } catch (err) {
      return err;
    }
  }

  private verify(bytes: Uint8Array, nowMs: number): VerifiedAnnounce {
    return verifyAnnounce(bytes, { nowMs, trust: this.trust, requireVerified: this.config.FAPP_REQUIRE_VERIFIED, attestationCache: this.attestationCache });
  }

  /**
   * Called after an announce is stored, with the exact signed bytes and where it came from
   * (`http`: the single or batch endpoint; `mesh`: the in-process mesh bridge). Returns a
   * function that removes the listener. A listener's exception never fails the ingest.
   */
  onStored(fn: StoredListener): () => void {
    this.storedListeners.add(fn);
    return () => this.storedListeners.delete(fn);
  }

  private emitStored(bytes: Uint8Array, origin: IngestOrigin): void {
    for (const fn of this.storedListeners) {
      try {
        fn(bytes, origin);
      } catch (e) {
        this.log.error(e);
      }
    }
  }

  async ingest(bytes: Uint8Array, origin: IngestOrigin = 'http'): Promise<IngestOutcome> {
    const v = this.verify(bytes, this.clock.now());
    const w = announceWrite(v);
    const stored = await this.writeGrouped(w);
    if (!stored) {
      const current = await this.repo.storedSequence(w.a.therapistId);
      throw new FappError('STALE_SEQUENCE', `sequence ${w.a.sequence} is not higher than the stored ${current ?? 'one'}`);
    }
    this.announceCache.set(w.a.therapistId, { sequence: w.a.sequence, announce: w.a });
    this.emitStored(bytes, origin);
    return outcome(w);
  }

  /**
   * Writes one verified announce; true if it was stored. Writes that arrive while
   * INGEST_STATEMENTS statements are in flight wait and then go together, up to
   * INGEST_GROUP_MAX per call (`upsertAnnounces`, as the batch endpoint writes; one
   * therapist at most once per statement, a second announce of it waits for a later one; see
   * GroupCommit):
   * one round trip and one commit for many concurrent single ingests (HTTP and mesh) instead
   * of one each. A write that finds nothing in flight goes at once, on its own.
   */
  private writeGrouped(w: AnnounceWrite): Promise<boolean> {
    return this.ingestWrites.submit(w);
  }

  private async writeGroup(group: readonly AnnounceWrite[]): Promise<boolean[]> {
    const stored = await this.repo.upsertAnnounces(group);
    this.index.applyStored(group.filter((w) => stored.has(w.a.therapistId)));
    return group.map((w) => stored.has(w.a.therapistId));
  }

  /**
   * Many announces in one request: each is verified and validated exactly like `ingest`, and
   * all that pass are written in one statement. Per therapist the highest sequence in the
   * batch is the candidate (the first one if several share it); it supersedes the stored
   * announce only if its sequence is higher. Copies of an announce that is (or becomes)
   * current are `duplicate`, not errors, so a batch can be resent safely: the same signed body
   * (spec §5), whatever the hop count a relay gave it or the encoding of its envelope. Every
   * other item is `rejected` with the code the single endpoint would answer with.
   */
  async ingestBatch(bytes: readonly Uint8Array[]): Promise<AnnounceBatchResultDto> {
    if (bytes.length > ANNOUNCE_BATCH_MAX_COUNT) {
      throw new ServerError('fapp.batch_too_many', 413, `a batch holds at most ${ANNOUNCE_BATCH_MAX_COUNT} announces`, { limit: ANNOUNCE_BATCH_MAX_COUNT });
    }
    const total = bytes.reduce((n, b) => n + b.byteLength, 0);
    if (total > ANNOUNCE_BATCH_MAX_BYTES) {
      throw new ServerError('fapp.batch_too_large', 413, `a batch holds at most ${ANNOUNCE_BATCH_MAX_BYTES} bytes of announces`, { limit: ANNOUNCE_BATCH_MAX_BYTES });
    }
    const nowMs = this.clock.now();
    const results: AnnounceBatchItemDto[] = new Array(bytes.length);
    const writes: (AnnounceWrite | undefined)[] = new Array(bytes.length);
    /** The signed body of each item in `writes`: what a duplicate shares (spec §5, `sameAnnounce`). */
    const bodies: Uint8Array[] = new Array(bytes.length);
    const signed = (i: number) => ({ sequence: writes[i]!.a.sequence, body: bodies[i]! });
    // Pass 1, on this thread: decode and validate everything, collecting the Ed25519 checks
    // (announce and attestation) instead of running them; attestations seen before come from
    // the cache, new ones enter it only once their signature has passed.
    const checks: SignatureCheck[] = [];
    const pending: { index: number; w: AnnounceWrite; body: Uint8Array; from: number; to: number; cache: [string, CachedAttestation][] }[] = [];
    for (const [index, b] of bytes.entries()) {
      const from = checks.length;
      const cache: [string, CachedAttestation][] = [];
      try {
        const v = verifyAnnounce(b, {
          nowMs,
          trust: this.trust,
          requireVerified: this.config.FAPP_REQUIRE_VERIFIED,
          attestationCache: { get: (k) => this.attestationCache.get(k), set: (k, a) => cache.push([k, a]) },
          verifySignature: (publicKey, message, signature) => (checks.push({ publicKey, message, signature }), true),
        });
        pending.push({ index, w: announceWrite(v), body: v.body, from, to: checks.length, cache });
      } catch (err) {
        // Signatures first, as the single endpoint checks them: a forged announce with a bad
        // field is still bad_signature.
        checks.length = from;
        results[index] = rejected(index, this.verifyError(b, nowMs, err));
      }
    }
    // Pass 2: every signature at once, on worker threads when there are enough of them.
    const ok = this.pool && checks.length >= POOL_MIN_CHECKS ? await this.pool.verifyAll(checks) : checks.map((c) => verify(c.publicKey, c.message, c.signature));
    for (const p of pending) {
      if (ok.slice(p.from, p.to).every(Boolean)) {
        writes[p.index] = p.w;
        bodies[p.index] = p.body;
        for (const [k, a] of p.cache) this.attestationCache.set(k, a);
      } else {
        results[p.index] = rejected(p.index, this.verifyError(bytes[p.index]!, nowMs, new FappError('BAD_SIGNATURE', 'signature does not verify')));
      }
    }
    /** Index of the candidate per therapist. */
    const best = new Map<string, number>();
    writes.forEach((w, index) => {
      if (!w) return;
      const b = best.get(w.a.therapistId);
      if (b === undefined || w.a.sequence > writes[b]!.a.sequence) best.set(w.a.therapistId, index);
    });
    const candidates = [...best.values()].map((i) => writes[i]!);
    const stored = await this.repo.upsertAnnounces(candidates);
    this.index.applyStored(candidates.filter((w) => stored.has(w.a.therapistId)));
    const notStored = candidates.filter((w) => !stored.has(w.a.therapistId)).map((w) => w.a.therapistId);
    const current = await this.repo.storedAnnounces(notStored);
    for (const w of candidates) if (stored.has(w.a.therapistId)) this.announceCache.set(w.a.therapistId, { sequence: w.a.sequence, announce: w.a });
    writes.forEach((w, index) => {
      if (!w) return;
      const id = w.a.therapistId;
      const b = best.get(id)!;
      const winner = writes[b]!;
      const copyOfWinner = index === b || sameAnnounce(signed(index), signed(b));
      if (!copyOfWinner) {
        results[index] = rejected(index, new FappError('STALE_SEQUENCE', `sequence ${w.a.sequence} is not higher than ${winner.a.sequence} of the same therapist in this batch`));
      } else if (stored.has(id)) {
        results[index] = { index, status: index === b ? 'stored' : 'duplicate', ...outcome(w) };
      } else {
        const c = current.get(id);
        results[index] =
          c && sameAnnounce(signed(index), { sequence: c.sequence, body: decodeMessage(FappSignedSchema, c.envelope).body })
            ? { index, status: 'duplicate', ...outcome(w) }
            : rejected(index, new FappError('STALE_SEQUENCE', `sequence ${w.a.sequence} is not higher than the stored ${c?.sequence ?? 'one'}`));
      }
    });
    for (const r of results) if (r.status === 'stored') this.emitStored(bytes[r.index]!, 'http');
    const count = (s: AnnounceBatchItemDto['status']) => results.filter((r) => r.status === s).length;
    return { results, stored: count('stored'), duplicates: count('duplicate'), rejected: count('rejected') };
  }

  /**
   * Server-side search, answered as JSON text, `{"results": SearchHit[], "announces"?: {therapistId: base64url}}`,
   * for the controller to send as it is. The signed announces (about 2 KB each) come only when
   * asked for: a client needs one only to reserve, and can fetch it then (`announce()`).
   */
  async search(filter: SlotFilter, includeAnnounces = false): Promise<string> {
    const f = validateFilter(filter);
    const matches = await this.index.match(f, this.clock.now(), f.limit ?? DEFAULT_QUERY_LIMIT);
    // One string the size of the response, joined once (see SearchMatches.appendJson).
    const parts = ['{"results":['];
    matches.appendJson(parts);
    if (includeAnnounces) {
      const envelopes = await this.repo.envelopes(matches.therapistIds());
      const announces: Record<string, string> = {};
      for (const [id, env] of envelopes) announces[id] = env.toString('base64url');
      parts.push('],"announces":', JSON.stringify(announces), '}');
    } else {
      parts.push(']}');
    }
    return parts.join('');
  }

  /** The current signed announce of one therapist. */
  async announce(therapistId: string): Promise<{ announce: string }> {
    const row = /^[0-9a-f]{64}$/.test(therapistId) ? await this.repo.announceEnvelope(therapistId, this.clock.now()) : null;
    if (!row) throw new ServerError('fapp.unknown_therapist', 404, 'No current announce for this therapist.');
    return { announce: row.envelope.toString('base64url') };
  }

  async region(prefix: string, cursor: string | undefined, limit: number) {
    const f = validateFilter({ plzPrefix: prefix });
    const after = cursor ? decodeCursor(cursor) : '';
    const nowMs = this.clock.now();
    const page = await this.repo.regionPage(f.plzPrefix!, after, Math.min(limit, REGION_PAGE_MAX), nowMs);
    const ids = page.map((r) => r.therapist_id);
    const unavailable = await this.repo.unavailable(ids, nowMs);
    const last = page.at(-1);
    return {
      announces: page.map((r) => r.envelope.toString('base64url')),
      unavailable: unavailable.map((u) => ({ therapistId: u.therapist_id, slotId: u.slot_id })),
      nextCursor: page.length === Math.min(limit, REGION_PAGE_MAX) && last ? Buffer.from(last.therapist_id).toString('base64url') : null,
    };
  }

  /** The current announce of a therapist, decoded (for reservations). */
  async currentAnnounce(therapistId: string): Promise<Announce | undefined> {
    const nowMs = this.clock.now();
    const row = await this.repo.announceEnvelope(therapistId, nowMs);
    if (!row) return undefined;
    const cached = this.announceCache.get(therapistId);
    if (cached && cached.sequence === row.sequence) return cached.announce;
    // Re-validated as of its own issue time: it passed every check then (signature, fields),
    // and time-dependent checks (expiry, slots in the past) are applied by the caller.
    const env = openEnvelope(new Uint8Array(row.envelope), FappKind.SLOT_ANNOUNCE);
    const announce = validateAnnounceBody(env.body, env.signerKey, row.issuedAtMs);
    this.announceCache.set(therapistId, { sequence: row.sequence, announce });
    return announce;
  }
}

function outcome(w: AnnounceWrite): IngestOutcome {
  const a = w.a;
  return { therapistId: a.therapistId, sequence: a.sequence, verified: w.verified, authority: w.attestation?.authority ?? null, slots: a.slots.length, expiresAt: new Date(a.expiresAtMs).toISOString() };
}

/** The per-item form of the problem the single endpoint would answer with; server faults still fail the request. */
function rejected(index: number, err: unknown): AnnounceBatchItemDto {
  const { problem, internal } = toProblem(err);
  if (internal) throw err;
  return { index, status: 'rejected', code: problem.code, httpStatus: problem.status, detail: problem.detail ?? '' };
}

function decodeCursor(cursor: string): string {
  const id = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (!/^[0-9a-f]{64}$/.test(id)) throw new FappError('INVALID_QUERY', 'cursor is not one this server issued');
  return id;
}
