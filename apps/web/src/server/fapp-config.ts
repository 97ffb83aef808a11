// FAPP settings the patient pages need, read from the environment at request time (like
// QPC_API_URL), so one build serves every deployment.

export const DEFAULT_POW_BITS = 18;

/** A licensing authority the pages trust for "verifiziert durch …" (public key as hex). */
export interface AuthorityConfig {
  name: string;
  publicKeyHex: string;
}

export interface FappWebConfig {
  /** Must equal the API server's FAPP_POW_BITS, or every reservation is refused as BAD_STAMP. */
  powBits: number;
  authorities: AuthorityConfig[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const AUTHORITIES = /^[^=;]{1,120}=[0-9a-fA-F]{64}(;[^=;]{1,120}=[0-9a-fA-F]{64})*$/;

/** `Name=<64 hex>;Name=<64 hex>` (the server's FAPP_AUTHORITIES format); empty = none. */
export function parseAuthorities(raw: string | undefined): AuthorityConfig[] {
  const value = raw?.trim() ?? '';
  if (value === '') return [];
  if (!AUTHORITIES.test(value)) throw new ConfigError('QPC_FAPP_AUTHORITIES must be Name=<64 hex>;Name=<64 hex>…');
  return value.split(';').map((entry) => {
    const at = entry.lastIndexOf('=');
    return { name: entry.slice(0, at).trim(), publicKeyHex: entry.slice(at + 1).toLowerCase() };
  });
}

export function parsePowBits(raw: string | undefined): number {
  const value = raw?.trim() ?? '';
  if (value === '') return DEFAULT_POW_BITS;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 32) throw new ConfigError('QPC_FAPP_POW_BITS must be an integer 0..32');
  return n;
}

export function fappWebConfig(env: Record<string, string | undefined> = process.env): FappWebConfig {
  return { powBits: parsePowBits(env.QPC_FAPP_POW_BITS), authorities: parseAuthorities(env.QPC_FAPP_AUTHORITIES) };
}
