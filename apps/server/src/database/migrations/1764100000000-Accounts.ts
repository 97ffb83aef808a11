import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messenger accounts: username + OPAQUE record (never a password or its hash), devices (at most
 * five active per account, checked under the account's row lock), sessions stored as SHA-256 of
 * the bearer token, and pending OPAQUE logins (single use, short-lived).
 */
export class Accounts1764100000000 implements MigrationInterface {
  name = 'Accounts1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "account" (
      "id" uuid PRIMARY KEY,
      "username" varchar(32) NOT NULL UNIQUE,
      "opaque_record" text NOT NULL,
      "created_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE TABLE "device" (
      "id" uuid PRIMARY KEY,
      "account_id" uuid NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
      "name" varchar(64) NOT NULL,
      "signing_key" bytea NOT NULL UNIQUE,
      "created_at" timestamptz NOT NULL,
      "revoked_at" timestamptz
    )`);
    await q.query(`CREATE INDEX "device_account" ON "device" ("account_id")`);
    await q.query(`CREATE TABLE "session" (
      "token_hash" bytea PRIMARY KEY,
      "account_id" uuid NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
      "device_id" uuid NOT NULL REFERENCES "device" ("id") ON DELETE CASCADE,
      "created_at" timestamptz NOT NULL,
      "expires_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "session_device" ON "session" ("device_id")`);
    await q.query(`CREATE TABLE "opaque_login" (
      "id" uuid PRIMARY KEY,
      "account_id" uuid REFERENCES "account" ("id") ON DELETE CASCADE,
      "state" text NOT NULL,
      "expires_at" timestamptz NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "opaque_login"`);
    await q.query(`DROP TABLE "session"`);
    await q.query(`DROP TABLE "device"`);
    await q.query(`DROP TABLE "account"`);
  }
}
