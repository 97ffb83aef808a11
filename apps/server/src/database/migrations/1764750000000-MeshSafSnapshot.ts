import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The store-and-forward queue of the server's in-process mesh node (MESH_ENABLED), saved while
 * it runs and at shutdown, restored at the next start: reservations forwarded to a therapist's
 * node and answers for a mesh patient that were waiting for their recipient survive a restart,
 * as they do in qpc-node's data directory. One row per node address; the bytes are the queue's
 * own snapshot (signed envelopes, whose payloads are sealed end to end).
 */
export class MeshSafSnapshot1764750000000 implements MigrationInterface {
  name = 'MeshSafSnapshot1764750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "mesh_saf_snapshot" (
      "node_address" char(32) PRIMARY KEY,
      "snapshot" bytea NOT NULL,
      "saved_at" timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "mesh_saf_snapshot"`);
  }
}
