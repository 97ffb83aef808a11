import { type CanActivate, createParamDecorator, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sha256, utf8 } from '@qpc/crypto';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';
import { MessengerEvents } from './messenger-events.js';

export interface SessionInfo {
  accountId: string;
  deviceId: string;
  tokenHash: Buffer;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

export function tokenHash(token: string): Buffer {
  return Buffer.from(sha256(utf8(token)));
}

/** How long a resolved session is kept in memory at most (a bound should an end ever be missed). */
export const SESSION_CACHE_MS = 5_000;
/** How many resolved sessions are kept at most (the oldest goes first). */
export const SESSION_CACHE_MAX = 10_000;

/**
 * Resolves bearer tokens. The lookup joins the device, so a revoked device or deleted account
 * fails; a resolved session is kept in memory for at most SESSION_CACHE_MS (and never past its
 * expiry), and dropped at once when MessengerEvents reports its device's sessions ended (logout,
 * revocation, account deletion; from other instances over NATS). No cache while NATS is
 * configured but down.
 */
@Injectable()
export class SessionStore {
  /** Limits, as fields so that a test can lower them. */
  ttlMs = SESSION_CACHE_MS;
  maxEntries = SESSION_CACHE_MAX;
  private readonly cache = new Map<string, { info: SessionInfo; until: number }>();
  /** Bumped by every end: a lookup that started before one does not fill the cache. */
  private generation = 0;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
  ) {
    events.onSessionsEnded((deviceIds) => this.drop(deviceIds));
  }

  /** Cached sessions (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  async resolve(token: string | undefined): Promise<SessionInfo | null> {
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const hash = tokenHash(token);
    const key = hash.toString('base64');
    const now = this.clock.now();
    const usable = this.events.sessionCacheUsable;
    const hit = this.cache.get(key);
    if (hit) {
      if (usable && hit.until > now) return hit.info;
      this.cache.delete(key);
    }
    const generation = this.generation;
    const rows: { account_id: string; device_id: string; expires_at: Date }[] = await this.ds.query(
      `SELECT s.account_id, s.device_id, s.expires_at FROM session s JOIN device d ON d.id = s.device_id
       WHERE s.token_hash = $1 AND s.expires_at > $2 AND d.revoked_at IS NULL`,
      [hash, new Date(now)],
    );
    const row = rows[0];
    if (!row) return null;
    const info = { accountId: row.account_id, deviceId: row.device_id, tokenHash: hash };
    if (usable && generation === this.generation && this.events.sessionCacheUsable && this.maxEntries > 0) {
      while (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { info, until: Math.min(now + this.ttlMs, row.expires_at.getTime()) });
    }
    return info;
  }

  /** Drops the cached sessions of these devices (`null`: all). */
  private drop(deviceIds: string[] | null): void {
    this.generation++;
    if (deviceIds === null) {
      this.cache.clear();
      return;
    }
    const gone = new Set(deviceIds);
    for (const [key, e] of this.cache) if (gone.has(e.info.deviceId)) this.cache.delete(key);
  }
}

/** Requires `Authorization: Bearer <session token>`; 401 `auth.unauthenticated` otherwise. */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(@Inject(SessionStore) private readonly sessions: SessionStore) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; qpcSession?: SessionInfo }>();
    const m = BEARER.exec(req.headers.authorization ?? '');
    const session = await this.sessions.resolve(m?.[1]);
    if (!session) throw new ServerError('auth.unauthenticated', 401, 'A valid session token is required');
    req.qpcSession = session;
    return true;
  }
}

/** The caller's session, set by SessionGuard. */
export const CurrentSession = createParamDecorator((_: unknown, ctx: ExecutionContext): SessionInfo => {
  return ctx.switchToHttp().getRequest<{ qpcSession: SessionInfo }>().qpcSession;
});
