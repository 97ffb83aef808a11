import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { PGlite } from '@electric-sql/pglite';
import { migrate, openDataSource } from '../src/database/data-source.js';
import { startEmbeddedDatabase } from '../src/database/embedded.js';
import { adminUrl, templateName, withDatabase } from './db-names.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dbBackend: 'pglite' | 'postgres';
    /** PGlite: path of a dump of a migrated database. PostgreSQL: name of a migrated template database. */
    dbSnapshot: string;
    pgUrl: string;
  }
}

/**
 * Migrates one database per test run, then hands every suite a copy: PostgreSQL clones a
 * template database, PGlite restores a data-dir dump (1–2 s instead of a 6 s initdb).
 */
export default async function setup(project: TestProject) {
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (pgUrl) {
    const name = templateName();
    const admin = await openDataSource(adminUrl(pgUrl), 1);
    await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
    await admin.query(`CREATE DATABASE "${name}"`);
    const tpl = await openDataSource(withDatabase(pgUrl, name), 2);
    await migrate(tpl);
    await tpl.destroy();
    project.provide('dbBackend', 'postgres');
    project.provide('dbSnapshot', name);
    project.provide('pgUrl', pgUrl);
    return async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await admin.destroy();
    };
  }

  const embedded = await startEmbeddedDatabase();
  const ds = await openDataSource(embedded.url, 2);
  await migrate(ds);
  await ds.destroy();
  const dir = mkdtempSync(join(tmpdir(), 'qpc-pglite-'));
  const file = join(dir, 'migrated.tar.gz');
  const dump = await dumpMigrated(embedded);
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await embedded.stop();
  project.provide('dbBackend', 'pglite');
  project.provide('dbSnapshot', file);
  project.provide('pgUrl', '');
  return () => rmSync(dir, { recursive: true, force: true });
}

async function dumpMigrated(embedded: { pglite: PGlite }): Promise<Blob> {
  return embedded.pglite.dumpDataDir('gzip');
}
