import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returned } from '../messenger/sql.js';

export interface KeyBackupRow {
  ciphertext: Buffer;
  version: number;
}

/** Every write is one conditional statement: two racing writers cannot both win. */
@Injectable()
export class KeyBackupRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async get(accountId: string): Promise<KeyBackupRow | null> {
    const rows: KeyBackupRow[] = await this.ds.query(`SELECT ciphertext, version FROM key_backup WHERE account_id = $1`, [accountId]);
    return rows[0] ?? null;
  }

  async version(accountId: string): Promise<number> {
    const rows: { version: number }[] = await this.ds.query(`SELECT version FROM key_backup WHERE account_id = $1`, [accountId]);
    return rows[0]?.version ?? 0;
  }

  /** Creates the backup only if there is none yet. */
  async insertNew(accountId: string, ciphertext: Uint8Array, version: number, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `INSERT INTO key_backup (account_id, ciphertext, version, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account_id) DO NOTHING RETURNING version`,
      [accountId, Buffer.from(ciphertext), version, now],
    );
    return rows.length === 1;
  }

  /** Replaces the backup only if its stored version is exactly `ifVersion`. */
  async swap(accountId: string, ciphertext: Uint8Array, version: number, ifVersion: number, now: Date): Promise<boolean> {
    const rows = returned<unknown>(
      await this.ds.query(`UPDATE key_backup SET ciphertext = $2, version = $3, updated_at = $4 WHERE account_id = $1 AND version = $5 RETURNING version`, [
        accountId,
        Buffer.from(ciphertext),
        version,
        now,
        ifVersion,
      ]),
    );
    return rows.length === 1;
  }

  /** Creates or replaces, as long as the stored version is lower than `version`. */
  async upsertNewer(accountId: string, ciphertext: Uint8Array, version: number, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `INSERT INTO key_backup (account_id, ciphertext, version, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account_id) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
       WHERE key_backup.version < EXCLUDED.version RETURNING version`,
      [accountId, Buffer.from(ciphertext), version, now],
    );
    return rows.length === 1;
  }
}
