import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ServerError } from '../common/server-error.js';
import { isUniqueViolation, returned } from '../messenger/sql.js';

export const MAX_DEVICES = 5;

export interface DeviceRow {
  id: string;
  account_id: string;
  name: string;
  signing_key: Buffer;
  created_at: Date;
  revoked_at: Date | null;
}

@Injectable()
export class DevicesRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  /** Adds a device; the account row lock makes the five-device limit hold under concurrency. */
  async register(m: EntityManager, accountId: string, name: string, signingKey: Uint8Array, now: Date): Promise<DeviceRow> {
    await m.query(`SELECT id FROM account WHERE id = $1 FOR UPDATE`, [accountId]);
    const [{ n }] = (await m.query(`SELECT count(*)::int AS n FROM device WHERE account_id = $1 AND revoked_at IS NULL`, [accountId])) as [{ n: number }];
    if (n >= MAX_DEVICES) throw new ServerError('devices.limit_reached', 409, `An account has at most ${MAX_DEVICES} devices; revoke one first`, { limit: MAX_DEVICES });
    try {
      const rows: DeviceRow[] = await m.query(
        `INSERT INTO device (id, account_id, name, signing_key, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [randomUUID(), accountId, name, Buffer.from(signingKey), now],
      );
      await m.query(`INSERT INTO queue_head (device_id) VALUES ($1)`, [rows[0]!.id]);
      return rows[0]!;
    } catch (e) {
      if (isUniqueViolation(e)) throw new ServerError('devices.key_in_use', 409, 'This signing key already belongs to a device');
      throw e;
    }
  }

  async get(m: EntityManager | DataSource, deviceId: string): Promise<DeviceRow | null> {
    const rows: DeviceRow[] = await m.query(`SELECT * FROM device WHERE id = $1`, [deviceId]);
    return rows[0] ?? null;
  }

  async list(accountId: string): Promise<DeviceRow[]> {
    return this.ds.query(`SELECT * FROM device WHERE account_id = $1 ORDER BY created_at, id`, [accountId]);
  }

  /** Marks the device revoked and removes what only it could use (sessions, queued messages, key packages). */
  async revoke(m: EntityManager, accountId: string, deviceId: string, now: Date): Promise<DeviceRow | null> {
    const rows = returned<DeviceRow>(
      await m.query(`UPDATE device SET revoked_at = $3 WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING *`, [deviceId, accountId, now]),
    );
    if (rows.length === 0) return null;
    await this.dropDeviceData(m, [deviceId]);
    return rows[0]!;
  }

  /** Sessions and every per-device row of the messenger. */
  async dropDeviceData(m: EntityManager, deviceIds: string[]): Promise<void> {
    await m.query(`DELETE FROM session WHERE device_id = ANY($1)`, [deviceIds]);
    await m.query(`DELETE FROM key_package WHERE device_id = ANY($1)`, [deviceIds]);
    await m.query(`DELETE FROM group_member WHERE device_id = ANY($1)`, [deviceIds]);
    await m.query(`DELETE FROM queue_head WHERE device_id = ANY($1)`, [deviceIds]);
  }
}
