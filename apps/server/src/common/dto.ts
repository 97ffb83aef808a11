import { applyDecorators } from '@nestjs/common';
import { IsString, Matches, MaxLength } from 'class-validator';

/** base64url (RFC 4648 §5) without padding: how binary values travel in request bodies. */
export const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A required base64url string field of at most `maxLength` characters. */
export function IsBase64Url(maxLength: number): PropertyDecorator {
  return applyDecorators(IsString(), MaxLength(maxLength), Matches(BASE64URL, { message: '$property must be base64url (RFC 4648 §5, no padding)' }));
}
