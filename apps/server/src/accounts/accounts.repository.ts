import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returned } from '../messenger/sql.js';

export interface AccountRow {
  id: string;
  username: string;
  opaque_record: string;
}

@Injectable()
export class AccountsRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  async byUsername(username: string): Promise<AccountRow | null> {
    const rows: AccountRow[] = await this.ds.query(`SELECT id, username, opaque_record FROM account WHERE username = $1`, [username]);
    return rows[0] ?? null;
  }

  async byId(id: string): Promise<AccountRow | null> {
    const rows: AccountRow[] = await this.ds.query(`SELECT id, username, opaque_record FROM account WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** False when the username is taken. */
  async insert(m: EntityManager, id: string, username: string, record: string, now: Date): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO account (id, username, opaque_record, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING RETURNING id`,
      [id, username, record, now],
    );
    return rows.length === 1;
  }

  async deviceIds(m: EntityManager, accountId: string): Promise<string[]> {
    const rows: { id: string }[] = await m.query(`SELECT id FROM device WHERE account_id = $1`, [accountId]);
    return rows.map((r) => r.id);
  }

  /** Everything hangs off the account by ON DELETE CASCADE. */
  async delete(m: EntityManager, accountId: string): Promise<void> {
    await m.query(`DELETE FROM account WHERE id = $1`, [accountId]);
  }

  async insertLogin(id: string, accountId: string | null, state: string, expiresAt: Date, now: Date): Promise<void> {
    await this.ds.query(`DELETE FROM opaque_login WHERE expires_at < $1`, [now]);
    await this.ds.query(`INSERT INTO opaque_login (id, account_id, state, expires_at) VALUES ($1, $2, $3, $4)`, [id, accountId, state, expiresAt]);
  }

  /** Single use: the row is gone after this, whatever the outcome. */
  async takeLogin(id: string, now: Date): Promise<{ account_id: string | null; state: string } | null> {
    const rows = returned<{ account_id: string | null; state: string; expires_at: Date }>(
      await this.ds.query(`DELETE FROM opaque_login WHERE id = $1 RETURNING account_id, state, expires_at`, [id]),
    );
    const row = rows[0];
    return row && row.expires_at.getTime() > now.getTime() ? row : null;
  }

  async insertSession(m: EntityManager, hash: Buffer, accountId: string, deviceId: string, now: Date, expiresAt: Date): Promise<void> {
    await m.query(`INSERT INTO session (token_hash, account_id, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [hash, accountId, deviceId, now, expiresAt]);
  }

  async deleteSession(hash: Buffer): Promise<void> {
    await this.ds.query(`DELETE FROM session WHERE token_hash = $1`, [hash]);
  }
}
