import { ServerError } from './server-error.js';

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes a base64url field of a request; a bad value is a 400 naming the field. */
export function b64urlField(value: string, field: string): Uint8Array {
  if (!B64URL.test(value)) throw new ServerError('request.invalid', 400, `${field} is not base64url`, { errors: [{ field, messages: ['must be base64url'] }] });
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

export function toB64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
