import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One encrypted key backup per account. The server holds ciphertext only (sealed by the
 * client under a key derived from its OPAQUE export key); `version` is the client's
 * optimistic-concurrency counter. Goes with the account by cascade.
 */
export class KeyBackup1764400000000 implements MigrationInterface {
  name = 'KeyBackup1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "key_backup" (
      "account_id" uuid PRIMARY KEY REFERENCES "account" ("id") ON DELETE CASCADE,
      "ciphertext" bytea NOT NULL,
      "version" integer NOT NULL CHECK ("version" > 0),
      "updated_at" timestamptz NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "key_backup"`);
  }
}
