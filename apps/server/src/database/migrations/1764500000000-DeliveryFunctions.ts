import type { MigrationInterface, QueryRunner } from 'typeorm';

/** `qpc_ack` as this migration defines it (signature and body; a later migration restores it on the way down). */
export const QPC_ACK_V1 = `qpc_ack(p_devices uuid[], p_up_to bigint[])
      RETURNS TABLE (device_id uuid, depth integer) LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM 1 FROM queue_head h WHERE h.device_id = ANY (p_devices) ORDER BY h.device_id FOR UPDATE;
        RETURN QUERY
          WITH a AS (SELECT * FROM unnest(p_devices, p_up_to) AS a(d, s)),
               del AS (DELETE FROM queued_message m USING a WHERE m.device_id = a.d AND m.seq <= a.s RETURNING m.device_id),
               n AS (SELECT del.device_id AS d, count(*)::integer AS c FROM del GROUP BY del.device_id)
          UPDATE queue_head h SET depth = h.depth - COALESCE(n.c, 0)
            FROM a LEFT JOIN n ON n.d = a.d
           WHERE h.device_id = a.d
          RETURNING h.device_id, h.depth;
      END
      $fn$`;

/**
 * The delivery hot path as two plpgsql functions, so that a group send and a batch of acks are one
 * statement (one round trip, no BEGIN/COMMIT) each.
 *
 * `qpc_group_send`: the idempotency key first (a concurrent repeat waits on its row and then finds
 * it; a repeat returns the stored result, `{"dup": result}`), then the member list (not a member,
 * or no such group: the key row is removed again and `{"nf": true}` comes back), then the target
 * queues locked in device-id order (no deadlock between overlapping fan-outs or ack batches),
 * their next sequence numbers for those below `max_depth`, the rows, and the result stored under
 * the key: `{"d": [[device, seq], ...], "s": [skipped device, ...], "h": message hash, "t": ms}`,
 * from which the caller signs (and a retry re-signs, to the same bytes) the receipts.
 *
 * `qpc_ack`: per device, deletes everything up to its sequence number and lowers the depth by what
 * was deleted; the queue rows are locked in device-id order first. Returns each device's depth.
 */
export class DeliveryFunctions1764500000000 implements MigrationInterface {
  name = 'DeliveryFunctions1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION qpc_group_send(p_scope varchar, p_cmid uuid, p_now timestamptz, p_time_ms bigint, p_group bytea, p_sender uuid, p_payload bytea, p_hash text, p_max_depth integer)
      RETURNS jsonb LANGUAGE plpgsql AS $fn$
      DECLARE
        v_members uuid[];
        v_result jsonb;
      BEGIN
        INSERT INTO send_key (scope, client_message_id, created_at) VALUES (p_scope, p_cmid, p_now) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
          SELECT result INTO v_result FROM send_key WHERE scope = p_scope AND client_message_id = p_cmid;
          RETURN jsonb_build_object('dup', v_result);
        END IF;
        SELECT array_agg(device_id) INTO v_members FROM group_member WHERE group_id = p_group;
        IF v_members IS NULL OR NOT (p_sender = ANY (v_members)) THEN
          DELETE FROM send_key WHERE scope = p_scope AND client_message_id = p_cmid;
          RETURN jsonb_build_object('nf', true);
        END IF;
        WITH l AS (SELECT device_id, depth FROM queue_head WHERE device_id = ANY (v_members) AND device_id <> p_sender ORDER BY device_id FOR UPDATE),
             u AS (UPDATE queue_head h SET next_seq = h.next_seq + 1, depth = h.depth + 1 FROM l
                   WHERE h.device_id = l.device_id AND l.depth < p_max_depth RETURNING h.device_id, h.next_seq - 1 AS seq),
             ins AS (INSERT INTO queued_message (device_id, seq, payload, sender_device_id, group_id, enqueued_at)
                     SELECT u.device_id, u.seq, p_payload, p_sender, p_group, p_now FROM u RETURNING 1)
        SELECT jsonb_build_object(
                 'd', COALESCE(jsonb_agg(jsonb_build_array(l.device_id, u.seq) ORDER BY l.device_id) FILTER (WHERE u.seq IS NOT NULL), '[]'::jsonb),
                 's', COALESCE(jsonb_agg(l.device_id ORDER BY l.device_id) FILTER (WHERE u.seq IS NULL), '[]'::jsonb),
                 'h', p_hash,
                 't', p_time_ms)
          INTO v_result
          FROM l LEFT JOIN u ON u.device_id = l.device_id;
        UPDATE send_key SET result = v_result WHERE scope = p_scope AND client_message_id = p_cmid;
        RETURN v_result;
      END
      $fn$`);
    await q.query(`CREATE FUNCTION ${QPC_ACK_V1}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION qpc_ack(uuid[], bigint[])`);
    await q.query(`DROP FUNCTION qpc_group_send(varchar, uuid, timestamptz, bigint, bytea, uuid, bytea, text, integer)`);
  }
}
