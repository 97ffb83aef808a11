import { describe, expect, it } from 'vitest';
import { base64UrlBody } from './dto.js';
import { ServerError } from './server-error.js';

const parse = base64UrlBody({ announce: 8, extra: 4 });

/** The fields a body is refused for, with their messages. */
function problems(body: unknown): { field: string; messages: string[] }[] {
  try {
    parse(body);
  } catch (e) {
    expect(e).toBeInstanceOf(ServerError);
    expect((e as ServerError).code).toBe('request.invalid');
    expect((e as ServerError).status).toBe(400);
    return (e as ServerError).extra.errors as { field: string; messages: string[] }[];
  }
  return [];
}

describe('base64UrlBody', () => {
  it('takes a body of its base64url fields', () => {
    expect(parse({ announce: 'AQID_-x', extra: 'AA' })).toEqual({ announce: 'AQID_-x', extra: 'AA' });
  });

  it('keeps each field within its maximum length', () => {
    expect(parse({ announce: 'A'.repeat(8), extra: 'A'.repeat(4) })).toEqual({ announce: 'A'.repeat(8), extra: 'A'.repeat(4) });
    expect(problems({ announce: 'A'.repeat(9), extra: 'A'.repeat(5) })).toEqual([
      { field: 'announce', messages: ['announce must be shorter than or equal to 8 characters'] },
      { field: 'extra', messages: ['extra must be shorter than or equal to 4 characters'] },
    ]);
  });

  it('refuses what is not base64url without padding', () => {
    for (const v of ['', 'AQ==', 'a+b/', 'a b', 'ä']) expect(problems({ announce: v, extra: 'AA' }), v).toEqual([{ field: 'announce', messages: ['announce must be base64url (RFC 4648 §5, no padding)'] }]);
  });

  it('refuses missing and non-string fields, other properties, and bodies that are not objects', () => {
    expect(problems({ extra: 'AA' }).map((p) => p.field)).toEqual(['announce']);
    expect(problems({ announce: 5, extra: ['AA'] })).toEqual([
      { field: 'announce', messages: ['announce must be a string'] },
      { field: 'extra', messages: ['extra must be a string'] },
    ]);
    expect(problems({ announce: 'AA', extra: 'AA', hop: 1 })).toEqual([{ field: 'hop', messages: ['property hop should not exist'] }]);
    for (const body of [undefined, null, 'AA', ['AA'], 7]) expect(problems(body).map((p) => p.field), String(body)).toEqual(['announce', 'extra']);
  });
});
