import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key transparency log leaves, append-only, dense indices. `device_id` only helps find a
 * device's leaf; it has no foreign key because entries outlive the device and its account.
 */
export class Transparency1764300000000 implements MigrationInterface {
  name = 'Transparency1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "kt_leaf" (
      "idx" bigint PRIMARY KEY,
      "device_id" uuid NOT NULL,
      "kind" varchar(6) NOT NULL CHECK ("kind" IN ('add', 'revoke')),
      "data" bytea NOT NULL,
      "created_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "kt_leaf_device" ON "kt_leaf" ("device_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "kt_leaf"`);
  }
}
