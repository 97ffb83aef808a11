import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MaxLength } from 'class-validator';

/** 64 KiB of ciphertext as unpadded base64url. */
export const KEY_BACKUP_MAX_BYTES = 64 * 1024;
const MAX_B64 = Math.ceil((KEY_BACKUP_MAX_BYTES * 4) / 3);
const INT32_MAX = 2_147_483_647;

export class PutKeyBackupDto {
  @ApiProperty({ description: 'The sealed backup, base64url, at most 64 KiB decoded. The server cannot read it.' })
  @IsString()
  @MaxLength(MAX_B64, { message: 'ciphertext must be at most 64 KiB' })
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'ciphertext must be base64url (RFC 4648 §5, no padding)' })
  ciphertext: string;

  @ApiProperty({ description: 'The version this write creates; must be above the stored one', minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version: number;

  @ApiPropertyOptional({ description: 'Compare-and-swap: the version the client last read (0 = no backup yet). A mismatch is 409 key_backup.version_conflict', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT32_MAX)
  ifVersion?: number;
}
