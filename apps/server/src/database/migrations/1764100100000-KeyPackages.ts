import type { MigrationInterface, QueryRunner } from 'typeorm';

/** MLS KeyPackages per device: one-time packages (deleted when claimed) and at most one last-resort package. */
export class KeyPackages1764100100000 implements MigrationInterface {
  name = 'KeyPackages1764100100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "key_package" (
      "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "device_id" uuid NOT NULL REFERENCES "device" ("id") ON DELETE CASCADE,
      "data" bytea NOT NULL,
      "last_resort" boolean NOT NULL,
      "created_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "key_package_device" ON "key_package" ("device_id", "id") WHERE NOT "last_resort"`);
    await q.query(`CREATE UNIQUE INDEX "key_package_last_resort" ON "key_package" ("device_id") WHERE "last_resort"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "key_package"`);
  }
}
