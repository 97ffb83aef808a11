import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** TypeORM returns `[rows, affectedCount]` for DELETE … RETURNING; INSERT gives rows. */
function returned<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

/**
 * SQL of the in-process mesh node: the reply keys of reservations (migration FappMeshReply1764600000000)
 * and its saved store-and-forward queue (MeshSafSnapshot1764750000000).
 */
@Injectable()
export class MeshReplyRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** Remembers the reply key of a mailbox; false if the mailbox already has one (the first one stays). */
  async remember(mailboxId: string, replyKey: Uint8Array, expiresAt: Date): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `INSERT INTO fapp_mesh_reply (mailbox_id, reply_key, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (mailbox_id) DO NOTHING RETURNING mailbox_id`,
      [mailboxId, Buffer.from(replyKey), expiresAt],
    );
    return rows.length === 1;
  }

  /** Removes a reply key stored for a reservation that was then refused (only if it is still this key). */
  async forget(mailboxId: string, replyKey: Uint8Array): Promise<void> {
    await this.ds.query(`DELETE FROM fapp_mesh_reply WHERE mailbox_id = $1 AND reply_key = $2`, [mailboxId, Buffer.from(replyKey)]);
  }

  /** Takes (deletes and returns) the reply key of a mailbox, if one is stored and not expired. */
  async take(mailboxId: string, now: Date): Promise<Uint8Array | undefined> {
    const rows = returned<{ reply_key: Buffer; expires_at: Date }>(await this.ds.query(`DELETE FROM fapp_mesh_reply WHERE mailbox_id = $1 RETURNING reply_key, expires_at`, [mailboxId]));
    const row = rows[0];
    return row && new Date(row.expires_at).getTime() > now.getTime() ? new Uint8Array(row.reply_key) : undefined;
  }

  /** Deletes rows whose hold has expired; returns how many. */
  async collectGarbage(now: Date): Promise<number> {
    const rows = returned(await this.ds.query(`DELETE FROM fapp_mesh_reply WHERE expires_at <= $1 RETURNING mailbox_id`, [now]));
    return rows.length;
  }

  /** The saved store-and-forward queue of the node with this address, if any. */
  async loadSafSnapshot(nodeAddress: string): Promise<Uint8Array | undefined> {
    const rows: { snapshot: Buffer }[] = await this.ds.query(`SELECT snapshot FROM mesh_saf_snapshot WHERE node_address = $1`, [nodeAddress]);
    return rows[0] ? new Uint8Array(rows[0].snapshot) : undefined;
  }

  /** Replaces the saved queue of the node with this address. */
  async saveSafSnapshot(nodeAddress: string, snapshot: Uint8Array): Promise<void> {
    await this.ds.query(
      `INSERT INTO mesh_saf_snapshot (node_address, snapshot, saved_at) VALUES ($1, $2, now())
       ON CONFLICT (node_address) DO UPDATE SET snapshot = EXCLUDED.snapshot, saved_at = now()`,
      [nodeAddress, Buffer.from(snapshot)],
    );
  }
}
