import { applyDecorators } from '@nestjs/common';
import { IsString, Matches, MaxLength } from 'class-validator';
import type { FieldProblem } from './server-error.js';
import { invalidRequest } from './validation.js';

/** base64url (RFC 4648 §5) without padding: how binary values travel in request bodies. */
export const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const BASE64URL_MESSAGE = 'must be base64url (RFC 4648 §5, no padding)';

/** A required base64url string field of at most `maxLength` characters. */
export function IsBase64Url(maxLength: number): PropertyDecorator {
  return applyDecorators(IsString(), MaxLength(maxLength), Matches(BASE64URL, { message: `$property ${BASE64URL_MESSAGE}` }));
}

/**
 * A `PARSE` function (see validation.ts) for a JSON body of required base64url fields, each
 * with its maximum length: the rules of `IsBase64Url` on each field, and no other property, as
 * the pipe's whitelist has it, without class-validator. For a hot route (an announce's POST).
 */
export function base64UrlBody<K extends string>(maxLengths: Readonly<Record<K, number>>): (value: unknown) => Record<K, string> {
  const names = Object.keys(maxLengths) as K[];
  return (value) => {
    const body = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    const problems: FieldProblem[] = [];
    for (const name of names) {
      const v = body[name];
      const max = maxLengths[name];
      const message =
        typeof v !== 'string'
          ? `${name} must be a string`
          : v.length > max
            ? `${name} must be shorter than or equal to ${max} characters`
            : BASE64URL.test(v)
              ? undefined
              : `${name} ${BASE64URL_MESSAGE}`;
      if (message) problems.push({ field: name, messages: [message] });
    }
    problems.push(...unknownProperties(body, names));
    if (problems.length > 0) throw invalidRequest(problems);
    return Object.fromEntries(names.map((n) => [n, body[n]])) as Record<K, string>;
  };
}

/** One problem per property of a JSON body that is not one of `known` (the pipe's whitelist rule). */
export function unknownProperties(body: Record<string, unknown>, known: readonly string[]): FieldProblem[] {
  return Object.keys(body)
    .filter((key) => !known.includes(key))
    .map((key) => ({ field: key, messages: [`property ${key} should not exist`] }));
}
