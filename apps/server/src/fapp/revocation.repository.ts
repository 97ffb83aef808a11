import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** SQL for licence revocation (see migration FappRevocation1764200000000). */
@Injectable()
export class RevocationRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** Stores the list if it is newer than the stored one; false if an equal or newer one is stored. */
  async storeList(m: EntityManager, authorityKey: string, sequence: number, list: Uint8Array): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO fapp_revocation_list (authority_key, sequence, list) VALUES ($1, $2, $3)
       ON CONFLICT (authority_key) DO UPDATE SET sequence = EXCLUDED.sequence, list = EXCLUDED.list, updated_at = now()
       WHERE fapp_revocation_list.sequence < EXCLUDED.sequence
       RETURNING authority_key`,
      [authorityKey, sequence, Buffer.from(list)],
    );
    return rows.length === 1;
  }

  /** Marks announces whose attestation is revoked as unverified; returns how many changed. */
  async unverify(m: EntityManager, authorityKey: string, attestationIds: string[]): Promise<number> {
    if (attestationIds.length === 0) return 0;
    const rows: unknown = await m.query(
      `UPDATE fapp_announce SET verified = false, authority = NULL
       WHERE authority_key = $1 AND attestation_id = ANY($2::bpchar[]) AND verified
       RETURNING therapist_id`,
      [authorityKey, attestationIds],
    );
    // TypeORM answers UPDATE … RETURNING with [rows, count].
    return Array.isArray(rows) && typeof rows[1] === 'number' ? rows[1] : 0;
  }

  async lists(): Promise<{ authority_key: string; sequence: string; list: Buffer }[]> {
    return this.ds.query(`SELECT authority_key, sequence, list FROM fapp_revocation_list ORDER BY authority_key`);
  }
}
