import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min } from 'class-validator';

export class FetchQueryDto {
  @ApiPropertyOptional({ description: 'Return messages with a sequence number above this (the last one processed)', default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'Long-poll: wait up to this long for a message when none is queued', maximum: 30_000, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30_000)
  waitMs?: number;
}

export class AckDto {
  @ApiProperty({ description: 'Delete every message up to and including this sequence number' })
  @IsInt()
  @Min(0)
  upTo: number;
}

export class SealedSendDto {
  @ApiProperty({ description: "The recipient's delivery token (shared only with contacts)" })
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'deliveryToken must be 32 bytes, base64url' })
  deliveryToken: string;

  @ApiProperty({ description: 'Client-chosen id; a repeat returns the first result' })
  @IsUUID()
  clientMessageId: string;

  @ApiProperty({ description: 'Sealed ciphertext, base64url' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'payload must be base64url' })
  payload: string;
}

export class DeleteTokenDto {
  @ApiProperty()
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'deliveryToken must be 32 bytes, base64url' })
  deliveryToken: string;
}
