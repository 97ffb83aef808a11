import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keeps an announce's signed envelope in its `fapp_announce` row instead of the table's TOAST
 * relation.
 *
 * PostgreSQL moves a row's wide values out of line once the row passes `toast_tuple_target`
 * (about 2 KB by default). An announce row is about 2.1 KB, almost all of it the envelope
 * (typically 1.9 KB: the 1 216-byte X-Wing key, the attestation, the slots), so every envelope
 * was first compressed (random key bytes barely compress), then written as a row of the TOAST
 * table plus an entry in its index, and every re-announce added another and left the old one for
 * vacuum. Reading an envelope (region sync, duplicates) fetched it through that index again.
 *
 * With the target at its maximum (8 160 bytes), rows up to a page stay whole. Updating 5 000 rows'
 * envelopes took 22-27 µs per row with them inline against 33-45 µs out of line (PostgreSQL 15,
 * this repository's row layout). Envelopes larger than a page still go out of line, as before.
 * The heap grows by the envelopes' size (about 2 KB per therapist, 20 MB for 10 000), which
 * the search does not read: it reaches announce rows by key.
 *
 * Only rows written from now on are affected; stored rows move inline at their next re-announce.
 * Setting the parameter takes a SHARE UPDATE EXCLUSIVE lock and rewrites nothing, so reads and
 * writes of announces go on while it runs.
 */
export class FappAnnounceInlineEnvelope1765200000000 implements MigrationInterface {
  name = 'FappAnnounceInlineEnvelope1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "fapp_announce" SET (toast_tuple_target = 8160)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "fapp_announce" RESET (toast_tuple_target)`);
  }
}
