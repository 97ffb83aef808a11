import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { entities } from './entities.js';
import { migrations } from './migrations/index.js';

export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    // Passed explicitly: TypeORM's own lookup of `pg` fails under ESM loaders.
    driver: pg,
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    uuidExtension: 'pgcrypto',
    poolSize,
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: 10_000 },
  };
}

// Any constant works; it only has to be the same for every instance of this server.
const MIGRATION_LOCK = 74_117_001;

/**
 * Applies pending migrations while holding a session advisory lock, so that many
 * server instances starting together migrate once.
 */
/** Needs a pool of at least two connections: one holds the lock while TypeORM migrates on another. */
export async function migrate(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

export async function openDataSource(url: string, poolSize = 10): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(url, poolSize));
  await ds.initialize();
  return ds;
}
