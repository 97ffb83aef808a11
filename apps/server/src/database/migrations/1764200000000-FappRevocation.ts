import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Licence revocation: each announce remembers which attestation verified it, and the
 * newest signed revocation list per authority is kept so every instance (and a restart)
 * applies the same lists.
 */
export class FappRevocation1764200000000 implements MigrationInterface {
  name = 'FappRevocation1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "fapp_announce" ADD COLUMN "authority_key" char(64), ADD COLUMN "attestation_id" char(32)`);
    await q.query(`CREATE INDEX "fapp_announce_attestation" ON "fapp_announce" ("authority_key", "attestation_id") WHERE "attestation_id" IS NOT NULL`);
    await q.query(`CREATE TABLE "fapp_revocation_list" (
      "authority_key" char(64) PRIMARY KEY,
      "sequence" bigint NOT NULL,
      "list" bytea NOT NULL,
      "updated_at" timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "fapp_revocation_list"`);
    await q.query(`ALTER TABLE "fapp_announce" DROP COLUMN "attestation_id", DROP COLUMN "authority_key"`);
  }
}
