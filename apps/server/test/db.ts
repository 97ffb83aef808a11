import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { openDataSource } from '../src/database/data-source.js';
import { startEmbeddedDatabase } from '../src/database/embedded.js';
import { adminUrl, suiteDatabaseName, withDatabase } from './db-names.js';

export interface TestDatabase {
  backend: 'pglite' | 'postgres';
  url: string;
  close(): Promise<void>;
}

/**
 * A migrated database of the suite's own, on the backend chosen for this run
 * (PGlite by default, PostgreSQL when TEST_DATABASE_URL is set).
 */
export async function testDatabase(): Promise<TestDatabase> {
  const backend = inject('dbBackend');
  const snapshot = inject('dbSnapshot');
  if (backend === 'postgres') {
    const pgUrl = inject('pgUrl');
    const name = suiteDatabaseName();
    const admin = await openDataSource(adminUrl(pgUrl), 1);
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${snapshot}"`);
    return {
      backend,
      url: withDatabase(pgUrl, name),
      async close() {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.destroy();
      },
    };
  }
  const dump = new Blob([readFileSync(snapshot)]);
  const embedded = await startEmbeddedDatabase({ loadDataDir: dump });
  return { backend, url: embedded.url, close: () => embedded.stop() };
}
