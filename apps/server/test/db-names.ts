import { randomBytes } from 'node:crypto';

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** The maintenance database on the same server, for CREATE/DROP DATABASE. */
export function adminUrl(url: string): string {
  return withDatabase(url, 'postgres');
}

export function templateName(): string {
  return `qpc_tpl_${process.pid}_${randomBytes(3).toString('hex')}`;
}

export function suiteDatabaseName(): string {
  return `qpc_t_${process.pid}_${randomBytes(4).toString('hex')}`;
}
