import { Body, Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { b64urlField } from '../common/bytes.js';
import { CurrentSession, SessionGuard, type SessionInfo } from '../messenger/session.guard.js';
import { AckDto, DeleteTokenDto, FetchQueryDto, SealedSendDto } from './delivery.dto.js';
import { DeliveryService } from './delivery.service.js';

/** The caller's own queue is the only one it can read or ack: no endpoint names another queue. */
@ApiTags('delivery')
@Controller('delivery')
export class DeliveryController {
  constructor(@Inject(DeliveryService) private readonly delivery: DeliveryService) {}

  @Get('messages')
  @ApiBearerAuth()
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: "Fetch this device's queued messages after a sequence number (batch; long-poll with waitMs)" })
  fetch(@CurrentSession() s: SessionInfo, @Query() q: FetchQueryDto) {
    return this.delivery.fetch(s.deviceId, q.after ?? 0, q.limit ?? 100, q.waitMs ?? 0);
  }

  @Post('ack')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: 'Acknowledge (delete) messages up to a sequence number' })
  ack(@CurrentSession() s: SessionInfo, @Body() body: AckDto) {
    return this.delivery.ack(s.deviceId, body.upTo);
  }

  @Post('tokens')
  @ApiBearerAuth()
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: 'Create a delivery token for sealed sender; share it only with contacts' })
  createToken(@CurrentSession() s: SessionInfo) {
    return this.delivery.createToken(s.accountId);
  }

  @Post('tokens/revoke')
  @HttpCode(204)
  @ApiBearerAuth()
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: 'Withdraw a delivery token' })
  async deleteToken(@CurrentSession() s: SessionInfo, @Body() body: DeleteTokenDto): Promise<void> {
    await this.delivery.deleteToken(s.accountId, body.deliveryToken);
  }

  @Post('sealed')
  @ApiOperation({ summary: "Sealed sender: enqueue to every device of the token's owner, without a session; no sender is stored" })
  sealed(@Body() body: SealedSendDto) {
    return this.delivery.sealed(body.deliveryToken, body.clientMessageId, b64urlField(body.payload, 'payload'));
  }

  @Get('receipt-key')
  @ApiOperation({ summary: 'The Ed25519 public key that signs delivery receipts' })
  receiptKey() {
    return this.delivery.receiptKey();
  }
}
