import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  return value;
};

/**
 * The server's whole configuration, read from the environment once at boot.
 * Every variable is listed in the README's configuration table.
 */
export class ServerConfig {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsString()
  @Matches(/^[0-9a-fA-F:.]+$|^localhost$/, { message: 'HOST must be an IP address or localhost' })
  HOST = '127.0.0.1';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** postgres://… switches from the embedded database to PostgreSQL. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /** Directory for the embedded database and local blobs. */
  @IsString()
  DATA_DIR = '.data';

  /** Port of the embedded database's socket on 127.0.0.1 (0 picks a free one). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  EMBEDDED_DB_PORT = 0;

  /** At least 2: the boot-time migration holds one connection for its advisory lock and runs on another. */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(200)
  DB_POOL_SIZE = 10;

  /** Apply pending migrations at boot (under an advisory lock, safe with many instances). */
  @Transform(toBool)
  @IsBoolean()
  DB_MIGRATE = true;

  /**
   * VACUUM the tables the messenger churns from the server: `auto` when the database runs no
   * autovacuum (the embedded one never does), `on`, or `off` (left to the database).
   */
  @IsIn(['auto', 'on', 'off'])
  DB_VACUUM: 'auto' | 'on' | 'off' = 'auto';

  /** Dead rows of one churned table between two of the server's vacuums of it. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(10_000_000)
  DB_VACUUM_AFTER_ROWS = 2000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = 'info';

  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 10_000;

  /** Largest accepted request body in bytes, and largest WebSocket frame. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  /** Trusted licensing authorities: `Name=<64 hex Ed25519 key>` entries separated by `;`. */
  @IsString()
  @Matches(/^$|^[^=;]{1,120}=[0-9a-fA-F]{64}(;[^=;]{1,120}=[0-9a-fA-F]{64})*$/, { message: 'FAPP_AUTHORITIES must be Name=<64 hex>;Name=<64 hex>…' })
  FAPP_AUTHORITIES = '';

  /** Refuse announces without a valid attestation from a trusted authority. */
  @Transform(toBool)
  @IsBoolean()
  FAPP_REQUIRE_VERIFIED = false;

  /** Proof-of-work difficulty (leading zero bits) a reservation stamp must meet. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(32)
  FAPP_POW_BITS = 18;

  /** How long a reservation holds a slot while the therapist has not answered. */
  @Transform(toInt)
  @IsInt()
  @Min(60_000)
  @Max(7 * 24 * 3600_000)
  FAPP_HOLD_TTL_MS = 15 * 60_000;

  /** Reservation attempts accepted per minute by this instance, over all slots. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  FAPP_RESERVE_RATE_PER_MIN = 600;

  /** Reservation attempts accepted per minute for one slot. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  FAPP_SLOT_RATE_PER_MIN = 60;

  /** OPAQUE server setup (secret; from `opaque.server.createSetup()`). Required in production; changing it invalidates every password. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{100,400}$/, { message: 'OPAQUE_SERVER_SETUP must be the base64url string from opaque.server.createSetup()' })
  OPAQUE_SERVER_SETUP?: string;

  /** Ed25519 seed (64 hex, secret) signing delivery receipts and key transparency tree heads. Required in production. */
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'SERVER_SIGNING_KEY must be 64 hex characters (an Ed25519 seed)' })
  SERVER_SIGNING_KEY?: string;

  /** Lifetime of a session token. */
  @Transform(toInt)
  @IsInt()
  @Min(60_000)
  SESSION_TTL_MS = 30 * 24 * 3600_000;

  /** Largest MLS message (ciphertext bytes) accepted for delivery. */
  @Transform(toInt)
  @IsInt()
  @Min(256)
  @Max(16 * 1024 * 1024)
  MESSAGE_MAX_BYTES = 512 * 1024;

  /** Unacknowledged messages one device queue may hold. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  QUEUE_MAX_DEPTH = 10_000;

  /** Sends per minute per sending device (or per delivery token for sealed sender). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  DELIVERY_RATE_PER_MIN = 1_200;

  /** Key packages a device may keep stocked; below KEY_PACKAGE_LOW_WATER the device is told to upload more. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  KEY_PACKAGE_MAX = 100;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  KEY_PACKAGE_LOW_WATER = 10;

  /** Login attempts per minute per username (known or not, alike): OPAQUE cannot stop online guessing by itself. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_RATE_PER_MIN = 20;

  /** NATS server(s) (`nats://host:4222`, comma-separated) that carry messenger push events between instances; unset = in-process only. */
  @IsOptional()
  @Matches(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, { message: 'NATS_URL must be nats://host:port (comma-separated for several)' })
  NATS_URL?: string;

  /** Redis (`redis://host:6379`, `rediss://` for TLS) that holds the rate limits all instances share; unset = each instance counts in its own memory. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be redis://host:port (or rediss:// for TLS)' })
  REDIS_URL?: string;

  /** Prefix of every Redis key the server writes (several deployments can share one Redis). */
  @IsString()
  @Matches(/^[A-Za-z0-9:_.-]{1,64}$/, { message: 'REDIS_PREFIX must be 1–64 of A–Z a–z 0–9 : _ . -' })
  REDIS_PREFIX = 'qpc:';

  /** Run a libp2p mesh node inside the server that bridges FAPP announces between the web API and the clinic mesh. */
  @Transform(toBool)
  @IsBoolean()
  MESH_ENABLED = false;

  /** Multiaddrs (comma-separated) the in-process mesh node listens on. */
  @IsString()
  @Matches(/^\/\S+(,\/\S+)*$/, { message: 'MESH_LISTEN must be multiaddrs like /ip4/127.0.0.1/tcp/4001 (comma-separated)' })
  MESH_LISTEN = '/ip4/127.0.0.1/tcp/0';

  /** Mesh peers (comma-separated multiaddrs ending in /p2p/<peer id>) dialled at start and redialled while unreachable. */
  @IsString()
  @Matches(/^$|^\/\S+\/p2p\/\w+(,\/\S+\/p2p\/\w+)*$/, { message: 'MESH_BOOTSTRAP must be multiaddrs ending in /p2p/<peer id> (comma-separated)' })
  MESH_BOOTSTRAP = '';

  /** Leitregionen (2-digit PLZ prefixes, comma-separated) the mesh node bridges; empty = all 100. */
  @IsString()
  @Matches(/^$|^\d{2}(,\d{2})*$/, { message: 'MESH_REGIONS must be 2-digit PLZ prefixes like 10,20 (comma-separated)' })
  MESH_REGIONS = '';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const keys = Object.keys(new ServerConfig()).concat('DATABASE_URL', 'OPAQUE_SERVER_SETUP', 'SERVER_SIGNING_KEY', 'NATS_URL', 'REDIS_URL');
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const config = plainToInstance(ServerConfig, picked, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => {
        const given = picked[e.property];
        return `${e.property}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}: ${Object.values(e.constraints ?? {}).join('; ')}`;
      }),
    );
  }
  if (config.NODE_ENV === 'production') {
    const missing = (['OPAQUE_SERVER_SETUP', 'SERVER_SIGNING_KEY'] as const).filter((k) => !config[k]);
    if (missing.length > 0) throw new ConfigError(missing.map((k) => `${k}: required in production (a secret; see README)`));
  }
  return config;
}
