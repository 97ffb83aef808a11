import { Inject, Injectable } from '@nestjs/common';
import { toHex } from '@qpc/crypto';
import type { Announce, SlotFilter, VerifiedAnnounce } from '@qpc/fapp';
import { DataSource, type EntityManager } from 'typeorm';

export interface SlotRow {
  therapist_id: string;
  slot_id: string;
  start_at: Date;
  duration_min: number;
  terminart: number;
  group_size: number;
}

export interface HoldRow {
  therapist_id: string;
  slot_id: string;
  mailbox_id: string;
  state: 'held' | 'booked';
  held_until: Date | null;
  reservation: Buffer;
}

export interface MailboxRow {
  mailbox_id: string;
  therapist_id: string;
  slot_id: string;
  status: 'pending' | 'confirmed' | 'declined' | 'cancelled' | 'released' | 'expired';
  reply: Buffer | null;
  held_until: Date | null;
}

export interface SearchRow extends SlotRow {
  plz: string;
  verified: boolean;
  authority: string | null;
}

/** An announce's filter columns as the search index loads them. */
export interface IndexAnnounceRow {
  therapist_id: string;
  sequence: string;
  plz: string;
  verified: boolean;
  authority: string | null;
  fachrichtungen: number[];
  altersgruppen: number[];
  modalitaeten: number[];
  kostentraeger: number[];
  languages: string[];
  barrier_free: boolean;
  expires_at: Date;
}

/** A slot with its hold (if any) as the search index loads it. */
export interface IndexSlotRow extends SlotRow {
  state: 'held' | 'booked' | null;
  held_until: Date | null;
}

/** TypeORM returns `[rows, affectedCount]` for UPDATE/DELETE … RETURNING; SELECT and INSERT give rows. */
function returned<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

/** One announce as `upsertAnnounces` writes it. */
export interface AnnounceWrite {
  a: Announce;
  verified: boolean;
  attestation: { authority: string; authorityKey: string; attestationId: string } | null;
  envelope: Uint8Array;
}

/** A verified announce as the repository writes it. */
export function announceWrite(v: VerifiedAnnounce): AnnounceWrite {
  const attestation =
    v.status.kind === 'verified'
      ? { authority: v.status.authority.name, authorityKey: toHex(v.status.attestation.authorityKey), attestationId: toHex(v.status.attestation.attestationId) }
      : null;
  return { a: v.announce, verified: v.verified, attestation, envelope: v.bytes };
}

const MAILBOX_RETENTION_MS = 30 * 24 * 3600_000;

/**
 * PostgreSQL array literals, built here rather than by the driver: pg quotes and escapes every
 * element of an array parameter (two regular expressions and a quoted copy each, dates through
 * local-time fields), which for a batch of 100 announces with 1 000 slots allocated about 2.3 MB
 * of short-lived strings on the request thread, a third of all the batch ingest allocated. Every
 * value here is a number, a boolean, lower-case hex, a PLZ, an ISO 639 code or an ISO instant, none
 * of which needs quoting in an array literal; the one free text, the authority's name, is quoted.
 */
const literal = (xs: readonly (string | number | boolean)[]) => `{${xs.join(',')}}`;
const nullable = (x: string | null | undefined) => x ?? 'NULL';
/** An array literal as one element of a `text[]` literal (its commas and braces quoted; its elements need no escapes). */
const nested = (xs: readonly (string | number)[]) => `"{${xs.join(',')}}"`;
const quoted = (x: string) => `"${x.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
const instant = (ms: number) => new Date(ms).toISOString();
/**
 * Slot starts as ISO text, kept per instant: starts fall on whole minutes (mostly on a few office
 * hours' grid), so a batch's 1 000 slots share a few hundred instants with every other batch, and
 * formatting each anew (a Date and a string per slot) was half of `announceBatchParams`. Emptied
 * when full; holds at most START_TEXTS short strings.
 */
const startTexts = new Map<number, string>();
const START_TEXTS = 50_000;
function startText(ms: number): string {
  let t = startTexts.get(ms);
  if (t === undefined) {
    if (startTexts.size >= START_TEXTS) startTexts.clear();
    startTexts.set(ms, (t = instant(ms)));
  }
  return t;
}

/**
 * The parameters of `qpc_fapp_write_announces` (`upsertAnnounces`, migration 1765000000000), in
 * its order, each array as a PostgreSQL array literal: $1-$13 one element per announce (therapist
 * id, sequence, PLZ, verified, authority, Fachrichtungen, age groups, Modalitäten, Kostenträger,
 * languages as array literals, barrier-free, issued, expires); $14 the signed announces
 * concatenated, one `bytea` sent in binary (a `bytea[]` goes as escaped hex text), $15 their
 * lengths; $16-$17 per announce (authority key, attestation id); $18-$23 one per slot (its
 * announce's position in $1, from 1; slot id, start, duration, Terminart, group size).
 */
export function announceBatchParams(items: readonly AnnounceWrite[]): unknown[] {
  const owner: number[] = [];
  const slotId: string[] = [];
  const start: string[] = [];
  const duration: number[] = [];
  const terminart: number[] = [];
  const groupSize: number[] = [];
  items.forEach((i, k) => {
    for (const s of i.a.slots) {
      owner.push(k + 1);
      slotId.push(s.idHex);
      start.push(startText(s.startMs));
      duration.push(s.durationMinutes);
      terminart.push(s.terminart);
      groupSize.push(s.groupSize);
    }
  });
  return [
    literal(items.map((i) => i.a.therapistId)),
    literal(items.map((i) => i.a.sequence)),
    literal(items.map((i) => i.a.plz)),
    literal(items.map((i) => i.verified)),
    literal(items.map((i) => (i.attestation ? quoted(i.attestation.authority) : 'NULL'))),
    literal(items.map((i) => nested(i.a.fachrichtungen))),
    literal(items.map((i) => nested(i.a.altersgruppen))),
    literal(items.map((i) => nested(i.a.modalitaeten))),
    literal(items.map((i) => nested(i.a.kostentraeger))),
    // Validated ISO 639 codes (lower-case letters).
    literal(items.map((i) => nested(i.a.languages))),
    literal(items.map((i) => i.a.barrierFree)),
    literal(items.map((i) => instant(i.a.issuedAtMs))),
    literal(items.map((i) => instant(i.a.expiresAtMs))),
    Buffer.concat(items.map((i) => i.envelope)),
    literal(items.map((i) => i.envelope.byteLength)),
    literal(items.map((i) => nullable(i.attestation?.authorityKey))),
    literal(items.map((i) => nullable(i.attestation?.attestationId))),
    literal(owner),
    literal(slotId),
    literal(start),
    literal(duration),
    literal(terminart),
    literal(groupSize),
  ];
}

/** The call of the announce write with `announceBatchParams` (`upsertAnnounces`); one row per therapist stored. */
export const ANNOUNCE_WRITE_SQL = `SELECT qpc_fapp_write_announces(${Array.from({ length: 23 }, (_, i) => `$${i + 1}`).join(', ')}) AS therapist_id`;

/**
 * The advisory lock class the announce write takes per therapist (key `hashtext(therapist id)`,
 * migration 1764900000000); the expiry of announces takes it too.
 */
const ANNOUNCE_WRITE_LOCK = 74117003;

/** A parameterized SQL statement as the repository sends it. */
export interface SqlQuery {
  sql: string;
  params: unknown[];
}

/**
 * The search statement for a filter, exactly as `FappRepository.search` runs it
 * (exported so the benchmark can EXPLAIN ANALYZE the very same SQL).
 */
export function buildSearchQuery(f: SlotFilter, nowMs: number, limit: number): SqlQuery {
  const from = new Date(Math.max(f.fromMs ?? nowMs, nowMs));
  const params: unknown[] = [new Date(nowMs), from];
  const where: string[] = ['a.expires_at > $1', 's.start_at >= $2'];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (f.untilMs !== undefined) add('s.start_at < ?', new Date(f.untilMs));
  if (f.plzPrefix) add(`a.plz LIKE ? || '%'`, f.plzPrefix);
  if (f.fachrichtungen?.length) add('a.fachrichtungen && ?::smallint[]', f.fachrichtungen);
  if (f.kostentraeger?.length) add('a.kostentraeger && ?::smallint[]', f.kostentraeger);
  if (f.modalitaeten?.length) add('a.modalitaeten && ?::smallint[]', f.modalitaeten);
  if (f.terminarten?.length) add('s.terminart = ANY(?::smallint[])', f.terminarten);
  if (f.altersgruppe !== undefined) add('? = ANY(a.altersgruppen)', f.altersgruppe);
  if (f.language) add('? = ANY(a.languages)', f.language);
  if (f.barrierFreeOnly) where.push('a.barrier_free');
  if (f.verifiedOnly) where.push('a.verified');
  params.push(limit);
  return {
    sql: `SELECT s.therapist_id, s.slot_id, s.start_at, s.duration_min, s.terminart, s.group_size, a.plz, a.verified, a.authority
       FROM fapp_slot s JOIN fapp_announce a ON a.therapist_id = s.therapist_id
       WHERE ${where.join(' AND ')}
         AND NOT EXISTS (SELECT 1 FROM fapp_hold h WHERE h.therapist_id = s.therapist_id AND h.slot_id = s.slot_id
                         AND (h.state = 'booked' OR h.held_until > $1))
       ORDER BY s.start_at, s.therapist_id COLLATE "C", s.slot_id COLLATE "C"
       LIMIT $${params.length}`,
    params,
  };
}

/** All FAPP SQL in one place. Every write that must be atomic takes an EntityManager of a transaction. */
@Injectable()
export class FappRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  /**
   * Stores announces with their slots in one call (`qpc_fapp_write_announces`, migrations
   * 1764900000000 and 1765000000000): under a write lock per therapist, each announce replaces the
   * stored one only if its sequence is higher; then its slots are written (an unchanged slot row is
   * left as it is), the slots it no longer carries are deleted, and so are booked holds on them
   * (the mailbox keeps the reply). Slots keep their rows, and so their holds, across re-announces.
   * The therapists must be distinct; they are written in therapist-id order. Returns the therapist
   * ids stored; the others had a stored sequence at least as high.
   */
  async upsertAnnounces(items: readonly AnnounceWrite[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const sorted = [...items].sort((x, y) => (x.a.therapistId < y.a.therapistId ? -1 : x.a.therapistId > y.a.therapistId ? 1 : 0));
    const rows: { therapist_id: string }[] = await this.ds.query(ANNOUNCE_WRITE_SQL, announceBatchParams(sorted));
    return new Set(rows.map((r) => r.therapist_id));
  }

  /** Stored sequence and envelope of these therapists (to tell a duplicate from a stale announce). */
  async storedAnnounces(therapistIds: string[]): Promise<Map<string, { sequence: number; envelope: Buffer }>> {
    if (therapistIds.length === 0) return new Map();
    const rows: { therapist_id: string; sequence: string; envelope: Buffer }[] = await this.ds.query(
      `SELECT therapist_id, sequence, envelope FROM fapp_announce WHERE therapist_id = ANY($1::bpchar[])`,
      [therapistIds],
    );
    return new Map(rows.map((r) => [r.therapist_id, { sequence: Number(r.sequence), envelope: r.envelope }]));
  }

  async storedSequence(therapistId: string): Promise<number | null> {
    const rows: { sequence: string }[] = await this.ds.query(`SELECT sequence FROM fapp_announce WHERE therapist_id = $1`, [therapistId]);
    return rows[0] ? Number(rows[0].sequence) : null;
  }

  async announceEnvelope(therapistId: string, nowMs: number): Promise<{ envelope: Buffer; sequence: number; issuedAtMs: number } | null> {
    const rows: { envelope: Buffer; sequence: string; issued_at: Date }[] = await this.ds.query(
      `SELECT envelope, sequence, issued_at FROM fapp_announce WHERE therapist_id = $1 AND expires_at > $2`,
      [therapistId, new Date(nowMs)],
    );
    const r = rows[0];
    return r ? { envelope: r.envelope, sequence: Number(r.sequence), issuedAtMs: r.issued_at.getTime() } : null;
  }

  /** The server-side search: the same filter semantics as the on-device matcher in @qpc/fapp. */
  async search(f: SlotFilter, nowMs: number, limit: number): Promise<SearchRow[]> {
    const q = buildSearchQuery(f, nowMs, limit);
    return this.ds.query(q.sql, q.params);
  }

  /**
   * What the in-memory search index holds (FappSearchIndex): the current announces' filter
   * columns, and their slots with the hold on each. All of them, or only these therapists'.
   */
  async searchState(nowMs: number, therapistIds?: readonly string[]): Promise<{ announces: IndexAnnounceRow[]; slots: IndexSlotRow[] }> {
    const only = therapistIds ? 'AND a.therapist_id = ANY($2::bpchar[])' : '';
    const params: unknown[] = therapistIds ? [new Date(nowMs), therapistIds] : [new Date(nowMs)];
    const announces: IndexAnnounceRow[] = await this.ds.query(
      `SELECT a.therapist_id, a.sequence::text AS sequence, a.plz, a.verified, a.authority, a.fachrichtungen, a.altersgruppen, a.modalitaeten,
              a.kostentraeger, a.languages, a.barrier_free, a.expires_at
       FROM fapp_announce a WHERE a.expires_at > $1 ${only}`,
      params,
    );
    const slots: IndexSlotRow[] = await this.ds.query(
      `SELECT s.therapist_id, s.slot_id, s.start_at, s.duration_min, s.terminart, s.group_size, h.state, h.held_until
       FROM fapp_announce a JOIN fapp_slot s ON s.therapist_id = a.therapist_id
       LEFT JOIN fapp_hold h ON h.therapist_id = s.therapist_id AND h.slot_id = s.slot_id
       WHERE a.expires_at > $1 ${only}`,
      params,
    );
    return { announces, slots };
  }

  async envelopes(therapistIds: string[]): Promise<Map<string, Buffer>> {
    if (therapistIds.length === 0) return new Map();
    const rows: { therapist_id: string; envelope: Buffer }[] = await this.ds.query(
      `SELECT therapist_id, envelope FROM fapp_announce WHERE therapist_id = ANY($1::bpchar[])`,
      [therapistIds],
    );
    return new Map(rows.map((r) => [r.therapist_id, r.envelope]));
  }

  /** One page of a region's current announces, ordered by therapist id (the cursor). */
  async regionPage(prefix: string, after: string, limit: number, nowMs: number): Promise<{ therapist_id: string; envelope: Buffer }[]> {
    return this.ds.query(
      `SELECT therapist_id, envelope FROM fapp_announce
       WHERE plz LIKE $1 || '%' AND expires_at > $2 AND therapist_id COLLATE "C" > $3
       ORDER BY therapist_id COLLATE "C" LIMIT $4`,
      [prefix, new Date(nowMs), after, limit],
    );
  }

  /** Held (unexpired) or booked slots of these therapists: not offered to patients. */
  async unavailable(therapistIds: string[], nowMs: number): Promise<{ therapist_id: string; slot_id: string }[]> {
    if (therapistIds.length === 0) return [];
    return this.ds.query(
      `SELECT therapist_id, slot_id FROM fapp_hold WHERE therapist_id = ANY($1::bpchar[]) AND (state = 'booked' OR held_until > $2)
       ORDER BY therapist_id, slot_id`,
      [therapistIds, new Date(nowMs)],
    );
  }

  /** Records a stamp; false if it was used before. */
  async rememberStamp(stampId: string, window: number): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `INSERT INTO fapp_stamp (stamp_id, "window") VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING stamp_id`,
      [stampId, window],
    );
    return rows.length === 1;
  }

  /**
   * Takes the hold if the slot is free or its hold has expired — one statement, so of
   * many concurrent reservations exactly one gets a row back.
   */
  async takeHold(m: EntityManager, h: { therapistId: string; slotId: string; mailboxId: string; heldUntil: Date; reservation: Uint8Array }, nowMs: number): Promise<{ taken: boolean }> {
    const rows: unknown[] = await m.query(
      `INSERT INTO fapp_hold (therapist_id, slot_id, mailbox_id, state, held_until, reservation)
       VALUES ($1, $2, $3, 'held', $4, $5)
       ON CONFLICT (therapist_id, slot_id) DO UPDATE SET
         mailbox_id = EXCLUDED.mailbox_id, state = 'held', held_until = EXCLUDED.held_until,
         reservation = EXCLUDED.reservation, created_at = now()
       WHERE fapp_hold.state = 'held' AND fapp_hold.held_until <= $6
       RETURNING mailbox_id`,
      [h.therapistId, h.slotId, h.mailboxId, h.heldUntil, Buffer.from(h.reservation), new Date(nowMs)],
    );
    return { taken: rows.length === 1 };
  }

  async holdFor(m: EntityManager | DataSource, therapistId: string, slotId: string, lock = false): Promise<HoldRow | null> {
    const rows: HoldRow[] = await m.query(
      `SELECT therapist_id, slot_id, mailbox_id, state, held_until, reservation FROM fapp_hold WHERE therapist_id = $1 AND slot_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [therapistId, slotId],
    );
    return rows[0] ?? null;
  }

  async createMailbox(m: EntityManager, mailboxId: string, therapistId: string, slotId: string, slotStartMs: number, nowMs: number): Promise<boolean> {
    // Mailboxes whose hold expired unanswered are marked as such before a new one is opened.
    await m.query(
      `UPDATE fapp_mailbox SET status = 'expired', updated_at = now()
       WHERE therapist_id = $1 AND slot_id = $2 AND status = 'pending' AND mailbox_id <> $3`,
      [therapistId, slotId, mailboxId],
    );
    const rows: unknown[] = await m.query(
      `INSERT INTO fapp_mailbox (mailbox_id, therapist_id, slot_id, status, expires_at) VALUES ($1, $2, $3, 'pending', $4)
       ON CONFLICT DO NOTHING RETURNING mailbox_id`,
      [mailboxId, therapistId, slotId, new Date(Math.max(slotStartMs, nowMs) + MAILBOX_RETENTION_MS)],
    );
    return rows.length === 1;
  }

  async setMailbox(m: EntityManager, mailboxId: string, status: MailboxRow['status'], reply?: Uint8Array): Promise<void> {
    await m.query(`UPDATE fapp_mailbox SET status = $2, reply = COALESCE($3, reply), updated_at = now() WHERE mailbox_id = $1`, [
      mailboxId,
      status,
      reply ? Buffer.from(reply) : null,
    ]);
  }

  async mailbox(mailboxId: string): Promise<MailboxRow | null> {
    const rows: MailboxRow[] = await this.ds.query(
      `SELECT mb.mailbox_id, mb.therapist_id, mb.slot_id, mb.status, mb.reply, h.held_until
       FROM fapp_mailbox mb LEFT JOIN fapp_hold h ON h.mailbox_id = mb.mailbox_id
       WHERE mb.mailbox_id = $1`,
      [mailboxId],
    );
    return rows[0] ?? null;
  }

  async confirmHold(m: EntityManager, therapistId: string, slotId: string): Promise<void> {
    await m.query(`UPDATE fapp_hold SET state = 'booked', held_until = NULL WHERE therapist_id = $1 AND slot_id = $2`, [therapistId, slotId]);
  }

  async deleteHold(m: EntityManager, therapistId: string, slotId: string): Promise<void> {
    await m.query(`DELETE FROM fapp_hold WHERE therapist_id = $1 AND slot_id = $2`, [therapistId, slotId]);
  }

  async holdsOf(therapistId: string, nowMs: number): Promise<HoldRow[]> {
    return this.ds.query(
      `SELECT therapist_id, slot_id, mailbox_id, state, held_until, reservation FROM fapp_hold
       WHERE therapist_id = $1 AND (state = 'booked' OR held_until > $2) ORDER BY created_at`,
      [therapistId, new Date(nowMs)],
    );
  }

  async insertChallenge(challenge: string, expiresAt: Date): Promise<void> {
    await this.ds.query(`INSERT INTO fapp_challenge (challenge, expires_at) VALUES ($1, $2)`, [challenge, expiresAt]);
  }

  /** Single use: the challenge is deleted as it is consumed. */
  async consumeChallenge(challenge: string, nowMs: number): Promise<boolean> {
    const rows = returned(await this.ds.query(`DELETE FROM fapp_challenge WHERE challenge = $1 AND expires_at > $2 RETURNING challenge`, [challenge, new Date(nowMs)]));
    return rows.length === 1;
  }

  /** Housekeeping: expired holds free their slot (mailbox says so), old stamps, challenges, mailboxes. */
  async collectGarbage(nowMs: number, oldestStampWindow: number): Promise<{ expiredHolds: number }> {
    const now = new Date(nowMs);
    return this.ds.transaction(async (m) => {
      const expired = returned<{ mailbox_id: string }>(await m.query(`DELETE FROM fapp_hold WHERE state = 'held' AND held_until <= $1 RETURNING mailbox_id`, [now]));
      if (expired.length > 0) {
        await m.query(`UPDATE fapp_mailbox SET status = 'expired', updated_at = now() WHERE status = 'pending' AND mailbox_id = ANY($1::bpchar[])`, [
          expired.map((e) => e.mailbox_id),
        ]);
      }
      await m.query(`DELETE FROM fapp_stamp WHERE "window" < $1`, [oldestStampWindow]);
      await m.query(`DELETE FROM fapp_challenge WHERE expires_at <= $1`, [now]);
      await m.query(`DELETE FROM fapp_mailbox WHERE expires_at <= $1`, [now]);
      return { expiredHolds: expired.length };
    });
  }

  /**
   * Deletes the announces (and by cascade their slots) that expired more than 30 days before
   * `nowMs`; they are kept that long so an older sequence cannot be replayed in the meantime.
   * Returns how many went.
   *
   * `expires_at` has no index, so that a re-announce can update its row in place (migration
   * 1765300000000): this reads the whole table, and the service runs it rarely
   * (`ANNOUNCE_RETIRE_INTERVAL_MS`). Each announce is deleted under the announce write's lock of
   * its therapist, taken in key order as the write takes it: the write leaves unchanged slot rows
   * alone, so the cascade to the slots must not run between its snapshot and its end (migration
   * 1765100000000). An announce written again meanwhile is no longer expired and stays.
   */
  async retireAnnounces(nowMs: number): Promise<number> {
    const retired = new Date(nowMs - MAILBOX_RETENTION_MS);
    return this.ds.transaction(async (m) => {
      const ids = returned<{ therapist_id: string }>(await m.query(`SELECT therapist_id FROM fapp_announce WHERE expires_at <= $1`, [retired])).map(
        (r) => r.therapist_id,
      );
      if (ids.length === 0) return 0;
      await m.query(
        `SELECT pg_advisory_xact_lock($2, l.k) FROM (SELECT DISTINCT hashtext(t::text) AS k FROM unnest($1::bpchar[]) AS t ORDER BY 1) l`,
        [ids, ANNOUNCE_WRITE_LOCK],
      );
      const deleted = returned(
        await m.query(`DELETE FROM fapp_announce WHERE therapist_id = ANY($1::bpchar[]) AND expires_at <= $2 RETURNING therapist_id`, [ids, retired]),
      );
      return deleted.length;
    });
  }
}
