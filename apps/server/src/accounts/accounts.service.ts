import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import * as opaque from '@serenity-kit/opaque';
import { randomBytes, toBase64Url, utf8, verify } from '@qpc/crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import type { RateLimit } from '../common/rate-limit.js';
import { RateLimits } from '../common/rate-limits.js';
import { ServerError } from '../common/server-error.js';
import { ServerConfig } from '../config/config.js';
import { DevicesService } from '../devices/devices.service.js';
import { MessengerEvents } from '../messenger/messenger-events.js';
import { tokenHash } from '../messenger/session.guard.js';
import { ServerSecrets } from '../secrets/server-secrets.js';
import { AccountsRepository } from './accounts.repository.js';

export interface NewDevice {
  name: string;
  signingKey: Uint8Array;
}

export interface SessionGrant {
  accountId: string;
  deviceId: string;
  token: string;
  expiresAt: string;
}

const LOGIN_TTL_MS = 60_000;
export const DEVICE_LOGIN_CONTEXT = 'qpc-device-login-v1:';

const invalidCredentials = () => new ServerError('auth.invalid_credentials', 401, 'Login failed');
const malformed = (what: string) => new ServerError('auth.malformed', 400, `${what} is not a valid OPAQUE message`);

@Injectable()
export class AccountsService {
  private readonly loginLimiter: RateLimit;

  constructor(
    @Inject(AccountsRepository) private readonly repo: AccountsRepository,
    @Inject(DevicesService) private readonly devices: DevicesService,
    @Inject(ServerSecrets) private readonly secrets: ServerSecrets,
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
    @Inject(RateLimits) limits: RateLimits,
  ) {
    this.loginLimiter = limits.create('login', config.LOGIN_RATE_PER_MIN, 60_000);
  }

  async registrationStart(username: string, registrationRequest: string): Promise<{ registrationResponse: string }> {
    if (await this.repo.byUsername(username)) throw new ServerError('accounts.username_taken', 409, 'This username is taken');
    try {
      return opaque.server.createRegistrationResponse({ serverSetup: this.secrets.opaqueSetup, userIdentifier: username, registrationRequest });
    } catch {
      throw malformed('registrationRequest');
    }
  }

  /** Stores the OPAQUE record (the server never sees the password) and registers the first device. */
  async registrationFinish(username: string, registrationRecord: string, device: NewDevice): Promise<SessionGrant> {
    const now = new Date(this.clock.now());
    const accountId = randomUUID();
    return this.repo.transaction(async (m) => {
      if (!(await this.repo.insert(m, accountId, username, registrationRecord, now))) throw new ServerError('accounts.username_taken', 409, 'This username is taken');
      const d = await this.devices.register(m, accountId, device.name, device.signingKey);
      return this.grant(m, accountId, d.id, now);
    });
  }

  /**
   * For an unknown username OPAQUE answers with a fake response built from the server setup, and
   * a login row is stored all the same: status, size and shape match a real account's.
   */
  async loginStart(username: string, startLoginRequest: string): Promise<{ loginId: string; loginResponse: string }> {
    if (!(await this.loginLimiter.take(username, this.clock.now()))) throw new ServerError('auth.rate_limited', 429, 'Too many login attempts for this username; wait a minute');
    const account = await this.repo.byUsername(username);
    let r: { serverLoginState: string; loginResponse: string };
    try {
      r = opaque.server.startLogin({ serverSetup: this.secrets.opaqueSetup, registrationRecord: account?.opaque_record ?? null, startLoginRequest, userIdentifier: username });
    } catch {
      throw malformed('startLoginRequest');
    }
    const loginId = randomUUID();
    const now = this.clock.now();
    await this.repo.insertLogin(loginId, account?.id ?? null, r.serverLoginState, new Date(now + LOGIN_TTL_MS), new Date(now));
    return { loginId, loginResponse: r.loginResponse };
  }

  async loginFinish(input: { loginId: string; finishLoginRequest: string; device?: NewDevice; deviceId?: string; deviceSignature?: Uint8Array }): Promise<SessionGrant> {
    const now = new Date(this.clock.now());
    const login = await this.repo.takeLogin(input.loginId, now);
    if (!login) throw invalidCredentials();
    try {
      opaque.server.finishLogin({ serverLoginState: login.state, finishLoginRequest: input.finishLoginRequest });
    } catch {
      throw invalidCredentials();
    }
    // A fake login (unknown user) cannot get here with a valid finish request; checked anyway.
    const accountId = login.account_id;
    if (!accountId) throw invalidCredentials();
    return this.repo.transaction(async (m) => {
      if (input.device) {
        const d = await this.devices.register(m, accountId, input.device.name, input.device.signingKey);
        return this.grant(m, accountId, d.id, now);
      }
      if (!input.deviceId || !input.deviceSignature) throw new ServerError('request.invalid', 400, 'Give either device (a new one) or deviceId with deviceSignature');
      const rows: { signing_key: Buffer }[] = await m.query(`SELECT signing_key FROM device WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL`, [input.deviceId, accountId]);
      const key = rows[0]?.signing_key;
      if (!key || !verify(new Uint8Array(key), utf8(DEVICE_LOGIN_CONTEXT + input.loginId), input.deviceSignature)) {
        throw new ServerError('devices.proof_invalid', 403, 'The device signature does not verify for an active device of this account');
      }
      return this.grant(m, accountId, input.deviceId, now);
    });
  }

  /** Ends the session; cached lookups of the device's sessions are dropped on every instance. */
  async logout(hash: Buffer, deviceId: string): Promise<void> {
    await this.repo.deleteSession(hash);
    await this.events.sessionsEnded([deviceId]);
  }

  async me(accountId: string, deviceId: string) {
    const a = await this.repo.byId(accountId);
    if (!a) throw new ServerError('auth.unauthenticated', 401, 'A valid session token is required');
    return { accountId, username: a.username, deviceId };
  }

  /** Removes the account and, by cascade, its devices, sessions, key packages and queues. */
  async deleteAccount(accountId: string): Promise<void> {
    const deviceIds = await this.repo.transaction(async (m) => {
      const ids = await this.repo.deviceIds(m, accountId);
      await this.devices.revokeAllInLog(m, accountId);
      await this.repo.delete(m, accountId);
      return ids;
    });
    await this.events.sessionsEnded(deviceIds);
    for (const id of deviceIds) this.events.deviceGone(id);
  }

  private async grant(m: EntityManager, accountId: string, deviceId: string, now: Date): Promise<SessionGrant> {
    const token = toBase64Url(randomBytes(32));
    const expiresAt = new Date(now.getTime() + this.config.SESSION_TTL_MS);
    await this.repo.insertSession(m, tokenHash(token), accountId, deviceId, now, expiresAt);
    return { accountId, deviceId, token, expiresAt: expiresAt.toISOString() };
  }
}

