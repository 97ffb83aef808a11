import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { USERNAME } from '../accounts/accounts.dto.js';
import { BASE64URL as B64URL } from '../common/dto.js';


export class UploadKeyPackagesDto {
  @ApiProperty({ type: [String], description: 'MLSMessage(mls_key_package) each, base64url; signed with the device key' })
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(22_000, { each: true })
  @Matches(B64URL, { each: true, message: 'each key package must be base64url' })
  keyPackages: string[];

  @ApiPropertyOptional({ description: 'Replaces the last-resort package, handed out (and kept) when the one-time ones run out' })
  @IsOptional()
  @IsString()
  @MaxLength(22_000)
  @Matches(B64URL, { message: 'lastResort must be base64url' })
  lastResort?: string;
}

export class ClaimKeyPackagesDto {
  @ApiProperty() @Matches(USERNAME, { message: 'username is not valid' }) username: string;
}
