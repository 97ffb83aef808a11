import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returned } from '../messenger/sql.js';

export interface KeyStock {
  available: number;
  lastResort: boolean;
}

export interface TargetDevice {
  id: string;
  signing_key: Buffer;
}

@Injectable()
export class KeysRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  async stock(m: EntityManager | DataSource, deviceId: string): Promise<KeyStock> {
    const rows: { available: number; last_resort: boolean }[] = await m.query(
      `SELECT count(*) FILTER (WHERE NOT last_resort)::int AS available, bool_or(last_resort) AS last_resort FROM key_package WHERE device_id = $1`,
      [deviceId],
    );
    return { available: rows[0]?.available ?? 0, lastResort: rows[0]?.last_resort === true };
  }

  /** Locks the device's stock (via its device row) so concurrent uploads cannot overshoot the cap. */
  async lockDevice(m: EntityManager, deviceId: string): Promise<void> {
    await m.query(`SELECT id FROM device WHERE id = $1 FOR UPDATE`, [deviceId]);
  }

  async insert(m: EntityManager, deviceId: string, packages: Uint8Array[], now: Date): Promise<void> {
    if (packages.length === 0) return;
    await m.query(
      `INSERT INTO key_package (device_id, data, last_resort, created_at) SELECT $1, d, false, $3 FROM unnest($2::bytea[]) AS d`,
      [deviceId, packages.map((p) => Buffer.from(p)), now],
    );
  }

  async replaceLastResort(m: EntityManager, deviceId: string, data: Uint8Array, now: Date): Promise<void> {
    await m.query(`DELETE FROM key_package WHERE device_id = $1 AND last_resort`, [deviceId]);
    await m.query(`INSERT INTO key_package (device_id, data, last_resort, created_at) VALUES ($1, $2, true, $3)`, [deviceId, Buffer.from(data), now]);
  }

  async activeDevices(accountId: string): Promise<TargetDevice[]> {
    return this.ds.query(`SELECT id, signing_key FROM device WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`, [accountId]);
  }

  /**
   * Takes one one-time package of the device. The DELETE … RETURNING of a row locked with
   * SKIP LOCKED hands each package to exactly one claimer; when none is left the last-resort
   * package is returned (and kept).
   */
  async claim(deviceId: string): Promise<{ data: Buffer; lastResort: boolean } | null> {
    const taken = returned<{ data: Buffer }>(
      await this.ds.query(
        `DELETE FROM key_package WHERE id = (
           SELECT id FROM key_package WHERE device_id = $1 AND NOT last_resort ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
         ) RETURNING data`,
        [deviceId],
      ),
    );
    if (taken[0]) return { data: taken[0].data, lastResort: false };
    const lr: { data: Buffer }[] = await this.ds.query(`SELECT data FROM key_package WHERE device_id = $1 AND last_resort`, [deviceId]);
    return lr[0] ? { data: lr[0].data, lastResort: true } : null;
  }
}
