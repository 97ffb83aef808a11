import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('uses defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.DB_MIGRATE).toBe(true);
  });

  it('parses numbers and booleans from strings', () => {
    const c = loadConfig({ PORT: '8080', DB_MIGRATE: 'false', DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' });
    expect(c.PORT).toBe(8080);
    expect(c.DB_MIGRATE).toBe(false);
    expect(c.DATABASE_URL).toBe('postgres://u@127.0.0.1:5432/db');
  });

  it('names every bad variable and the value it got', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as ConfigError).message;
      expect(msg).toContain('PORT (got "eighty")');
      expect(msg).toContain('DATABASE_URL');
      expect(msg).toContain('LOG_LEVEL');
      expect((e as ConfigError).problems).toHaveLength(3);
    }
  });

  it('refuses a pool of one connection, which the boot-time migration would wait on for ever', () => {
    expect(() => loadConfig({ DB_POOL_SIZE: '1' })).toThrow(/DB_POOL_SIZE/);
    expect(loadConfig({ DB_POOL_SIZE: '2' }).DB_POOL_SIZE).toBe(2);
  });

  it('takes DB_VACUUM as auto, on or off, and a vacuum threshold of at least 100 rows', () => {
    expect(loadConfig({}).DB_VACUUM).toBe('auto');
    expect(loadConfig({ DB_VACUUM: 'off' }).DB_VACUUM).toBe('off');
    expect(() => loadConfig({ DB_VACUUM: 'sometimes' })).toThrow(/DB_VACUUM/);
    expect(loadConfig({}).DB_VACUUM_AFTER_ROWS).toBe(2000);
    expect(loadConfig({ DB_VACUUM_AFTER_ROWS: '100' }).DB_VACUUM_AFTER_ROWS).toBe(100);
    expect(() => loadConfig({ DB_VACUUM_AFTER_ROWS: '99' })).toThrow(/DB_VACUUM_AFTER_ROWS/);
  });

  it('rejects out-of-range ports', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
  });
});
