import { Body, Controller, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { b64urlField } from '../common/bytes.js';
import { CurrentSession, SessionGuard, type SessionInfo } from '../messenger/session.guard.js';
import { CommitDto, CreateGroupDto, GroupMessageDto } from './groups.dto.js';
import { GroupsService } from './groups.service.js';

@ApiTags('groups')
@ApiBearerAuth()
@UseGuards(SessionGuard)
@Controller('groups')
export class GroupsController {
  constructor(@Inject(GroupsService) private readonly groups: GroupsService) {}

  @Post()
  @ApiOperation({ summary: "Register a new MLS group at epoch 0 with the caller's device as its only member" })
  create(@CurrentSession() s: SessionInfo, @Body() body: CreateGroupDto) {
    return this.groups.create(s, b64urlField(body.groupId, 'groupId'));
  }

  @Get(':groupId')
  @ApiOperation({ summary: 'Current epoch and member devices (members only)' })
  get(@CurrentSession() s: SessionInfo, @Param('groupId') groupId: string) {
    return this.groups.get(s, b64urlField(groupId, 'groupId'));
  }

  @Post(':groupId/commits')
  @ApiOperation({ summary: 'Submit a commit for the current epoch; exactly one per epoch wins. Welcomes are released with it.' })
  @ApiConflictResponse({ description: 'delivery.stale_epoch' })
  commit(@CurrentSession() s: SessionInfo, @Param('groupId') groupId: string, @Body() body: CommitDto) {
    return this.groups.commit(s, b64urlField(groupId, 'groupId'), {
      clientMessageId: body.clientMessageId,
      commit: b64urlField(body.commit, 'commit'),
      ...(body.welcome ? { welcome: b64urlField(body.welcome, 'welcome') } : {}),
      addDevices: body.addDevices ?? [],
      removeDevices: body.removeDevices ?? [],
    });
  }

  @Post(':groupId/messages')
  @ApiOperation({ summary: 'Fan an application message out to every other member device' })
  message(@CurrentSession() s: SessionInfo, @Param('groupId') groupId: string, @Body() body: GroupMessageDto) {
    return this.groups.message(s, b64urlField(groupId, 'groupId'), body.clientMessageId, b64urlField(body.message, 'message'));
  }
}
