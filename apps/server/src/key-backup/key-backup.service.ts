import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';
import { toB64url } from '../common/bytes.js';
import { KEY_BACKUP_MAX_BYTES } from './key-backup.dto.js';
import { KeyBackupRepository } from './key-backup.repository.js';

export interface KeyBackupView {
  ciphertext: string;
  version: number;
}

const conflict = (currentVersion: number) =>
  new ServerError('key_backup.version_conflict', 409, 'The stored backup has a different version; read it, merge and retry', { currentVersion });

/** Stores one opaque blob per account. Nothing here can or tries to read it. */
@Injectable()
export class KeyBackupService {
  constructor(
    @Inject(KeyBackupRepository) private readonly repo: KeyBackupRepository,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async get(accountId: string): Promise<KeyBackupView> {
    const row = await this.repo.get(accountId);
    if (!row) throw new ServerError('key_backup.not_found', 404, 'This account has no key backup');
    return { ciphertext: toB64url(new Uint8Array(row.ciphertext)), version: row.version };
  }

  /**
   * Without `ifVersion` a write wins only over a lower stored version; with it, only over
   * exactly that version (0: only if there is none yet).
   */
  async put(accountId: string, ciphertext: Uint8Array, version: number, ifVersion: number | undefined): Promise<{ version: number }> {
    if (ciphertext.length === 0) throw new ServerError('request.invalid', 400, 'ciphertext is empty', { errors: [{ field: 'ciphertext', messages: ['must not be empty'] }] });
    if (ciphertext.length > KEY_BACKUP_MAX_BYTES) throw new ServerError('key_backup.too_large', 413, `A key backup holds at most ${KEY_BACKUP_MAX_BYTES} bytes`);
    if (ifVersion !== undefined && version <= ifVersion) {
      throw new ServerError('request.invalid', 400, 'version must be above ifVersion', { errors: [{ field: 'version', messages: ['must be above ifVersion'] }] });
    }
    const now = new Date(this.clock.now());
    const ok =
      ifVersion === undefined
        ? await this.repo.upsertNewer(accountId, ciphertext, version, now)
        : ifVersion === 0
          ? await this.repo.insertNew(accountId, ciphertext, version, now)
          : await this.repo.swap(accountId, ciphertext, version, ifVersion, now);
    if (!ok) throw conflict(await this.repo.version(accountId));
    return { version };
  }
}
