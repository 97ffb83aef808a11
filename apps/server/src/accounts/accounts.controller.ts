import { Body, Controller, Delete, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { b64urlField } from '../common/bytes.js';
import { CurrentSession, SessionGuard, type SessionInfo } from '../messenger/session.guard.js';
import { LoginFinishDto, LoginStartDto, type NewDeviceDto, RegistrationFinishDto, RegistrationStartDto } from './accounts.dto.js';
import { AccountsService, type NewDevice } from './accounts.service.js';

const device = (d: NewDeviceDto): NewDevice => ({ name: d.name, signingKey: b64urlField(d.signingKey, 'device.signingKey') });

@ApiTags('accounts')
@Controller()
export class AccountsController {
  constructor(@Inject(AccountsService) private readonly accounts: AccountsService) {}

  @Post('accounts/registration/start')
  @HttpCode(200)
  @ApiOperation({ summary: 'OPAQUE registration, first message. The password never leaves the client.' })
  registrationStart(@Body() body: RegistrationStartDto) {
    return this.accounts.registrationStart(body.username, body.registrationRequest);
  }

  @Post('accounts/registration/finish')
  @ApiOperation({ summary: 'Store the OPAQUE record, register the first device, return its session' })
  registrationFinish(@Body() body: RegistrationFinishDto) {
    return this.accounts.registrationFinish(body.username, body.registrationRecord, device(body.device));
  }

  @Post('sessions/start')
  @HttpCode(200)
  @ApiOperation({ summary: 'OPAQUE login, first message. Unknown users get an indistinguishable fake response.' })
  loginStart(@Body() body: LoginStartDto) {
    return this.accounts.loginStart(body.username, body.startLoginRequest);
  }

  @Post('sessions/finish')
  @HttpCode(200)
  @ApiOperation({ summary: 'OPAQUE login, final message; binds the new session to a new device or a proven existing one' })
  loginFinish(@Body() body: LoginFinishDto) {
    return this.accounts.loginFinish({
      loginId: body.loginId,
      finishLoginRequest: body.finishLoginRequest,
      ...(body.device ? { device: device(body.device) } : {}),
      ...(body.deviceId ? { deviceId: body.deviceId } : {}),
      ...(body.deviceSignature ? { deviceSignature: b64urlField(body.deviceSignature, 'deviceSignature') } : {}),
    });
  }

  @Delete('sessions/current')
  @HttpCode(204)
  @ApiBearerAuth()
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: 'Log out: the token stops working' })
  async logout(@CurrentSession() s: SessionInfo): Promise<void> {
    await this.accounts.logout(s.tokenHash, s.deviceId);
  }

  @Get('accounts/me')
  @ApiBearerAuth()
  @UseGuards(SessionGuard)
  me(@CurrentSession() s: SessionInfo) {
    return this.accounts.me(s.accountId, s.deviceId);
  }

  @Delete('accounts/me')
  @HttpCode(204)
  @ApiBearerAuth()
  @UseGuards(SessionGuard)
  @ApiOperation({ summary: 'Delete the account and all its data (devices, sessions, key packages, queues)' })
  async deleteAccount(@CurrentSession() s: SessionInfo): Promise<void> {
    await this.accounts.deleteAccount(s.accountId);
  }
}
