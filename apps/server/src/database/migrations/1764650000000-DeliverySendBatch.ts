import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group commit for group messages: `qpc_group_send_batch` runs `qpc_group_send` for each send of a
 * batch in one statement (one round trip and one commit for all of them). Every queue the batch
 * may touch (all member devices of its groups) is locked in device-id order first, so a batch
 * cannot deadlock with another writer that locks queues in that order. Returns one result per
 * send, in order, each what `qpc_group_send` returns.
 */
export class DeliverySendBatch1764650000000 implements MigrationInterface {
  name = 'DeliverySendBatch1764650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION qpc_group_send_batch(p_scopes varchar[], p_cmids uuid[], p_nows timestamptz[], p_times_ms bigint[], p_groups bytea[], p_senders uuid[], p_payloads bytea[], p_hashes text[], p_max_depth integer)
      RETURNS jsonb[] LANGUAGE plpgsql AS $fn$
      DECLARE
        v_out jsonb[] := '{}';
      BEGIN
        PERFORM 1 FROM queue_head h
          WHERE h.device_id IN (SELECT m.device_id FROM group_member m WHERE m.group_id = ANY (p_groups))
          ORDER BY h.device_id FOR UPDATE;
        FOR i IN 1 .. coalesce(array_length(p_scopes, 1), 0) LOOP
          v_out := array_append(v_out, qpc_group_send(p_scopes[i], p_cmids[i], p_nows[i], p_times_ms[i], p_groups[i], p_senders[i], p_payloads[i], p_hashes[i], p_max_depth));
        END LOOP;
        RETURN v_out;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION qpc_group_send_batch(varchar[], uuid[], timestamptz[], bigint[], bytea[], uuid[], bytea[], text[], integer)`);
  }
}
