import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets a re-announce update its `fapp_announce` row in place (a heap-only tuple, "HOT" update)
 * instead of writing a new row version and an entry for it in every index of the table.
 *
 * PostgreSQL updates a row without touching its indexes when no indexed column changes and the
 * row's page has room for the new version. A re-announce changes `sequence`, `issued_at`,
 * `expires_at`, `received_at` and the envelope; the therapist's key, PLZ and attestation (the other
 * indexed columns) stay as they were in the common case. Two things kept it from being HOT:
 * - the index on `expires_at`, which every re-announce moves by the time since the last one;
 * - full pages: at the default fill factor a page of 2.1 KB rows holds three of them and no room
 *   for a fourth version.
 *
 * So the index on `expires_at` goes, and new pages are filled to 60 %: two rows of about 2.1 KB and
 * room for a third version of up to about 3.2 KB (an announce of about 40 slots). On a table of this
 * layout (10 000 rows, PostgreSQL 15), updating 2 000 rows' sequence and times took 20-27 µs per
 * row with the index and full pages against 6-8 µs as HOT updates. The table takes about 50 % more
 * pages for rows of 2.1 KB (three per page become two).
 *
 * The index's only reader was the expiry, which deletes announces expired 30 days ago. It now
 * reads the table itself (`FappRepository.retireAnnounces`), once an hour rather than every 30 s.
 * Every other query reaches announce rows by key, by PLZ or from a slot, or reads them all (the
 * search index's load at start).
 *
 * Pages filled before this migration keep their rows until those move at a later update. Dropping
 * the index takes an ACCESS EXCLUSIVE lock on the table for as long as the catalog change takes;
 * setting the fill factor a SHARE UPDATE EXCLUSIVE lock; neither rewrites the table.
 */
export class FappAnnounceHotUpdate1765300000000 implements MigrationInterface {
  name = 'FappAnnounceHotUpdate1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "fapp_announce_expires"`);
    await q.query(`ALTER TABLE "fapp_announce" SET (fillfactor = 60)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "fapp_announce" RESET (fillfactor)`);
    await q.query(`CREATE INDEX "fapp_announce_expires" ON "fapp_announce" ("expires_at")`);
  }
}
