import { Body, Controller, Get, Inject, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { b64urlField } from '../common/bytes.js';
import { CurrentSession, SessionGuard, type SessionInfo } from '../messenger/session.guard.js';
import { PutKeyBackupDto } from './key-backup.dto.js';
import { KeyBackupService } from './key-backup.service.js';

@ApiTags('key-backup')
@ApiBearerAuth()
@UseGuards(SessionGuard)
@Controller('key-backup')
export class KeyBackupController {
  constructor(@Inject(KeyBackupService) private readonly backups: KeyBackupService) {}

  @Get()
  @ApiOperation({ summary: "The account's encrypted key backup (ciphertext only)" })
  @ApiNotFoundResponse({ description: 'key_backup.not_found' })
  get(@CurrentSession() s: SessionInfo) {
    return this.backups.get(s.accountId);
  }

  @Put()
  @ApiOperation({ summary: 'Store the encrypted key backup; optimistic concurrency by version / ifVersion' })
  @ApiConflictResponse({ description: 'key_backup.version_conflict (with currentVersion)' })
  put(@CurrentSession() s: SessionInfo, @Body() body: PutKeyBackupDto) {
    return this.backups.put(s.accountId, b64urlField(body.ciphertext, 'ciphertext'), body.version, body.ifVersion);
  }
}
