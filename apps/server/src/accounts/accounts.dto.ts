import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsBase64Url } from '../common/dto.js';

export const USERNAME = /^[a-z0-9][a-z0-9_.-]{2,31}$/;
const USERNAME_MSG = { message: 'username must be 3–32 characters: lowercase letters, digits, _ . -' };

export class NewDeviceDto {
  @ApiProperty({ description: 'A name the user recognises, e.g. "Laptop"' })
  @IsString()
  @MaxLength(64)
  name: string;

  @ApiProperty({ description: "The device's Ed25519 public key (its MLS signature key), base64url" })
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'signingKey must be a 32-byte Ed25519 public key, base64url' })
  signingKey: string;
}

export class RegistrationStartDto {
  @ApiProperty() @Matches(USERNAME, USERNAME_MSG) username: string;

  @ApiProperty({ description: 'opaque.client.startRegistration().registrationRequest' })
  @IsBase64Url(200)
  registrationRequest: string;
}

export class RegistrationFinishDto {
  @ApiProperty() @Matches(USERNAME, USERNAME_MSG) username: string;

  @ApiProperty({ description: 'opaque.client.finishRegistration().registrationRecord' })
  @IsBase64Url(1000)
  registrationRecord: string;

  @ApiProperty({ type: NewDeviceDto, description: 'The first device; the response carries its session' })
  @ValidateNested()
  @Type(() => NewDeviceDto)
  device: NewDeviceDto;
}

export class LoginStartDto {
  @ApiProperty() @Matches(USERNAME, USERNAME_MSG) username: string;

  @ApiProperty({ description: 'opaque.client.startLogin().startLoginRequest' })
  @IsBase64Url(200)
  startLoginRequest: string;
}

export class LoginFinishDto {
  @ApiProperty() @IsUUID() loginId: string;

  @ApiProperty({ description: 'opaque.client.finishLogin().finishLoginRequest' })
  @IsBase64Url(400)
  finishLoginRequest: string;

  @ApiPropertyOptional({ type: NewDeviceDto, description: 'Register a new device and bind the session to it' })
  @IsOptional()
  @ValidateNested()
  @Type(() => NewDeviceDto)
  device?: NewDeviceDto;

  @ApiPropertyOptional({ description: 'Or: an existing device of the account …' })
  @IsOptional()
  @IsUUID()
  deviceId?: string;

  @ApiPropertyOptional({ description: "… proven by its key: Ed25519 signature over 'qpc-device-login-v1:' + loginId, base64url" })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{86}$/, { message: 'deviceSignature must be a 64-byte signature, base64url' })
  deviceSignature?: string;
}
