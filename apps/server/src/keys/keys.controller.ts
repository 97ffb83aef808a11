import { Body, Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { b64urlField } from '../common/bytes.js';
import { CurrentSession, SessionGuard, type SessionInfo } from '../messenger/session.guard.js';
import { ClaimKeyPackagesDto, UploadKeyPackagesDto } from './keys.dto.js';
import { KeysService } from './keys.service.js';

@ApiTags('keys')
@ApiBearerAuth()
@UseGuards(SessionGuard)
@Controller('keys')
export class KeysController {
  constructor(@Inject(KeysService) private readonly keys: KeysService) {}

  @Post('packages')
  @ApiOperation({ summary: "Stock this device's MLS KeyPackages (and optionally replace its last-resort package)" })
  upload(@CurrentSession() s: SessionInfo, @Body() body: UploadKeyPackagesDto) {
    return this.keys.upload(
      s,
      body.keyPackages.map((p, i) => b64urlField(p, `keyPackages[${i}]`)),
      body.lastResort ? b64urlField(body.lastResort, 'lastResort') : undefined,
    );
  }

  @Get('packages/status')
  @ApiOperation({ summary: "This device's stock and the low-stock signal" })
  status(@CurrentSession() s: SessionInfo) {
    return this.keys.status(s);
  }

  @Post('claim')
  @HttpCode(200)
  @ApiOperation({ summary: "Claim one KeyPackage per active device of a user (each handed out once; last resort when out)" })
  claim(@CurrentSession() s: SessionInfo, @Body() body: ClaimKeyPackagesDto) {
    return this.keys.claim(s, body.username);
  }
}
