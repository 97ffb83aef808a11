import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Server-wide key/value facts (e.g. when demo data was loaded). */
export class Init1764086400000 implements MigrationInterface {
  name = 'Init1764086400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "app_meta" (
      "key" varchar(64) PRIMARY KEY,
      "value" jsonb NOT NULL DEFAULT '{}',
      "updated_at" timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "app_meta"`);
  }
}
