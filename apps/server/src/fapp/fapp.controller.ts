import { Body, Controller, Get, Header, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiConsumes, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiTags } from '@nestjs/swagger';
import type { SlotFilter } from '@qpc/fapp';
import { b64urlField } from '../common/bytes.js';
import { ServerError } from '../common/server-error.js';
import {
  AnnounceAcceptedDto,
  AnnounceBatchResultDto,
  PostAnnounceBatchDto,
  PostAnnounceDto,
  PostAnswerDto,
  PostCancelDto,
  PostReleaseDto,
  PostRevocationListDto,
  PostReservationDto,
  RegionQueryDto,
  SearchQueryDto,
  SearchResultDto,
  TherapistReservationsDto,
} from './fapp.dto.js';
import { FappService } from './fapp.service.js';
import { ReservationService } from './reservation.service.js';

/** Routes of this controller that also take an `application/protobuf` body (see acceptProtobufBodies). */
export const FAPP_PROTOBUF_BODY_ROUTES = ['fapp/announces/batch'];

function toFilter(q: SearchQueryDto): SlotFilter {
  const f: SlotFilter = {};
  if (q.plz) f.plzPrefix = q.plz;
  if (q.fachrichtung) f.fachrichtungen = q.fachrichtung as SlotFilter['fachrichtungen'];
  if (q.kostentraeger) f.kostentraeger = q.kostentraeger as SlotFilter['kostentraeger'];
  if (q.terminart) f.terminarten = q.terminart as SlotFilter['terminarten'];
  if (q.modalitaet) f.modalitaeten = q.modalitaet as SlotFilter['modalitaeten'];
  if (q.altersgruppe !== undefined) f.altersgruppe = q.altersgruppe as SlotFilter['altersgruppe'];
  if (q.language) f.language = q.language;
  if (q.barrierFree) f.barrierFreeOnly = true;
  if (q.verifiedOnly) f.verifiedOnly = true;
  if (q.from !== undefined) f.fromMs = q.from;
  if (q.until !== undefined) f.untilMs = q.until;
  if (q.limit) f.limit = q.limit;
  return f;
}

@ApiTags('fapp')
@Controller('fapp')
export class FappController {
  constructor(
    @Inject(FappService) private readonly fapp: FappService,
    @Inject(ReservationService) private readonly reservations: ReservationService,
  ) {}

  @Post('announces')
  @ApiOperation({ summary: 'Publish a signed SlotAnnounce (a higher sequence supersedes the stored one)' })
  @ApiCreatedResponse({ type: AnnounceAcceptedDto })
  @ApiConflictResponse({ description: 'fapp.stale_sequence' })
  announce(@Body() body: PostAnnounceDto): Promise<AnnounceAcceptedDto> {
    return this.fapp.ingest(b64urlField(body.announce, 'announce'));
  }

  @Post('announces/batch')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Publish many signed SlotAnnounces in one request and one transaction; a result per item (stored, duplicate, rejected with its code)',
    description:
      'The body is JSON `{announces: [base64url…]}`, or with `Content-Type: application/protobuf` (or `application/x-protobuf`) a `qpc.v1.FappAnnounceBatch` whose `announces` are the same bytes, without base64url. Bytes that are not a FappAnnounceBatch are 400 fapp.malformed. The answer is JSON either way.',
  })
  @ApiConsumes('application/json', 'application/protobuf')
  @ApiOkResponse({ type: AnnounceBatchResultDto })
  @ApiPayloadTooLargeResponse({ description: 'fapp.batch_too_many, fapp.batch_too_large' })
  announceBatch(@Body() body: PostAnnounceBatchDto): Promise<AnnounceBatchResultDto> {
    return this.fapp.ingestBatch(body.announces);
  }

  @Get('slots')
  @ApiOperation({ summary: 'Anonymous search, earliest slots first. Prefer region sync: it sends no query at all.' })
  @ApiOkResponse({ type: SearchResultDto })
  @Header('content-type', 'application/json; charset=utf-8')
  search(@Query() q: SearchQueryDto): Promise<string> {
    return this.fapp.search(toFilter(q), q.includeAnnounces === true);
  }

  @Get('announces/:therapistId')
  @ApiOperation({ summary: "A therapist's current signed announce (to reserve one of its slots)" })
  announceOf(@Param('therapistId') therapistId: string) {
    return this.fapp.announce(therapistId);
  }

  @Get('regions/:prefix/announces')
  @ApiOperation({ summary: 'Region sync: every current announce for a PLZ prefix as signed bytes, plus held/booked slots, paged' })
  region(@Param('prefix') prefix: string, @Query() q: RegionQueryDto) {
    return this.fapp.region(prefix, q.cursor, q.limit ?? 200);
  }

  @Post('revocations')
  @HttpCode(200)
  @ApiOperation({ summary: "Apply a licensing authority's signed revocation list; revoked therapists become unverified" })
  @ApiConflictResponse({ description: 'fapp.stale_revocation_list' })
  revoke(@Body() body: PostRevocationListDto) {
    return this.fapp.revoke(b64urlField(body.list, 'list'));
  }

  @Get('revocations')
  @ApiOperation({ summary: 'The newest revocation list of each authority, for clients that verify announces themselves' })
  revocationLists() {
    return this.fapp.revocationLists();
  }

  @Post('reservations')
  @ApiOperation({ summary: 'Reserve a slot with a sealed SlotReserve; holds the slot until the therapist answers or the hold expires' })
  @ApiConflictResponse({ description: 'fapp.slot_held, fapp.slot_booked, fapp.stamp_reused' })
  reserve(@Body() body: PostReservationDto) {
    return this.reservations.reserve(b64urlField(body.reservation, 'reservation'));
  }

  @Post('reservations/cancel')
  @HttpCode(204)
  @ApiOperation({ summary: 'The patient withdraws their reservation (SlotRelease carrying the mailbox capability)' })
  async cancel(@Body() body: PostCancelDto): Promise<void> {
    await this.reservations.cancel(b64urlField(body.cancel, 'cancel'));
  }

  @Get('mailbox')
  @ApiOperation({ summary: "The patient's mailbox: status and the therapist's sealed reply. No account, no cookie." })
  @ApiHeader({ name: 'x-mailbox-capability', description: 'The mailbox capability (base64url); only the patient has it', required: true })
  @ApiOkResponse({ description: '{ status, therapistId, slotId, heldUntil, reply }' })
  mailbox(@Headers('x-mailbox-capability') capability: string | undefined) {
    if (!capability) throw new ServerError('request.invalid', 400, 'x-mailbox-capability header is required', { errors: [{ field: 'x-mailbox-capability', messages: ['required'] }] });
    if (capability.length > 100) throw new ServerError('request.invalid', 400, 'x-mailbox-capability is too long');
    return this.reservations.mailbox(b64urlField(capability, 'x-mailbox-capability'));
  }

  @Post('therapist/challenge')
  @ApiOperation({ summary: 'A single-use challenge the therapist signs to list their reservations' })
  challenge() {
    return this.reservations.challenge();
  }

  @Post('therapist/reservations')
  @HttpCode(200)
  @ApiOperation({ summary: "The therapist's held and booked slots with the sealed reservations (signed challenge)" })
  therapistReservations(@Body() body: TherapistReservationsDto) {
    return this.reservations.therapistReservations(
      b64urlField(body.therapistKey, 'therapistKey'),
      Buffer.from(body.challenge, 'hex'),
      b64urlField(body.signature, 'signature'),
    );
  }

  @Post('therapist/answers')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm or decline a reservation (signed SlotConfirm with the reply sealed to the patient)' })
  answer(@Body() body: PostAnswerDto) {
    return this.reservations.answer(b64urlField(body.answer, 'answer'));
  }

  @Post('therapist/releases')
  @HttpCode(204)
  @ApiOperation({ summary: 'Free a held or booked slot (signed SlotRelease)' })
  async release(@Body() body: PostReleaseDto): Promise<void> {
    await this.reservations.release(b64urlField(body.release, 'release'));
  }
}
