import type { MigrationInterface, QueryRunner } from 'typeorm';
import { QPC_ACK_V1 } from './1764500000000-DeliveryFunctions.js';

/**
 * Acks and reads start where the last ack ended. `queue_head.acked_seq` is the highest sequence
 * number acked so far (clamped to the last one handed out), so everything at or below it is
 * deleted. An ack's delete (`qpc_ack`) then scans only `(acked_seq, up_to]`, and a fetch starts
 * past `acked_seq` whatever `after` it was asked for. Before, both started at the queue's first
 * key and stepped over the index entries of every message deleted since the last vacuum: under
 * sustained traffic an ack of a few devices read thousands of buffers.
 *
 * `qpc_ack` keeps its contract: per device, deletes everything up to its sequence number, lowers
 * the depth by what it deleted, locks the queue rows in device-id order first, and returns each
 * device's depth. An ack past the last sequence handed out deletes what is there and hides
 * nothing that comes later; an older ack changes nothing.
 */
export class DeliveryAckedSeq1764800000000 implements MigrationInterface {
  name = 'DeliveryAckedSeq1764800000000';

  async up(q: QueryRunner): Promise<void> {
    // 0 for existing queues: their first ack scans from the start once, as before.
    await q.query(`ALTER TABLE queue_head ADD COLUMN acked_seq bigint NOT NULL DEFAULT 0`);
    await q.query(`CREATE OR REPLACE FUNCTION qpc_ack(p_devices uuid[], p_up_to bigint[])
      RETURNS TABLE (device_id uuid, depth integer) LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM 1 FROM queue_head h WHERE h.device_id = ANY (p_devices) ORDER BY h.device_id FOR UPDATE;
        RETURN QUERY
          WITH a AS (SELECT h.device_id AS d, h.acked_seq AS lo, LEAST(x.s, h.next_seq - 1) AS hi
                       FROM unnest(p_devices, p_up_to) AS x(d, s) JOIN queue_head h ON h.device_id = x.d),
               del AS (DELETE FROM queued_message m USING a WHERE m.device_id = a.d AND m.seq > a.lo AND m.seq <= a.hi RETURNING m.device_id),
               n AS (SELECT del.device_id AS d, count(*)::integer AS c FROM del GROUP BY del.device_id)
          UPDATE queue_head h SET depth = h.depth - COALESCE(n.c, 0), acked_seq = GREATEST(h.acked_seq, a.hi)
            FROM a LEFT JOIN n ON n.d = a.d
           WHERE h.device_id = a.d
          RETURNING h.device_id, h.depth;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION ${QPC_ACK_V1}`);
    await q.query(`ALTER TABLE queue_head DROP COLUMN acked_seq`);
  }
}
