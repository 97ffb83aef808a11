import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returned } from '../messenger/sql.js';
import { GroupCommit } from '../common/group-commit.js';
import { ChurnVacuum } from '../database/vacuum.js';

export interface EnqueueItem {
  deviceId: string;
  payload: Uint8Array;
  senderDeviceId: string | null;
  groupId: Uint8Array | null;
}

export interface MessageRow {
  seq: string;
  payload: Buffer;
  sender_device_id: string | null;
  group_id: Buffer | null;
  enqueued_at: Date;
}

/** Signals a repeated client message id from inside the transaction (which then rolls back). */
export class DuplicateSend extends Error {}

/** What `qpc_group_send` stores under the client message id: deliveries as [device, seq], skipped devices, message hash (base64url), time (ms). */
export interface StoredGroupSend {
  d: [string, number][];
  s: string[];
  h: string;
  t: number;
}

export type GroupSendOutcome = { fresh: StoredGroupSend } | { duplicate: unknown } | { notFound: true };

/** Acks waiting for the statement in flight; the next statement takes at most this many devices. */
export const MAX_ACK_BATCH = 500;
/** Group sends waiting for a statement in flight; the next statement takes at most this many. */
export const MAX_SEND_BATCH = 64;
/**
 * Send statements in flight at once (the pool has more connections; the rest wait and batch).
 * One: sends to the same queues serialise on their `queue_head` rows anyway, and a second
 * statement in flight mostly added a second busy backend and more, smaller statements (each a
 * loopback socket write and a WAL flush). bench/delivery, WebSocket path, five A/B runs each on
 * PostgreSQL: p99 enqueue->push at half load 22-35 ms (median 24.8) with one, 29-35 ms (median
 * 32.2) with two, at the same throughput.
 */
export const SEND_STATEMENTS = 1;
/** A batch that lost a deadlock (a membership change racing it) is tried again this often. */
const DEADLOCK_RETRIES = 3;

interface PendingSend {
  scope: string;
  clientMessageId: string;
  now: Date;
  groupId: Buffer;
  senderDeviceId: string;
  payload: Buffer;
  hash: string;
  maxDepth: number;
}

type RawOutcome = (StoredGroupSend & { dup?: undefined; nf?: undefined }) | { dup: unknown } | { nf: true };

function outcome(r: RawOutcome): GroupSendOutcome {
  if ('nf' in r && r.nf) return { notFound: true };
  if ('dup' in r && r.dup !== undefined) return { duplicate: r.dup };
  return { fresh: r as StoredGroupSend };
}

/** Messages a send statement inserted (none for a duplicate or a non-member). */
function delivered(r: RawOutcome): number {
  return 'd' in r ? r.d.length : 0;
}

function isDeadlock(e: unknown): boolean {
  const err = e as { code?: string; driverError?: { code?: string } };
  return (err?.driverError?.code ?? err?.code) === '40P01';
}

interface PendingAck {
  deviceId: string;
  upTo: number;
}

@Injectable()
export class DeliveryRepository {
  private readonly sends = new GroupCommit<PendingSend, RawOutcome>({ concurrency: SEND_STATEMENTS, maxBatch: MAX_SEND_BATCH, run: (b) => this.sendBatch(b) });
  private readonly acks = new GroupCommit<PendingAck, number>({ concurrency: 1, maxBatch: MAX_ACK_BATCH, run: (b) => this.ackBatch(b) });

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ChurnVacuum) private readonly vacuum: ChurnVacuum,
  ) {}

  /** Rows a send wrote that become dead: the old versions of the queue heads, and the messages at their ack. */
  private wrote(messages: number): void {
    this.vacuum.wrote('queue_head', messages);
    this.vacuum.wrote('queued_message', messages);
  }

  /**
   * A whole group application message (`qpc_group_send`, see its migration): idempotency key,
   * membership, the target queues' sequence numbers (locked in device-id order), the rows and the
   * stored result. Group commit: a send that arrives while SEND_STATEMENTS send statements are in
   * flight waits for one of them and then goes with every other waiting send in one statement
   * (`qpc_group_send_batch`), so sends cost one statement and one commit per round trip, not one
   * each. Each send's outcome is its own (a duplicate or a non-member does not touch the others);
   * it resolves only after the statement has committed.
   */
  groupSend(
    key: { scope: string; clientMessageId: string },
    now: Date,
    groupId: Uint8Array,
    senderDeviceId: string,
    payload: Uint8Array,
    hash: string,
    maxDepth: number,
  ): Promise<GroupSendOutcome> {
    return this.sends.submit({ ...key, now, groupId: Buffer.from(groupId), senderDeviceId, payload: Buffer.from(payload), hash, maxDepth }).then(outcome);
  }

  private async sendBatch(batch: readonly PendingSend[]): Promise<RawOutcome[]> {
    // The limit is configuration, the same for every send.
    const maxDepth = batch[0]!.maxDepth;
    for (let attempt = 0; ; attempt++) {
      try {
        if (batch.length === 1) {
          const p = batch[0]!;
          const rows: { r: RawOutcome }[] = await this.ds.query(`SELECT qpc_group_send($1, $2, $3, $4, $5, $6, $7, $8, $9) AS r`, [
            p.scope,
            p.clientMessageId,
            p.now,
            p.now.getTime(),
            p.groupId,
            p.senderDeviceId,
            p.payload,
            p.hash,
            maxDepth,
          ]);
          this.wrote(delivered(rows[0]!.r));
          return [rows[0]!.r];
        }
        const rows: { r: RawOutcome[] }[] = await this.ds.query(
          `SELECT qpc_group_send_batch($1::varchar[], $2::uuid[], $3::timestamptz[], $4::bigint[], $5::bytea[], $6::uuid[], $7::bytea[], $8::text[], $9) AS r`,
          [
            batch.map((p) => p.scope),
            batch.map((p) => p.clientMessageId),
            batch.map((p) => p.now),
            batch.map((p) => p.now.getTime()),
            batch.map((p) => p.groupId),
            batch.map((p) => p.senderDeviceId),
            batch.map((p) => p.payload),
            batch.map((p) => p.hash),
            maxDepth,
          ],
        );
        this.wrote(rows[0]!.r.reduce((n, r) => n + delivered(r), 0));
        return rows[0]!.r;
      } catch (e) {
        // The whole statement rolled back: nothing of the batch happened, so it can run again.
        if (!isDeadlock(e) || attempt >= DEADLOCK_RETRIES) throw e;
      }
    }
  }

  /**
   * Runs `fn` once per (scope, client message id): the key row is inserted first, so a
   * concurrent repeat waits on it and then finds it; a repeat returns the stored result.
   * `fn` stores its result in the key row itself (insertMessages does, in the same statement
   * as the messages); a result it did not store is stored here.
   */
  async once<R>(scope: string, clientMessageId: string, now: Date, fn: (m: EntityManager) => Promise<{ result: R; stored: boolean }>): Promise<{ result: R; duplicate: boolean }> {
    try {
      const result = await this.ds.transaction(async (m) => {
        const ins: unknown[] = await m.query(
          `INSERT INTO send_key (scope, client_message_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING scope`,
          [scope, clientMessageId, now],
        );
        if (ins.length === 0) throw new DuplicateSend();
        const r = await fn(m);
        if (!r.stored) await m.query(`UPDATE send_key SET result = $3 WHERE scope = $1 AND client_message_id = $2`, [scope, clientMessageId, JSON.stringify(r.result)]);
        return r.result;
      });
      return { result, duplicate: false };
    } catch (e) {
      if (!(e instanceof DuplicateSend)) throw e;
      const rows: { result: R }[] = await this.ds.query(`SELECT result FROM send_key WHERE scope = $1 AND client_message_id = $2`, [scope, clientMessageId]);
      return { result: rows[0]!.result, duplicate: true };
    }
  }

  /**
   * Takes the next sequence number of each target queue whose depth is below `maxDepth`, in one
   * statement: the queues are locked in device-id order first (no deadlock between overlapping
   * fan-outs). Returns every existing queue with its depth before, and `seq` where one was taken;
   * a missing queue (revoked device) is absent. The caller's transaction must still insert the rows.
   */
  async takeSeqs(m: EntityManager, deviceIds: string[], maxDepth: number): Promise<Map<string, { depth: number; seq: number | null }>> {
    const rows: { device_id: string; depth: number; seq: string | null }[] = await m.query(
      `WITH l AS (SELECT device_id, depth FROM queue_head WHERE device_id = ANY($1) ORDER BY device_id FOR UPDATE),
            u AS (UPDATE queue_head q SET next_seq = q.next_seq + 1, depth = q.depth + 1 FROM l
                  WHERE q.device_id = l.device_id AND l.depth < $2 RETURNING q.device_id, q.next_seq - 1 AS seq)
       SELECT l.device_id, l.depth, u.seq FROM l LEFT JOIN u ON u.device_id = l.device_id`,
      [deviceIds, maxDepth],
    );
    return new Map(rows.map((r) => [r.device_id, { depth: r.depth, seq: r.seq === null ? null : Number(r.seq) }]));
  }

  /**
   * Inserts the messages (sequence numbers taken by takeSeqs) and records the send's result under
   * its client message id, in one statement.
   */
  async insertMessages(m: EntityManager, items: (EnqueueItem & { seq: number })[], now: Date, key: { scope: string; clientMessageId: string; result: unknown }): Promise<void> {
    this.wrote(items.length);
    await m.query(
      `WITH ins AS (
         INSERT INTO queued_message (device_id, seq, payload, sender_device_id, group_id, enqueued_at)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bytea[], $4::uuid[], $5::bytea[], $6::timestamptz[]))
       UPDATE send_key SET result = $9 WHERE scope = $7 AND client_message_id = $8`,
      [
        items.map((i) => i.deviceId),
        items.map((i) => i.seq),
        items.map((i) => Buffer.from(i.payload)),
        items.map((i) => i.senderDeviceId),
        items.map((i) => (i.groupId ? Buffer.from(i.groupId) : null)),
        items.map(() => now),
        key.scope,
        key.clientMessageId,
        JSON.stringify(key.result),
      ],
    );
  }

  /**
   * Up to `limit` messages after `after`, in order. The scan starts past the queue's last ack
   * (everything up to it is deleted), not at its first key: that range holds only the index
   * entries of deleted messages until a vacuum removes them.
   */
  async fetch(deviceId: string, after: number, limit: number): Promise<MessageRow[]> {
    return this.ds.query(
      `SELECT seq, payload, sender_device_id, group_id, enqueued_at FROM queued_message
        WHERE device_id = $1 AND seq > GREATEST($2::bigint, (SELECT acked_seq FROM queue_head WHERE device_id = $1))
        ORDER BY seq LIMIT $3`,
      [deviceId, after, limit],
    );
  }

  async nextSeq(deviceId: string): Promise<number> {
    const rows: { next_seq: string }[] = await this.ds.query(`SELECT next_seq FROM queue_head WHERE device_id = $1`, [deviceId]);
    return Number(rows[0]?.next_seq ?? 1);
  }

  /**
   * Deletes everything up to `upTo` and lowers the depth by what was deleted; resolves with the
   * depth once that is committed. Group commit: an ack that arrives while another ack statement
   * is in flight waits for it and then goes with every other waiting ack in one statement
   * (`qpc_ack`, one device's acks merged to the highest), so acks cost one statement per round
   * trip, not one each. Nothing is deleted beyond what was acked, and no ack is answered before
   * its delete has committed.
   */
  ack(deviceId: string, upTo: number): Promise<number> {
    return this.acks.submit({ deviceId, upTo });
  }

  private async ackBatch(batch: readonly PendingAck[]): Promise<number[]> {
    const upTo = new Map<string, number>();
    for (const a of batch) upTo.set(a.deviceId, Math.max(upTo.get(a.deviceId) ?? a.upTo, a.upTo));
    const rows: { device_id: string; depth: number }[] = await this.ds.query(`SELECT device_id, depth FROM qpc_ack($1::uuid[], $2::bigint[])`, [[...upTo.keys()], [...upTo.values()]]);
    this.vacuum.wrote('queue_head', upTo.size);
    const depth = new Map(rows.map((r) => [r.device_id, r.depth]));
    return batch.map((a) => depth.get(a.deviceId) ?? 0);
  }

  /** Client message ids are remembered for a retention window; sessions past expiry go too. */
  async prune(sendKeysBefore: Date, now: Date): Promise<void> {
    const keys: { n: number }[] = await this.ds.query(`WITH d AS (DELETE FROM send_key WHERE created_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM d`, [sendKeysBefore]);
    this.vacuum.wrote('send_key', keys[0]?.n ?? 0);
    await this.ds.query(`DELETE FROM session WHERE expires_at < $1`, [now]);
  }

  async insertToken(hash: Buffer, accountId: string, now: Date): Promise<void> {
    await this.ds.query(`INSERT INTO delivery_token (token_hash, account_id, created_at) VALUES ($1, $2, $3)`, [hash, accountId, now]);
  }

  async deleteToken(hash: Buffer, accountId: string): Promise<boolean> {
    const rows = returned<unknown>(await this.ds.query(`DELETE FROM delivery_token WHERE token_hash = $1 AND account_id = $2 RETURNING 1`, [hash, accountId]));
    return rows.length > 0;
  }

  /** Active devices of the account a delivery token belongs to. */
  async tokenDevices(hash: Buffer): Promise<string[] | null> {
    const rows: { id: string | null }[] = await this.ds.query(
      `SELECT d.id FROM delivery_token t LEFT JOIN device d ON d.account_id = t.account_id AND d.revoked_at IS NULL WHERE t.token_hash = $1 ORDER BY d.id`,
      [hash],
    );
    if (rows.length === 0) return null;
    return rows.filter((r) => r.id !== null).map((r) => r.id!);
  }
}
