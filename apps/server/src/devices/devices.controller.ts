import { Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentSession, SessionGuard, type SessionInfo } from '../messenger/session.guard.js';
import { DevicesService } from './devices.service.js';
import { ServerError } from '../common/server-error.js';

export const deviceIdPipe = () => new ParseUUIDPipe({ exceptionFactory: () => new ServerError('devices.not_found', 404, 'No such device') });

@ApiTags('devices')
@ApiBearerAuth()
@UseGuards(SessionGuard)
@Controller('devices')
export class DevicesController {
  constructor(@Inject(DevicesService) private readonly devices: DevicesService) {}

  @Get()
  @ApiOperation({ summary: "The account's devices (revoked ones included, marked). New devices are registered at login." })
  async list(@CurrentSession() s: SessionInfo) {
    return { devices: await this.devices.list(s.accountId) };
  }

  @Delete(':deviceId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a device: its sessions, queue and key packages go at once; KT records the revocation' })
  async revoke(@CurrentSession() s: SessionInfo, @Param('deviceId', deviceIdPipe()) deviceId: string): Promise<void> {
    await this.devices.revoke(s.accountId, deviceId);
  }
}
