import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANNOUNCE_ROWS_ARGS } from './1764900000000-FappAnnounceWrite.js';

/**
 * `qpc_fapp_write_announces` takes the batch's signed announces as one `bytea` (their
 * concatenation) with an array of their lengths, and each slot's announce as a position in the
 * announce arrays. Until now the envelopes came as a `bytea[]`: the driver sends an array only as
 * text, so 100 announces of about 1.9 KB became 380 KB of escaped hex built on the server's main
 * thread and parsed back by the database, and every slot repeated its therapist's 64-character
 * id. A `bytea` parameter goes in binary, as it is.
 *
 * The write itself (write lock per therapist, supersede rules, slots and holds) stays the
 * function of migration 1764900000000, renamed `qpc_fapp_write_announce_rows`: this one checks
 * the layout, splits the envelopes and names each slot's therapist, and calls it. The lengths
 * must be positive and add up to the concatenation's length, and every slot must name an
 * announce of the batch; otherwise the call fails (`22023`) and writes nothing.
 */
export class FappAnnounceWriteBinary1765000000000 implements MigrationInterface {
  name = 'FappAnnounceWriteBinary1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION qpc_fapp_write_announces(${ANNOUNCE_ROWS_ARGS}) RENAME TO qpc_fapp_write_announce_rows`);
    await q.query(`CREATE FUNCTION qpc_fapp_write_announces(
        p_therapist text[], p_sequence bigint[], p_plz text[], p_verified boolean[], p_authority text[],
        p_fachrichtungen text[], p_altersgruppen text[], p_modalitaeten text[], p_kostentraeger text[], p_languages text[],
        p_barrier_free boolean[], p_issued_at timestamptz[], p_expires_at timestamptz[], p_envelopes bytea, p_envelope_len integer[],
        p_authority_key text[], p_attestation_id text[],
        p_slot_owner integer[], p_slot_id text[], p_slot_start timestamptz[], p_slot_duration smallint[], p_slot_terminart smallint[],
        p_slot_group_size smallint[])
      RETURNS SETOF text LANGUAGE plpgsql AS $fn$
      BEGIN
        IF coalesce(cardinality(p_envelope_len), 0) <> coalesce(cardinality(p_therapist), 0)
           OR coalesce((SELECT sum(x) FROM unnest(p_envelope_len) AS x), 0) <> coalesce(length(p_envelopes), 0)
           OR EXISTS (SELECT 1 FROM unnest(p_envelope_len) AS x WHERE x IS NULL OR x < 1) THEN
          RAISE EXCEPTION 'envelope lengths do not add up to the envelopes' USING ERRCODE = '22023';
        END IF;
        IF EXISTS (SELECT 1 FROM unnest(p_slot_owner) AS o WHERE o IS NULL OR o < 1 OR o > coalesce(cardinality(p_therapist), 0)) THEN
          RAISE EXCEPTION 'slot names no announce of the batch' USING ERRCODE = '22023';
        END IF;
        RETURN QUERY SELECT qpc_fapp_write_announce_rows(
          p_therapist, p_sequence, p_plz, p_verified, p_authority, p_fachrichtungen, p_altersgruppen, p_modalitaeten, p_kostentraeger,
          p_languages, p_barrier_free, p_issued_at, p_expires_at,
          ARRAY(SELECT substring(p_envelopes FROM (sum(u.len) OVER (ORDER BY u.ord) - u.len + 1)::integer FOR u.len)
                FROM unnest(p_envelope_len) WITH ORDINALITY AS u(len, ord) ORDER BY u.ord),
          p_authority_key, p_attestation_id,
          ARRAY(SELECT p_therapist[s.owner] FROM unnest(p_slot_owner) WITH ORDINALITY AS s(owner, ord) ORDER BY s.ord),
          p_slot_id, p_slot_start, p_slot_duration, p_slot_terminart, p_slot_group_size);
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION qpc_fapp_write_announces(text[], bigint[], text[], boolean[], text[], text[], text[], text[], text[], text[], boolean[],
      timestamptz[], timestamptz[], bytea, integer[], text[], text[], integer[], text[], timestamptz[], smallint[], smallint[], smallint[])`);
    await q.query(`ALTER FUNCTION qpc_fapp_write_announce_rows(${ANNOUNCE_ROWS_ARGS}) RENAME TO qpc_fapp_write_announces`);
  }
}
