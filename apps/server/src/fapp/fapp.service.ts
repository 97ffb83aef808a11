import { Inject, Injectable } from '@nestjs/common';
import { fromHex } from '@qpc/crypto';
import {
  type Announce,
  createTrustStore,
  FappError,
  type SlotFilter,
  type TrustStore,
  validateAnnounceBody,
  validateFilter,
  verifyAnnounce,
  openEnvelope,
  DEFAULT_QUERY_LIMIT,
} from '@qpc/fapp';
import { FappKind } from '@qpc/proto';
import { Clock } from '../common/clock.js';
import { ServerConfig } from '../config/config.js';
import { FappRepository, type SearchRow } from './fapp.repository.js';

export interface IngestOutcome {
  therapistId: string;
  sequence: number;
  verified: boolean;
  authority: string | null;
  slots: number;
  expiresAt: string;
}

export interface SearchHit {
  therapistId: string;
  slotId: string;
  start: string;
  durationMinutes: number;
  terminart: number;
  groupSize: number;
  plz: string;
  verified: boolean;
  authority: string | null;
}

const REGION_PAGE_MAX = 500;

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

/** Announces: ingest (verify, supersede by sequence), search, region sync. */
@Injectable()
export class FappService {
  readonly trust: TrustStore;
  /** Decoded announces by therapist id, for reservations (keyed with the sequence they came from). */
  private readonly announceCache = new Map<string, { sequence: number; announce: Announce }>();

  constructor(
    @Inject(FappRepository) private readonly repo: FappRepository,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ServerConfig) private readonly config: ServerConfig,
  ) {
    this.trust = trustStoreFromConfig(config.FAPP_AUTHORITIES);
  }

  async ingest(bytes: Uint8Array): Promise<IngestOutcome> {
    const nowMs = this.clock.now();
    const v = verifyAnnounce(bytes, { nowMs, trust: this.trust, requireVerified: this.config.FAPP_REQUIRE_VERIFIED });
    const a = v.announce;
    const authority = v.status.kind === 'verified' ? v.status.authority.name : null;
    const stored = await this.repo.transaction((m) => this.repo.upsertAnnounce(m, a, v.verified, authority, v.bytes));
    if (!stored) {
      const current = await this.repo.storedSequence(a.therapistId);
      throw new FappError('STALE_SEQUENCE', `sequence ${a.sequence} is not higher than the stored ${current ?? 'one'}`);
    }
    this.announceCache.set(a.therapistId, { sequence: a.sequence, announce: a });
    return { therapistId: a.therapistId, sequence: a.sequence, verified: v.verified, authority, slots: a.slots.length, expiresAt: new Date(a.expiresAtMs).toISOString() };
  }

  async search(filter: SlotFilter): Promise<{ results: SearchHit[]; announces: Record<string, string> }> {
    const f = validateFilter(filter);
    const rows = await this.repo.search(f, this.clock.now(), f.limit ?? DEFAULT_QUERY_LIMIT);
    const envelopes = await this.repo.envelopes([...new Set(rows.map((r) => r.therapist_id))]);
    const announces: Record<string, string> = {};
    for (const [id, env] of envelopes) announces[id] = env.toString('base64url');
    return { results: rows.map(toHit), announces };
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
    if (this.announceCache.size > 50_000) this.announceCache.delete(this.announceCache.keys().next().value!);
    return announce;
  }
}

function toHit(r: SearchRow): SearchHit {
  return {
    therapistId: r.therapist_id,
    slotId: r.slot_id,
    start: r.start_at.toISOString(),
    durationMinutes: r.duration_min,
    terminart: r.terminart,
    groupSize: r.group_size,
    plz: r.plz,
    verified: r.verified,
    authority: r.authority,
  };
}

function decodeCursor(cursor: string): string {
  const id = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (!/^[0-9a-f]{64}$/.test(id)) throw new FappError('INVALID_QUERY', 'cursor is not one this server issued');
  return id;
}
