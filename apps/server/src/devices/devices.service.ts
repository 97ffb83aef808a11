import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';
import { toB64url } from '../common/bytes.js';
import { MessengerEvents } from '../messenger/messenger-events.js';
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
  ) {}

  /** Registers a device inside the caller's transaction (login and registration). */
  register(m: EntityManager, accountId: string, name: string, signingKey: Uint8Array): Promise<DeviceRow> {
    return this.repo.register(m, accountId, name, signingKey, new Date(this.clock.now()));
  }

  async list(accountId: string): Promise<DeviceView[]> {
    return (await this.repo.list(accountId)).map(deviceView);
  }

  async revoke(accountId: string, deviceId: string): Promise<void> {
    const revoked = await this.repo.transaction((m) => this.repo.revoke(m, accountId, deviceId, new Date(this.clock.now())));
    if (!revoked) throw new ServerError('devices.not_found', 404, 'No such active device on this account');
    this.events.deviceGone(deviceId);
  }
}
