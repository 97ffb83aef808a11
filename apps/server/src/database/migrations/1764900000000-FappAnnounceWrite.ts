import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `qpc_fapp_write_announces`: stores announces and their slots under a write lock per therapist,
 * in one call. Until now the upsert was one statement sent by the server; a statement that had
 * to wait inside itself for another write of the same therapist kept the snapshot it started
 * with, so its deletion of the slots the new announce no longer carries could not see a slot the
 * other write had just added. The slot stayed, under an announce that does not offer it.
 *
 * The function first takes a transaction-scoped advisory lock per therapist (class 74117003, key
 * `hashtext(therapist id)`, in key order so two writers of overlapping sets cannot deadlock),
 * then runs the upsert as a statement of its own: in READ COMMITTED that statement's snapshot is
 * taken after the locks, so it sees everything an earlier writer of these therapists committed.
 * One round trip, as before; an explicit transaction around a lock query and the statement cost
 * three more (single ingests 20-38 % slower in bench/fapp).
 *
 * The rules are the statement's as it was (FappRepository.upsertAnnounces): per therapist, the
 * announce replaces the stored one only if its sequence is higher; then its slots are written
 * (an unchanged slot row is left as it is), slots it no longer carries are deleted, and so are
 * booked holds on them. Parameters: one array element per announce (p_therapist .. p_attestation_id;
 * Fachrichtungen, age groups, Modalitäten, Kostenträger and languages as array literals), one per
 * slot (p_slot_*). Returns the therapist ids stored.
 */
export class FappAnnounceWrite1764900000000 implements MigrationInterface {
  name = 'FappAnnounceWrite1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(announceRowsFunction('qpc_fapp_write_announces'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION qpc_fapp_write_announces(${ANNOUNCE_ROWS_ARGS})`);
  }
}

/** The argument types of this migration's write (kept by `qpc_fapp_write_announce_rows` since migration 1765000000000). */
export const ANNOUNCE_ROWS_ARGS = `text[], bigint[], text[], boolean[], text[], text[], text[], text[], text[], text[], boolean[],
  timestamptz[], timestamptz[], bytea[], text[], text[], text[], text[], timestamptz[], smallint[], smallint[], smallint[]`;

/**
 * The `CREATE FUNCTION` of this migration's write under `name` (migration 1765000000000 renamed
 * it `qpc_fapp_write_announce_rows`; the down of 1765100000000 restores it under that name).
 */
export function announceRowsFunction(name: string): string {
  return `CREATE FUNCTION ${name}(
        p_therapist text[], p_sequence bigint[], p_plz text[], p_verified boolean[], p_authority text[],
        p_fachrichtungen text[], p_altersgruppen text[], p_modalitaeten text[], p_kostentraeger text[], p_languages text[],
        p_barrier_free boolean[], p_issued_at timestamptz[], p_expires_at timestamptz[], p_envelope bytea[],
        p_authority_key text[], p_attestation_id text[],
        p_slot_therapist text[], p_slot_id text[], p_slot_start timestamptz[], p_slot_duration smallint[], p_slot_terminart smallint[],
        p_slot_group_size smallint[])
      RETURNS SETOF text LANGUAGE plpgsql AS $fn$
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
            SELECT * FROM unnest(p_slot_therapist, p_slot_id, p_slot_start, p_slot_duration, p_slot_terminart, p_slot_group_size)
              AS ns(tid, sid, start_at, dur, art, grp)
          ), gone AS (
            DELETE FROM fapp_slot WHERE ctid = ANY (ARRAY(
              SELECT x.ctid FROM a CROSS JOIN LATERAL (SELECT s.ctid, s.slot_id FROM fapp_slot s WHERE s.therapist_id = a.therapist_id OFFSET 0) x
              WHERE NOT EXISTS (SELECT 1 FROM ns WHERE ns.tid = a.therapist_id AND ns.sid = x.slot_id)))
          ), slots AS (
            INSERT INTO fapp_slot AS cur (therapist_id, slot_id, start_at, duration_min, terminart, group_size)
            SELECT ns.tid, ns.sid, ns.start_at, ns.dur, ns.art, ns.grp FROM ns JOIN a ON a.therapist_id = ns.tid
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
      $fn$`;
}
