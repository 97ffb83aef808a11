import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';
import { toB64url } from '../common/bytes.js';
import { MessengerEvents } from '../messenger/messenger-events.js';
import { TransparencyService } from '../transparency/transparency.service.js';
import { type DeviceRow, DevicesRepository } from './devices.repository.js';

export interface DeviceView {
  deviceId: string;
  name: string;
  signingKey: string;
  createdAt: string;
  revokedAt: string | null;
}

export function deviceView(d: DeviceRow): DeviceView {
  return {
    deviceId: d.id,
    name: d.name,
    signingKey: toB64url(d.signing_key),
    createdAt: d.created_at.toISOString(),
    revokedAt: d.revoked_at ? d.revoked_at.toISOString() : null,
  };
}

@Injectable()
export class DevicesService {
  constructor(
    @Inject(DevicesRepository) private readonly repo: DevicesRepository,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
    @Inject(TransparencyService) private readonly kt: TransparencyService,
  ) {}

  /** Registers a device inside the caller's transaction (login and registration); the binding goes into the KT log with it. */
  async register(m: EntityManager, accountId: string, name: string, signingKey: Uint8Array): Promise<DeviceRow> {
    const d = await this.repo.register(m, accountId, name, signingKey, new Date(this.clock.now()));
    await this.kt.append(m, { kind: 'add', accountId, deviceId: d.id, signingKey });
    return d;
  }

  /** Before an account is deleted: every active device's revocation goes into the KT log. */
  async revokeAllInLog(m: EntityManager, accountId: string): Promise<void> {
    const rows: { id: string; signing_key: Buffer }[] = await m.query(`SELECT id, signing_key FROM device WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id`, [accountId]);
    for (const r of rows) await this.kt.append(m, { kind: 'revoke', accountId, deviceId: r.id, signingKey: new Uint8Array(r.signing_key) });
  }

  async list(accountId: string): Promise<DeviceView[]> {
    return (await this.repo.list(accountId)).map(deviceView);
  }

  async revoke(accountId: string, deviceId: string): Promise<void> {
    const revoked = await this.repo.transaction(async (m) => {
      const d = await this.repo.revoke(m, accountId, deviceId, new Date(this.clock.now()));
      if (d) await this.kt.append(m, { kind: 'revoke', accountId, deviceId, signingKey: new Uint8Array(d.signing_key) });
      return d;
    });
    if (!revoked) throw new ServerError('devices.not_found', 404, 'No such active device on this account');
    await this.events.sessionsEnded([deviceId]);
    this.events.deviceGone(deviceId);
  }
}
