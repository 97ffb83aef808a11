import { type CanActivate, createParamDecorator, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sha256, utf8 } from '@qpc/crypto';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';

export interface SessionInfo {
  accountId: string;
  deviceId: string;
  tokenHash: Buffer;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

export function tokenHash(token: string): Buffer {
  return Buffer.from(sha256(utf8(token)));
}

/** Resolves bearer tokens. A revoked device or deleted account fails at once: the lookup joins them on every request. */
@Injectable()
export class SessionStore {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async resolve(token: string | undefined): Promise<SessionInfo | null> {
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const hash = tokenHash(token);
    const rows: { account_id: string; device_id: string }[] = await this.ds.query(
      `SELECT s.account_id, s.device_id FROM session s JOIN device d ON d.id = s.device_id
       WHERE s.token_hash = $1 AND s.expires_at > $2 AND d.revoked_at IS NULL`,
      [hash, new Date(this.clock.now())],
    );
    const row = rows[0];
    return row ? { accountId: row.account_id, deviceId: row.device_id, tokenHash: hash } : null;
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
