import type { MigrationInterface, QueryRunner } from 'typeorm';
import { FappAnnounceWrite1764900000000 } from './1764900000000-FappAnnounceWrite.js';

/**
 * `qpc_fapp_write_announces` takes the batch's signed announces as one `bytea` (their
 * concatenation) with an array of their lengths, and each slot's announce as a position in the
 * announce arrays. Until now the envelopes came as a `bytea[]`: the driver sends an array only as
 * text, so 100 announces of about 1.9 KB became 380 KB of escaped hex built on the server's main
 * thread and parsed back by the database, and every slot repeated its therapist's 64-character
 * id. A `bytea` parameter goes in binary, as it is.
 *
 * The rules and the write lock are those of migration 1764900000000. The lengths must add up to
 * the concatenation's length and every slot must name an announce of the batch; otherwise the
 * call fails (`22023`) and writes nothing.
 */
export class FappAnnounceWriteBinary1765000000000 implements MigrationInterface {
  name = 'FappAnnounceWriteBinary1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION qpc_fapp_write_announces(text[], bigint[], text[], boolean[], text[], text[], text[], text[], text[], text[], boolean[],
      timestamptz[], timestamptz[], bytea[], text[], text[], text[], text[], timestamptz[], smallint[], smallint[], smallint[])`);
    await q.query(`CREATE FUNCTION qpc_fapp_write_announces(
        p_therapist text[], p_sequence bigint[], p_plz text[], p_verified boolean[], p_authority text[],
        p_fachrichtungen text[], p_altersgruppen text[], p_modalitaeten text[], p_kostentraeger text[], p_languages text[],
        p_barrier_free boolean[], p_issued_at timestamptz[], p_expires_at timestamptz[], p_envelopes bytea, p_envelope_len integer[],
        p_authority_key text[], p_attestation_id text[],
        p_slot_owner integer[], p_slot_id text[], p_slot_start timestamptz[], p_slot_duration smallint[], p_slot_terminart smallint[],
        p_slot_group_size smallint[])
      RETURNS SETOF text LANGUAGE plpgsql AS $fn$
      BEGIN
        IF coalesce((SELECT sum(x) FROM unnest(p_envelope_len) AS x), 0) <> coalesce(length(p_envelopes), 0)
           OR EXISTS (SELECT 1 FROM unnest(p_envelope_len) AS x WHERE x IS NULL OR x < 1) THEN
          RAISE EXCEPTION 'envelope lengths do not add up to the envelopes' USING ERRCODE = '22023';
        END IF;
        IF EXISTS (SELECT 1 FROM unnest(p_slot_owner) AS o WHERE o IS NULL OR o < 1 OR o > coalesce(cardinality(p_therapist), 0)) THEN
          RAISE EXCEPTION 'slot names no announce of the batch' USING ERRCODE = '22023';
        END IF;
        PERFORM pg_advisory_xact_lock(74117003, l.k) FROM (SELECT DISTINCT hashtext(t) AS k FROM unnest(p_therapist) AS t ORDER BY 1) l;
        RETURN QUERY
          WITH n AS (
            SELECT u.*, substring(p_envelopes FROM (sum(u.elen) OVER (ORDER BY u.ord) - u.elen + 1)::integer FOR u.elen) AS env
            FROM unnest(p_therapist, p_sequence, p_plz, p_verified, p_authority, p_fachrichtungen, p_altersgruppen, p_modalitaeten,
                        p_kostentraeger, p_languages, p_barrier_free, p_issued_at, p_expires_at, p_envelope_len, p_authority_key, p_attestation_id)
              WITH ORDINALITY AS u(tid, seq, plz, ver, auth, f, ag, m, k, l, bf, iss, exp, elen, akey, aid, ord)
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
            SELECT n.tid, x.sid, x.start_at, x.dur, x.art, x.grp
            FROM unnest(p_slot_owner, p_slot_id, p_slot_start, p_slot_duration, p_slot_terminart, p_slot_group_size)
              AS x(owner, sid, start_at, dur, art, grp)
            JOIN n ON n.ord = x.owner
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
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION qpc_fapp_write_announces(text[], bigint[], text[], boolean[], text[], text[], text[], text[], text[], text[], boolean[],
      timestamptz[], timestamptz[], bytea, integer[], text[], text[], integer[], text[], timestamptz[], smallint[], smallint[], smallint[])`);
    await new FappAnnounceWrite1764900000000().up(q);
  }
}
