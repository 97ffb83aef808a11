import { Inject, Injectable } from '@nestjs/common';
import { constantTimeEqual, decodeKeyPackage } from '@qpc/crypto';
import { DataSource } from 'typeorm';
import { toB64url } from '../common/bytes.js';
import { Clock } from '../common/clock.js';
import type { RateLimit } from '../common/rate-limit.js';
import { RateLimits } from '../common/rate-limits.js';
import { ServerError } from '../common/server-error.js';
import { ServerConfig } from '../config/config.js';
import { MessengerEvents } from '../messenger/messenger-events.js';
import type { SessionInfo } from '../messenger/session.guard.js';
import { KeysRepository } from './keys.repository.js';

export interface StockView {
  available: number;
  lastResort: boolean;
  /** Upload more: the stock is below the low-water mark. */
  low: boolean;
  lowWater: number;
}

export interface ClaimedDevice {
  deviceId: string;
  signingKey: string;
  /** MLSMessage(mls_key_package), base64url; null when the device has none at all. */
  keyPackage: string | null;
  lastResort: boolean;
}

const MAX_PACKAGE_BYTES = 16 * 1024;
const CLAIMS_PER_MIN = 300;

@Injectable()
export class KeysService {
  private readonly claimLimiter: RateLimit;

  constructor(
    @Inject(KeysRepository) private readonly repo: KeysRepository,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
    @Inject(RateLimits) limits: RateLimits,
  ) {
    this.claimLimiter = limits.create('claims', CLAIMS_PER_MIN, 60_000);
  }

  /** Checks framing, suite and that the leaf signs with the uploading device's key. */
  private check(bytes: Uint8Array, deviceKey: Buffer, field: string): void {
    if (bytes.length > MAX_PACKAGE_BYTES) throw new ServerError('keys.too_large', 413, `${field} exceeds ${MAX_PACKAGE_BYTES} bytes`);
    let kp;
    try {
      kp = decodeKeyPackage(bytes);
    } catch {
      throw new ServerError('keys.malformed', 400, `${field} is not an MLS KeyPackage`);
    }
    if (!constantTimeEqual(kp.leafNode.signaturePublicKey, new Uint8Array(deviceKey))) {
      throw new ServerError('keys.wrong_signing_key', 400, `${field} is not signed with this device's registered key`);
    }
  }

  async upload(s: SessionInfo, packages: Uint8Array[], lastResort: Uint8Array | undefined): Promise<StockView> {
    const rows: { signing_key: Buffer }[] = await this.ds.query(`SELECT signing_key FROM device WHERE id = $1`, [s.deviceId]);
    const key = rows[0]!.signing_key;
    packages.forEach((p, i) => this.check(p, key, `keyPackages[${i}]`));
    if (lastResort) this.check(lastResort, key, 'lastResort');
    const now = new Date(this.clock.now());
    const stock = await this.repo.transaction(async (m) => {
      await this.repo.lockDevice(m, s.deviceId);
      const before = await this.repo.stock(m, s.deviceId);
      if (before.available + packages.length > this.config.KEY_PACKAGE_MAX) {
        throw new ServerError('keys.too_many', 409, `A device keeps at most ${this.config.KEY_PACKAGE_MAX} key packages`, { available: before.available, max: this.config.KEY_PACKAGE_MAX });
      }
      await this.repo.insert(m, s.deviceId, packages, now);
      if (lastResort) await this.repo.replaceLastResort(m, s.deviceId, lastResort, now);
      return this.repo.stock(m, s.deviceId);
    });
    return this.view(stock);
  }

  async status(s: SessionInfo): Promise<StockView> {
    return this.view(await this.repo.stock(this.ds, s.deviceId));
  }

  /** One key package per active device of the account (the caller's own device excluded). */
  async claim(s: SessionInfo, username: string): Promise<{ accountId: string; username: string; devices: ClaimedDevice[] }> {
    if (!(await this.claimLimiter.take(s.deviceId, this.clock.now()))) throw new ServerError('keys.rate_limited', 429, 'Too many key package claims; slow down');
    const acc: { id: string }[] = await this.ds.query(`SELECT id FROM account WHERE username = $1`, [username]);
    if (!acc[0]) throw new ServerError('accounts.not_found', 404, 'No such user');
    const devices = (await this.repo.activeDevices(acc[0].id)).filter((d) => d.id !== s.deviceId);
    const out: ClaimedDevice[] = [];
    for (const d of devices) {
      const c = await this.repo.claim(d.id);
      out.push({ deviceId: d.id, signingKey: toB64url(d.signing_key), keyPackage: c ? toB64url(c.data) : null, lastResort: c?.lastResort ?? false });
      if (c && !c.lastResort) {
        const left = await this.repo.stock(this.ds, d.id);
        if (left.available < this.config.KEY_PACKAGE_LOW_WATER) this.events.keysLow(d.id, left.available);
      }
    }
    return { accountId: acc[0].id, username, devices: out };
  }

  private view(s: { available: number; lastResort: boolean }): StockView {
    return { ...s, low: s.available < this.config.KEY_PACKAGE_LOW_WATER, lowWater: this.config.KEY_PACKAGE_LOW_WATER };
  }
}
