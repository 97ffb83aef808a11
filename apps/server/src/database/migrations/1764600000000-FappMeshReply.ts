import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where the answer to a reservation that arrived over the mesh goes: the mesh key that signed
 * the reserving envelope (a per-reservation key the patient derives from the mailbox
 * capability), by mailbox id. Nothing else about the patient. A row lives until the answer is
 * sent or the hold it belongs to expires (docs/mesh.md, "Reservations over the mesh").
 */
export class FappMeshReply1764600000000 implements MigrationInterface {
  name = 'FappMeshReply1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "fapp_mesh_reply" (
      "mailbox_id" char(64) PRIMARY KEY,
      "reply_key" bytea NOT NULL CHECK (octet_length("reply_key") = 32),
      "expires_at" timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "fapp_mesh_reply_expires" ON "fapp_mesh_reply" ("expires_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "fapp_mesh_reply"`);
  }
}
