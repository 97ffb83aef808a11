import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { BASE64URL as B64URL } from '../common/dto.js';


export class CreateGroupDto {
  @ApiProperty({ description: 'The MLS group id (8–64 bytes), base64url' })
  @Matches(B64URL, { message: 'groupId must be base64url' })
  groupId: string;
}

export class CommitDto {
  @ApiProperty() @IsUUID() clientMessageId: string;

  @ApiProperty({ description: 'MLSMessage carrying a commit for the current epoch, base64url' })
  @IsString()
  @Matches(B64URL, { message: 'commit must be base64url' })
  commit: string;

  @ApiPropertyOptional({ description: 'MLSMessage(Welcome) for the added devices; released only if the commit is accepted' })
  @IsOptional()
  @IsString()
  @Matches(B64URL, { message: 'welcome must be base64url' })
  welcome?: string;

  @ApiPropertyOptional({ type: [String], description: 'Devices this commit adds (they receive the Welcome)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  addDevices?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Devices this commit removes' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  removeDevices?: string[];
}

export class GroupMessageDto {
  @ApiProperty() @IsUUID() clientMessageId: string;

  @ApiProperty({ description: 'MLSMessage (application or proposal), base64url' })
  @IsString()
  @Matches(B64URL, { message: 'message must be base64url' })
  message: string;
}
