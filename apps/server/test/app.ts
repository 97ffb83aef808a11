import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.js';
import type { Clock } from '../src/common/clock.js';
import { createLogger } from '../src/common/logger.js';
import { loadConfig } from '../src/config/config.js';
import { testDatabase, type TestDatabase } from './db.js';

export interface TestApp {
  app: NestFastifyApplication;
  db: TestDatabase;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log output, for privacy assertions. */
  rawLogs(): string;
  close(): Promise<void>;
}

/** A clock tests move by hand. */
export class TestClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A fully wired server on a fresh migrated database, with its logs captured. */
export async function createTestApp(env: Record<string, string> = {}, opts: { clock?: Clock } = {}): Promise<TestApp> {
  const db = await testDatabase();
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', DB_POOL_SIZE: '4', ...env });
  const { app } = await createApp({ config, databaseUrl: db.url, logger: createLogger(config.LOG_LEVEL, sink), ...opts });
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    db,
    get logs() {
      return chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    rawLogs: () => chunks.join(''),
    async close() {
      await app.close();
      await db.close();
    },
  };
}
