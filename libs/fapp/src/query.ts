import { create } from '@bufbuild/protobuf';
import {
  SlotHitSchema,
  SlotQuerySchema,
  SlotResponseSchema,
  type Altersgruppe,
  type Fachrichtung,
  type Kostentraeger,
  type Modalitaet,
  type SlotHit,
  type SlotQuery,
  type SlotResponse,
  type Terminart,
} from '@qpc/proto';
import type { Announce, AnnounceSlot } from './announce.js';
import { decodeMessage, enumSet, enumValue, KNOWN, u64 } from './codec.js';
import { fail } from './errors.js';
import { isValidLanguage } from './language.js';
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_FILTER_VALUES, MAX_QUERY_LIMIT } from './limits.js';
import { isValidPlzPrefix } from './plz.js';

/**
 * A validated search. Empty arrays and undefined fields do not filter; arrays match if
 * any listed value matches. The same filter runs on the server and on the device.
 */
export interface SlotFilter {
  plzPrefix?: string;
  fachrichtungen?: Fachrichtung[];
  kostentraeger?: Kostentraeger[];
  terminarten?: Terminart[];
  altersgruppe?: Altersgruppe;
  modalitaeten?: Modalitaet[];
  language?: string;
  barrierFreeOnly?: boolean;
  /** Slot start >= fromMs; defaults to now (slots that have begun are never offered). */
  fromMs?: number;
  /** Slot start < untilMs. */
  untilMs?: number;
  verifiedOnly?: boolean;
  /** 1..500, default 50. */
  limit?: number;
}

function list<T extends number>(values: T[] | undefined, allowed: ReadonlySet<number>, field: string): T[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > MAX_QUERY_FILTER_VALUES) fail('INVALID_QUERY', `${field}: too many values`);
  return enumSet(values, allowed, field, false);
}

/** Checks a filter from any source (UI, JSON, protobuf). Throws INVALID_PLZ, UNKNOWN_ENUM, INVALID_LANGUAGE or INVALID_QUERY. */
export function validateFilter(f: SlotFilter): SlotFilter {
  if (f.plzPrefix !== undefined && f.plzPrefix !== '' && !isValidPlzPrefix(f.plzPrefix)) {
    fail('INVALID_PLZ', 'plz prefix must be 2 to 5 digits of an assigned Leitregion');
  }
  if (f.language !== undefined && f.language !== '' && !isValidLanguage(f.language)) fail('INVALID_LANGUAGE', 'unknown language code');
  for (const [name, v] of [['fromMs', f.fromMs], ['untilMs', f.untilMs]] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) fail('INVALID_QUERY', `${name} must be a non-negative integer`);
  }
  if (f.fromMs !== undefined && f.untilMs !== undefined && f.untilMs <= f.fromMs) fail('INVALID_QUERY', 'untilMs must be after fromMs');
  if (f.limit !== undefined && (!Number.isInteger(f.limit) || f.limit < 1 || f.limit > MAX_QUERY_LIMIT)) {
    fail('INVALID_QUERY', `limit must be 1..${MAX_QUERY_LIMIT}`);
  }
  const out: SlotFilter = {};
  if (f.plzPrefix) out.plzPrefix = f.plzPrefix;
  const fachrichtungen = list(f.fachrichtungen, KNOWN.fachrichtung, 'fachrichtungen');
  if (fachrichtungen) out.fachrichtungen = fachrichtungen;
  const kostentraeger = list(f.kostentraeger, KNOWN.kostentraeger, 'kostentraeger');
  if (kostentraeger) out.kostentraeger = kostentraeger;
  const terminarten = list(f.terminarten, KNOWN.terminart, 'terminarten');
  if (terminarten) out.terminarten = terminarten;
  const modalitaeten = list(f.modalitaeten, KNOWN.modalitaet, 'modalitaeten');
  if (modalitaeten) out.modalitaeten = modalitaeten;
  if (f.altersgruppe !== undefined && f.altersgruppe !== 0) out.altersgruppe = enumValue(f.altersgruppe, KNOWN.altersgruppe, 'altersgruppe');
  if (f.language) out.language = f.language;
  if (f.barrierFreeOnly) out.barrierFreeOnly = true;
  if (f.fromMs !== undefined) out.fromMs = f.fromMs;
  if (f.untilMs !== undefined) out.untilMs = f.untilMs;
  if (f.verifiedOnly) out.verifiedOnly = true;
  if (f.limit !== undefined) out.limit = f.limit;
  return out;
}

/** SlotQuery (protobuf message) -> validated SlotFilter. 0 in from/until/limit means unset. */
export function filterFromQuery(q: SlotQuery): SlotFilter {
  const fromMs = u64(q.fromMs, 'from_ms');
  const untilMs = u64(q.untilMs, 'until_ms');
  return validateFilter({
    plzPrefix: q.plzPrefix,
    fachrichtungen: q.fachrichtungen,
    kostentraeger: q.kostentraeger,
    terminarten: q.terminarten,
    altersgruppe: q.altersgruppe,
    modalitaeten: q.modalitaeten,
    language: q.language,
    barrierFreeOnly: q.barrierFreeOnly,
    ...(fromMs > 0 ? { fromMs } : {}),
    ...(untilMs > 0 ? { untilMs } : {}),
    verifiedOnly: q.verifiedOnly,
    ...(q.limit > 0 ? { limit: q.limit } : {}),
  });
}

/** Decodes and validates SlotQuery bytes. */
export function decodeQuery(bytes: Uint8Array): SlotFilter {
  return filterFromQuery(decodeMessage(SlotQuerySchema, bytes));
}

/** SlotFilter -> SlotQuery message (for sending over the mesh). */
export function queryFromFilter(f: SlotFilter): SlotQuery {
  const v = validateFilter(f);
  return create(SlotQuerySchema, {
    plzPrefix: v.plzPrefix ?? '',
    fachrichtungen: v.fachrichtungen ?? [],
    kostentraeger: v.kostentraeger ?? [],
    terminarten: v.terminarten ?? [],
    altersgruppe: v.altersgruppe ?? 0,
    modalitaeten: v.modalitaeten ?? [],
    language: v.language ?? '',
    barrierFreeOnly: v.barrierFreeOnly ?? false,
    fromMs: BigInt(v.fromMs ?? 0),
    untilMs: BigInt(v.untilMs ?? 0),
    verifiedOnly: v.verifiedOnly ?? false,
    limit: v.limit ?? 0,
  });
}

/** What the matcher needs per therapist: an announce and whether it is attested. */
export interface MatchCandidate {
  announce: Announce;
  verified: boolean;
}

export interface SlotMatch {
  therapistId: string;
  announce: Announce;
  verified: boolean;
  slot: AnnounceSlot;
}

export interface MatchOptions {
  nowMs: number;
  /** Slots the caller knows are held or booked (e.g. from the database); they are skipped. */
  isUnavailable?: (therapistId: string, slotIdHex: string) => boolean;
}

function anyOf<T>(wanted: readonly T[] | undefined, offered: readonly T[]): boolean {
  return wanted === undefined || wanted.length === 0 || wanted.some((w) => offered.includes(w));
}

/** The fields of an announce the therapist-level filter reads. */
export type MatchableAnnounce = Pick<
  Announce,
  'plz' | 'fachrichtungen' | 'kostentraeger' | 'modalitaeten' | 'altersgruppen' | 'languages' | 'barrierFree' | 'expiresAtMs'
>;

/** Therapist-level part of the filter (everything except slot time and Terminart). */
export function announceMatches(c: { announce: MatchableAnnounce; verified: boolean }, f: SlotFilter, nowMs: number): boolean {
  const a = c.announce;
  if (a.expiresAtMs <= nowMs) return false;
  if (f.verifiedOnly && !c.verified) return false;
  if (f.plzPrefix && !a.plz.startsWith(f.plzPrefix)) return false;
  if (!anyOf(f.fachrichtungen, a.fachrichtungen)) return false;
  if (!anyOf(f.kostentraeger, a.kostentraeger)) return false;
  if (!anyOf(f.modalitaeten, a.modalitaeten)) return false;
  if (f.altersgruppe !== undefined && !a.altersgruppen.includes(f.altersgruppe)) return false;
  if (f.language && !a.languages.includes(f.language)) return false;
  if (f.barrierFreeOnly && !a.barrierFree) return false;
  return true;
}

/** Slot-level part of the filter. */
export function slotMatches(slot: Pick<AnnounceSlot, 'startMs' | 'terminart'>, f: SlotFilter, nowMs: number): boolean {
  const from = Math.max(f.fromMs ?? nowMs, nowMs);
  if (slot.startMs < from) return false;
  if (f.untilMs !== undefined && slot.startMs >= f.untilMs) return false;
  if (f.terminarten && f.terminarten.length > 0 && !f.terminarten.includes(slot.terminart)) return false;
  return true;
}

function compareMatch(a: SlotMatch, b: SlotMatch): number {
  if (a.slot.startMs !== b.slot.startMs) return a.slot.startMs - b.slot.startMs;
  if (a.therapistId !== b.therapistId) return a.therapistId < b.therapistId ? -1 : 1;
  return a.slot.idHex < b.slot.idHex ? -1 : a.slot.idHex > b.slot.idHex ? 1 : 0;
}

/**
 * The one matcher: all filters, earliest slot first (ties by therapist id, then slot id,
 * so results are stable), at most `limit` hits. Pure; callers pass a validated filter.
 */
export function matchSlots(candidates: Iterable<MatchCandidate>, filter: SlotFilter, opts: MatchOptions): SlotMatch[] {
  const limit = filter.limit ?? DEFAULT_QUERY_LIMIT;
  const hits: SlotMatch[] = [];
  for (const c of candidates) {
    if (!announceMatches(c, filter, opts.nowMs)) continue;
    for (const slot of c.announce.slots) {
      if (!slotMatches(slot, filter, opts.nowMs)) continue;
      if (opts.isUnavailable?.(c.announce.therapistId, slot.idHex)) continue;
      hits.push({ therapistId: c.announce.therapistId, announce: c.announce, verified: c.verified, slot });
    }
  }
  hits.sort(compareMatch);
  return hits.slice(0, limit);
}

/** Builds a SlotResponse: the hits plus each distinct announce's signed bytes once. */
export function buildSlotResponse(matches: readonly SlotMatch[], announceBytes: (therapistId: string) => Uint8Array): SlotResponse {
  const seen = new Set<string>();
  const announces: Uint8Array[] = [];
  const hits: SlotHit[] = matches.map((m) => {
    if (!seen.has(m.therapistId)) {
      seen.add(m.therapistId);
      announces.push(announceBytes(m.therapistId));
    }
    return create(SlotHitSchema, {
      therapistKey: m.announce.therapistKey,
      slotId: m.slot.id,
      startMs: BigInt(m.slot.startMs),
      durationMinutes: m.slot.durationMinutes,
      terminart: m.slot.terminart,
      verified: m.verified,
    });
  });
  return create(SlotResponseSchema, { hits, announces });
}

