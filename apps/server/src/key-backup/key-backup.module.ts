import { Module } from '@nestjs/common';
import { KeyBackupController } from './key-backup.controller.js';
import { KeyBackupRepository } from './key-backup.repository.js';
import { KeyBackupService } from './key-backup.service.js';

/** Encrypted key backups of accounts (the therapist portal keeps its FAPP keys here). */
@Module({ controllers: [KeyBackupController], providers: [KeyBackupRepository, KeyBackupService] })
export class KeyBackupModule {}
