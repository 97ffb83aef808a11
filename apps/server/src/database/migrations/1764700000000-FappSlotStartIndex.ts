import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The search index on slots keeps only the start time. Search orders by start, then therapist
 * and slot id in the "C" collation; the index's trailing (therapist_id, slot_id) columns were in
 * the database's default collation, so they never served that order (the plan sorts ties
 * itself either way), yet made every key 108 bytes instead of 8: every slot written paid for
 * them in index size, page splits and WAL.
 */
export class FappSlotStartIndex1764700000000 implements MigrationInterface {
  name = 'FappSlotStartIndex1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "fapp_slot_start"`);
    await q.query(`CREATE INDEX "fapp_slot_start" ON "fapp_slot" ("start_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "fapp_slot_start"`);
    await q.query(`CREATE INDEX "fapp_slot_start" ON "fapp_slot" ("start_at", "therapist_id", "slot_id")`);
  }
}
