import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANNOUNCE_ROWS_ARGS, announceRowsFunction } from './1764900000000-FappAnnounceWrite.js';

/**
 * `qpc_fapp_write_announce_rows` leaves a slot row that a new announce carries unchanged alone,
 * instead of sending it through the slot upsert. Most slots of a re-announce are unchanged, and
 * `INSERT … ON CONFLICT DO UPDATE … WHERE <changed>` locks every conflicting row before it looks
 * at the condition: a lock, a dirtied page and a WAL record per unchanged slot.
 *
 * The stored slots of the therapists whose announce is written are now read once (`cur_slots`);
 * the slots the announce no longer carries are deleted from that list, and only slots that are
 * new or differ from it go to the upsert. The slot arrays are compared as `bpchar`, the columns'
 * type: as `text` every comparison cast the column, which kept the joins from hashing (the
 * deletion sorted 1 000 rows by a collation per batch) and an index from being used.
 *
 * The function now always runs its statements with their generic plan (`plan_cache_mode`). By
 * default PostgreSQL weighs a custom plan for the actual arrays against the generic one: for a
 * single announce the custom plan looked cheaper every time, so every call planned the upsert
 * anew, which cost about half of the backend's CPU time for a single write (1 400-1 600 µs against
 * 700-740 µs with the generic plan). Batches of 100 already ran the generic plan.
 *
 * A generic plan is made once per connection and kept until the tables' statistics change. One
 * made while the tables were small (a new database, or a bulk import before autovacuum has
 * analysed it) deleted the dropped slots by reading the whole of `fapp_slot` for their `ctid`s:
 * 70 ms of CPU per batch of 100 re-announces against 60 000 slots, where a TID scan takes well
 * under 1 ms. Every statement of the function reaches its rows by key or by `ctid`, so it runs
 * with `enable_seqscan = off`: its plans no longer depend on when they were made.
 *
 * Leaving a row alone relies on it staying there until the statement ends: the statement's
 * snapshot is taken after the per-therapist lock, and the only other writer of slots is the
 * cascade from deleting an announce, which the expiry (`FappRepository.collectGarbage`) now does
 * under the same lock.
 *
 * The rules are otherwise those of migration 1764900000000, and the signature is unchanged.
 */
export class FappAnnounceWriteUnchangedSlots1765100000000 implements MigrationInterface {
  name = 'FappAnnounceWriteUnchangedSlots1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION qpc_fapp_write_announce_rows(
        p_therapist text[], p_sequence bigint[], p_plz text[], p_verified boolean[], p_authority text[],
        p_fachrichtungen text[], p_altersgruppen text[], p_modalitaeten text[], p_kostentraeger text[], p_languages text[],
        p_barrier_free boolean[], p_issued_at timestamptz[], p_expires_at timestamptz[], p_envelope bytea[],
        p_authority_key text[], p_attestation_id text[],
        p_slot_therapist text[], p_slot_id text[], p_slot_start timestamptz[], p_slot_duration smallint[], p_slot_terminart smallint[],
        p_slot_group_size smallint[])
      RETURNS SETOF text LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock(74117003, l.k) FROM (SELECT DISTINCT hashtext(t) AS k FROM unnest(p_therapist) AS t ORDER BY 1) l;
        RETURN QUERY
          WITH n AS (
            SELECT * FROM unnest(p_therapist, p_sequence, p_plz, p_verified, p_authority, p_fachrichtungen, p_altersgruppen, p_modalitaeten,
                                 p_kostentraeger, p_languages, p_barrier_free, p_issued_at, p_expires_at, p_envelope, p_authority_key, p_attestation_id)
              WITH ORDINALITY AS n(tid, seq, plz, ver, auth, f, ag, m, k, l, bf, iss, exp, env, akey, aid, ord)
          ), a AS (
            INSERT INTO fapp_announce AS cur (therapist_id, sequence, plz, verified, authority, fachrichtungen, altersgruppen, modalitaeten,
                                              kostentraeger, languages, barrier_free, issued_at, expires_at, envelope, authority_key, attestation_id,
                                              received_at)
            SELECT n.tid, n.seq, n.plz, n.ver, n.auth, n.f::smallint[], n.ag::smallint[], n.m::smallint[], n.k::smallint[], n.l::text[],
                   n.bf, n.iss, n.exp, n.env, n.akey, n.aid, now()
            FROM n ORDER BY n.ord
            ON CONFLICT (therapist_id) DO UPDATE SET
              sequence = EXCLUDED.sequence, plz = EXCLUDED.plz, verified = EXCLUDED.verified, authority = EXCLUDED.authority,
              fachrichtungen = EXCLUDED.fachrichtungen, altersgruppen = EXCLUDED.altersgruppen, modalitaeten = EXCLUDED.modalitaeten,
              kostentraeger = EXCLUDED.kostentraeger, languages = EXCLUDED.languages, barrier_free = EXCLUDED.barrier_free,
              issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at, envelope = EXCLUDED.envelope,
              authority_key = EXCLUDED.authority_key, attestation_id = EXCLUDED.attestation_id, received_at = now()
            WHERE cur.sequence < EXCLUDED.sequence
            RETURNING cur.therapist_id
          ), ns AS (
            SELECT * FROM unnest(p_slot_therapist::bpchar[], p_slot_id::bpchar[], p_slot_start, p_slot_duration, p_slot_terminart, p_slot_group_size)
              AS ns(tid, sid, start_at, dur, art, grp)
          ), cur_slots AS (
            SELECT x.ctid AS ct, x.therapist_id AS tid, x.slot_id AS sid, x.start_at, x.duration_min AS dur, x.terminart AS art, x.group_size AS grp
            FROM a CROSS JOIN LATERAL (SELECT s.ctid, s.* FROM fapp_slot s WHERE s.therapist_id = a.therapist_id OFFSET 0) x
          ), gone AS (
            DELETE FROM fapp_slot WHERE ctid = ANY (ARRAY(
              SELECT c.ct FROM cur_slots c WHERE NOT EXISTS (SELECT 1 FROM ns WHERE ns.tid = c.tid AND ns.sid = c.sid)))
          ), slots AS (
            INSERT INTO fapp_slot AS cur (therapist_id, slot_id, start_at, duration_min, terminart, group_size)
            SELECT ns.tid, ns.sid, ns.start_at, ns.dur, ns.art, ns.grp FROM ns JOIN a ON a.therapist_id = ns.tid
            WHERE NOT EXISTS (SELECT 1 FROM cur_slots c WHERE c.tid = ns.tid AND c.sid = ns.sid AND c.start_at = ns.start_at
                                AND c.dur = ns.dur AND c.art = ns.art AND c.grp IS NOT DISTINCT FROM ns.grp)
            ON CONFLICT (therapist_id, slot_id) DO UPDATE SET
              start_at = EXCLUDED.start_at, duration_min = EXCLUDED.duration_min, terminart = EXCLUDED.terminart, group_size = EXCLUDED.group_size
            WHERE (cur.start_at, cur.duration_min, cur.terminart, cur.group_size)
                  IS DISTINCT FROM (EXCLUDED.start_at, EXCLUDED.duration_min, EXCLUDED.terminart, EXCLUDED.group_size)
          ), done_holds AS (
            DELETE FROM fapp_hold WHERE ctid = ANY (ARRAY(
              SELECT x.ctid FROM a CROSS JOIN LATERAL (SELECT h.ctid, h.slot_id FROM fapp_hold h WHERE h.therapist_id = a.therapist_id AND h.state = 'booked' OFFSET 0) x
              WHERE NOT EXISTS (SELECT 1 FROM ns WHERE ns.tid = a.therapist_id AND ns.sid = x.slot_id)))
          )
          SELECT a.therapist_id::text FROM a;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION qpc_fapp_write_announce_rows(${ANNOUNCE_ROWS_ARGS})`);
    await q.query(announceRowsFunction('qpc_fapp_write_announce_rows'));
  }
}
