import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * FAPP: the newest announce per therapist, its slots (for search), holds (exactly one per
 * slot, enforced by the primary key), anonymous mailboxes, used stamps, and single-use
 * therapist challenges.
 */
export class Fapp1764090000000 implements MigrationInterface {
  name = 'Fapp1764090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "fapp_announce" (
      "therapist_id" char(64) PRIMARY KEY,
      "sequence" bigint NOT NULL,
      "plz" char(5) NOT NULL,
      "verified" boolean NOT NULL,
      "authority" varchar(120),
      "fachrichtungen" smallint[] NOT NULL,
      "altersgruppen" smallint[] NOT NULL,
      "modalitaeten" smallint[] NOT NULL,
      "kostentraeger" smallint[] NOT NULL,
      "languages" text[] NOT NULL,
      "barrier_free" boolean NOT NULL,
      "issued_at" timestamptz NOT NULL,
      "expires_at" timestamptz NOT NULL,
      "envelope" bytea NOT NULL,
      "received_at" timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX "fapp_announce_plz" ON "fapp_announce" ("plz" bpchar_pattern_ops, "therapist_id")`);
    await q.query(`CREATE INDEX "fapp_announce_expires" ON "fapp_announce" ("expires_at")`);

    await q.query(`CREATE TABLE "fapp_slot" (
      "therapist_id" char(64) NOT NULL REFERENCES "fapp_announce" ("therapist_id") ON DELETE CASCADE,
      "slot_id" char(32) NOT NULL,
      "start_at" timestamptz NOT NULL,
      "duration_min" smallint NOT NULL,
      "terminart" smallint NOT NULL,
      "group_size" smallint NOT NULL,
      PRIMARY KEY ("therapist_id", "slot_id")
    )`);
    await q.query(`CREATE INDEX "fapp_slot_start" ON "fapp_slot" ("start_at", "therapist_id", "slot_id")`);

    await q.query(`CREATE TABLE "fapp_hold" (
      "therapist_id" char(64) NOT NULL,
      "slot_id" char(32) NOT NULL,
      "mailbox_id" char(64) NOT NULL,
      "state" varchar(8) NOT NULL CHECK ("state" IN ('held', 'booked')),
      "held_until" timestamptz,
      "reservation" bytea NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY ("therapist_id", "slot_id")
    )`);
    await q.query(`CREATE INDEX "fapp_hold_until" ON "fapp_hold" ("held_until") WHERE "state" = 'held'`);
    await q.query(`CREATE UNIQUE INDEX "fapp_hold_mailbox" ON "fapp_hold" ("mailbox_id")`);

    await q.query(`CREATE TABLE "fapp_mailbox" (
      "mailbox_id" char(64) PRIMARY KEY,
      "therapist_id" char(64) NOT NULL,
      "slot_id" char(32) NOT NULL,
      "status" varchar(10) NOT NULL CHECK ("status" IN ('pending', 'confirmed', 'declined', 'cancelled', 'released', 'expired')),
      "reply" bytea,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      "expires_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "fapp_mailbox_expires" ON "fapp_mailbox" ("expires_at")`);

    await q.query(`CREATE TABLE "fapp_stamp" (
      "stamp_id" char(64) PRIMARY KEY,
      "window" bigint NOT NULL
    )`);
    await q.query(`CREATE INDEX "fapp_stamp_window" ON "fapp_stamp" ("window")`);

    await q.query(`CREATE TABLE "fapp_challenge" (
      "challenge" char(64) PRIMARY KEY,
      "expires_at" timestamptz NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['fapp_challenge', 'fapp_stamp', 'fapp_mailbox', 'fapp_hold', 'fapp_slot', 'fapp_announce']) {
      await q.query(`DROP TABLE "${t}"`);
    }
  }
}
