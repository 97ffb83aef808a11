import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ANNOUNCE_BATCH_MAX_BYTES, ANNOUNCE_BATCH_MAX_COUNT, DEFAULT_QUERY_LIMIT } from '@qpc/fapp';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { BASE64URL, base64UrlBody, IsBase64Url } from '../common/dto.js';
import { PARSE } from '../common/validation.js';
import { ANNOUNCE_BATCH_ITEM_MAX_CHARS, type AnnounceBatchBody, parseAnnounceBatch } from './announce-batch-body.js';
import { parseSearchQuery, SEARCH_LIMIT_MAX, type SearchQuery } from './search-query.js';
import type { SearchHit } from './search-index.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** Parsed by `base64UrlBody` rather than by class-validator: every announce a therapist posts passes through it. */
export class PostAnnounceDto {
  static readonly [PARSE] = base64UrlBody({ announce: 48_000 });

  @ApiProperty({ description: 'FappSigned bytes of a SlotAnnounce, base64url, exactly as signed.', maxLength: 48_000, pattern: BASE64URL.source })
  announce: string;
}

export class AnnounceAcceptedDto {
  @ApiProperty() therapistId: string;
  @ApiProperty() sequence: number;
  @ApiProperty() verified: boolean;
  @ApiProperty({ nullable: true, type: String }) authority: string | null;
  @ApiProperty() slots: number;
  @ApiProperty() expiresAt: string;
}

/**
 * `POST /fapp/announces/batch` in JSON; the same route takes a protobuf `FappAnnounceBatch`.
 * Parsed by `parseAnnounceBatch` (both forms) rather than by class-validator: peers and bridges
 * send every announce of a region through it.
 */
export class PostAnnounceBatchDto implements AnnounceBatchBody {
  static readonly [PARSE] = parseAnnounceBatch;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: ANNOUNCE_BATCH_MAX_COUNT,
    items: { type: 'string', maxLength: ANNOUNCE_BATCH_ITEM_MAX_CHARS, pattern: BASE64URL.source },
    description: `FappSigned SlotAnnounce bytes, base64url each, exactly as signed. At most ${ANNOUNCE_BATCH_MAX_COUNT} items and ${ANNOUNCE_BATCH_MAX_BYTES} decoded bytes in all (413 fapp.batch_too_many / fapp.batch_too_large).`,
  })
  announces: Uint8Array[];
}

export class AnnounceBatchItemDto {
  @ApiProperty({ description: 'Position of the item in the request' }) index: number;
  @ApiProperty({ enum: ['stored', 'duplicate', 'rejected'], description: 'stored: now the current announce; duplicate: the same signed announce is already current, whatever its hop count or envelope encoding (nothing changed); rejected: see code' })
  status: 'stored' | 'duplicate' | 'rejected';
  @ApiPropertyOptional() therapistId?: string;
  @ApiPropertyOptional() sequence?: number;
  @ApiPropertyOptional() verified?: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) authority?: string | null;
  @ApiPropertyOptional() slots?: number;
  @ApiPropertyOptional() expiresAt?: string;
  @ApiPropertyOptional({ description: 'rejected only: the code the single POST /fapp/announces would answer with, e.g. fapp.bad_signature, fapp.stale_sequence' })
  code?: string;
  @ApiPropertyOptional({ description: 'rejected only: the HTTP status the single POST would answer with' }) httpStatus?: number;
  @ApiPropertyOptional({ description: 'rejected only' }) detail?: string;
}

export class AnnounceBatchResultDto {
  @ApiProperty({ type: [AnnounceBatchItemDto], description: 'One result per item, in request order' }) results: AnnounceBatchItemDto[];
  @ApiProperty() stored: number;
  @ApiProperty() duplicates: number;
  @ApiProperty() rejected: number;
}

/** `GET /fapp/slots`: documents the query for OpenAPI; `parseSearchQuery` parses and checks it. */
export class SearchQueryDto implements SearchQuery {
  static readonly [PARSE] = parseSearchQuery;

  @ApiPropertyOptional({ description: 'PLZ or PLZ prefix, 2–5 digits', pattern: '^\\d{2,5}$', type: String })
  plz?: string;

  @ApiPropertyOptional({ description: 'Fachrichtung enum values (qpc.v1.Fachrichtung), comma-separated', example: '1,2', type: String })
  fachrichtung?: number[];

  @ApiPropertyOptional({ description: 'Kostentraeger enum values, comma-separated', type: String })
  kostentraeger?: number[];

  @ApiPropertyOptional({ description: 'Terminart enum values, comma-separated', type: String })
  terminart?: number[];

  @ApiPropertyOptional({ description: 'Modalitaet enum values, comma-separated', type: String })
  modalitaet?: number[];

  @ApiPropertyOptional({ description: 'Altersgruppe enum value', type: Number })
  altersgruppe?: number;

  @ApiPropertyOptional({ description: 'ISO 639 code, e.g. de, en, tr, gsg', pattern: '^[a-z]{2,3}$', type: String })
  language?: string;

  @ApiPropertyOptional({ type: Boolean })
  barrierFree?: boolean;

  @ApiPropertyOptional({ type: Boolean })
  verifiedOnly?: boolean;

  @ApiPropertyOptional({ description: 'Earliest slot start: a date (UTC midnight) or date-time with offset, ISO 8601', type: String, format: 'date-time' })
  from?: number;

  @ApiPropertyOptional({ description: 'Slots starting before this instant: a date (UTC midnight) or date-time with offset, ISO 8601', type: String, format: 'date-time' })
  until?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: SEARCH_LIMIT_MAX, default: DEFAULT_QUERY_LIMIT, type: Number })
  limit?: number;

  @ApiPropertyOptional({ description: 'Also return the signed announces of the therapists found', default: false, type: Boolean })
  includeAnnounces?: boolean;
}

export class SearchHitDto implements SearchHit {
  @ApiProperty({ description: 'Ed25519 key of the therapist, hex' }) therapistId: string;
  @ApiProperty({ description: 'Slot id, hex' }) slotId: string;
  @ApiProperty({ format: 'date-time', description: 'UTC' }) start: string;
  @ApiProperty({ enum: [25, 50, 100] }) durationMinutes: number;
  @ApiProperty({ description: 'Terminart enum value' }) terminart: number;
  @ApiProperty({ description: 'Places of a group; 0 for a single appointment' }) groupSize: number;
  @ApiProperty() plz: string;
  @ApiProperty({ description: 'The licence attestation verifies against a trusted authority' }) verified: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Name of the attesting authority' }) authority: string | null;
}

export class SearchResultDto {
  @ApiProperty({ type: [SearchHitDto], description: 'Earliest first; held and booked slots are left out' }) results: SearchHitDto[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'With includeAnnounces: the signed announce (FappSigned, base64url) of each therapist found' })
  announces?: Record<string, string>;
}

export class RegionQueryDto {
  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class PostReservationDto {
  @ApiProperty({ description: 'SlotReserve bytes, base64url' })
  @IsBase64Url(16_000)
  reservation: string;
}

export class PostCancelDto {
  @ApiProperty({ description: 'SlotRelease bytes carrying the mailbox capability, base64url' })
  @IsBase64Url(2_000)
  cancel: string;
}

export class TherapistReservationsDto {
  @ApiProperty({ description: 'Therapist Ed25519 public key, base64url' })
  @IsBase64Url(100)
  therapistKey: string;

  @ApiProperty({ description: 'Challenge from POST /fapp/therapist/challenge (hex)' })
  @Matches(HEX64, { message: 'challenge must be 64 lowercase hex characters' })
  challenge: string;

  @ApiProperty({ description: 'Ed25519 signature over the challenge signing input, base64url' })
  @IsBase64Url(200)
  signature: string;
}

export class PostAnswerDto {
  @ApiProperty({ description: 'FappSigned bytes of a SlotConfirm (confirm or decline), base64url' })
  @IsBase64Url(16_000)
  answer: string;
}

export class PostReleaseDto {
  @ApiProperty({ description: 'FappSigned bytes of a therapist SlotRelease, base64url' })
  @IsBase64Url(2_000)
  release: string;
}

export class PostRevocationListDto {
  @ApiProperty({ description: 'FappSigned bytes of a RevocationList signed by a trusted authority, base64url' })
  @IsBase64Url(2_900_000)
  list: string;
}
