import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery: one queue per device (`queue_head` holds the next sequence number and the depth;
 * its row lock serialises enqueues, so sequences are gap-free), queued ciphertexts, client
 * message ids for idempotent sends, sealed-sender delivery tokens, and MLS groups as the
 * server sees them (current epoch and member devices, nothing else).
 */
export class Delivery1764100200000 implements MigrationInterface {
  name = 'Delivery1764100200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "queue_head" (
      "device_id" uuid PRIMARY KEY REFERENCES "device" ("id") ON DELETE CASCADE,
      "next_seq" bigint NOT NULL DEFAULT 1,
      "depth" integer NOT NULL DEFAULT 0
    )`);
    await q.query(`INSERT INTO "queue_head" ("device_id") SELECT "id" FROM "device" WHERE "revoked_at" IS NULL`);
    await q.query(`CREATE TABLE "queued_message" (
      "device_id" uuid NOT NULL REFERENCES "queue_head" ("device_id") ON DELETE CASCADE,
      "seq" bigint NOT NULL,
      "payload" bytea NOT NULL,
      "sender_device_id" uuid REFERENCES "device" ("id") ON DELETE SET NULL,
      "group_id" bytea,
      "enqueued_at" timestamptz NOT NULL,
      PRIMARY KEY ("device_id", "seq")
    )`);
    await q.query(`CREATE TABLE "send_key" (
      "scope" varchar(80) NOT NULL,
      "client_message_id" uuid NOT NULL,
      "result" jsonb,
      "created_at" timestamptz NOT NULL,
      PRIMARY KEY ("scope", "client_message_id")
    )`);
    await q.query(`CREATE INDEX "send_key_created" ON "send_key" ("created_at")`);
    await q.query(`CREATE TABLE "delivery_token" (
      "token_hash" bytea PRIMARY KEY,
      "account_id" uuid NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
      "created_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "delivery_token_account" ON "delivery_token" ("account_id")`);
    await q.query(`CREATE TABLE "mls_group" (
      "group_id" bytea PRIMARY KEY,
      "epoch" bigint NOT NULL,
      "created_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE TABLE "group_member" (
      "group_id" bytea NOT NULL REFERENCES "mls_group" ("group_id") ON DELETE CASCADE,
      "device_id" uuid NOT NULL REFERENCES "device" ("id") ON DELETE CASCADE,
      PRIMARY KEY ("group_id", "device_id")
    )`);
    await q.query(`CREATE INDEX "group_member_device" ON "group_member" ("device_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['group_member', 'mls_group', 'delivery_token', 'send_key', 'queued_message', 'queue_head']) await q.query(`DROP TABLE "${t}"`);
  }
}
