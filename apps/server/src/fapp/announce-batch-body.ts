import { decodeAnnounceBatch } from '@qpc/fapp';
import { BASE64URL, BASE64URL_MESSAGE, unknownProperties } from '../common/dto.js';
import type { FieldProblem } from '../common/server-error.js';
import { invalidRequest } from '../common/validation.js';

/** One item of a batch: at most this many base64url characters in JSON, or bytes in protobuf (the same size). */
export const ANNOUNCE_BATCH_ITEM_MAX_CHARS = 48_000;
export const ANNOUNCE_BATCH_ITEM_MAX_BYTES = (ANNOUNCE_BATCH_ITEM_MAX_CHARS / 4) * 3;

/** A parsed `POST /fapp/announces/batch` body: each item's bytes, in request order, each in a buffer of its own. */
export interface AnnounceBatchBody {
  announces: Uint8Array[];
}

/**
 * Parses the batch body in either form (`PARSE` of `PostAnnounceBatchDto`):
 * - `application/json` `{announces: [base64url…]}`: a non-empty list of base64url strings of at
 *   most 48 000 characters, and no other property;
 * - `application/protobuf` `FappAnnounceBatch` (a Buffer from the content-type parser): bytes the
 *   decoder rejects are FappError MALFORMED (400 `fapp.malformed`); a non-empty list of items of
 *   at most 36 000 bytes.
 * Anything else is 400 `request.invalid`. The count and total-size limits are the service's.
 */
export function parseAnnounceBatch(value: unknown): AnnounceBatchBody {
  return value instanceof Uint8Array ? fromProtobuf(value) : fromJson(value);
}

function fromProtobuf(body: Uint8Array): AnnounceBatchBody {
  // The body limit bounds the bytes; the service's count and size limits answer with their own codes.
  const items = decodeAnnounceBatch(body);
  if (items.length === 0) throw invalidRequest([{ field: 'announces', messages: ['announces must contain at least 1 item'] }]);
  const problems: FieldProblem[] = [];
  items.forEach((item, i) => {
    if (item.byteLength > ANNOUNCE_BATCH_ITEM_MAX_BYTES) problems.push({ field: `announces.${i}`, messages: [`each item of announces must be at most ${ANNOUNCE_BATCH_ITEM_MAX_BYTES} bytes`] });
  });
  if (problems.length > 0) throw invalidRequest(problems);
  // The decoder's items are views into the whole body: copies, so that what the server keeps of
  // one announce (its caches, the search index) does not keep the request's buffer alive.
  return { announces: items.map((item) => item.slice()) };
}

function fromJson(value: unknown): AnnounceBatchBody {
  const body = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const problems = unknownProperties(body, ['announces']);
  const list = body['announces'];
  if (!Array.isArray(list)) problems.push({ field: 'announces', messages: ['announces must be an array'] });
  else if (list.length === 0) problems.push({ field: 'announces', messages: ['announces must contain at least 1 item'] });
  else {
    list.forEach((item: unknown, i) => {
      const message =
        typeof item !== 'string'
          ? 'each item of announces must be a string'
          : item.length > ANNOUNCE_BATCH_ITEM_MAX_CHARS
            ? `each item of announces must be shorter than or equal to ${ANNOUNCE_BATCH_ITEM_MAX_CHARS} characters`
            : BASE64URL.test(item)
              ? undefined
              : `each item of announces ${BASE64URL_MESSAGE}`;
      if (message) problems.push({ field: `announces.${i}`, messages: [message] });
    });
  }
  if (problems.length > 0) throw invalidRequest(problems);
  // A buffer of its own per item (Buffer.from would share its pool's slab among small ones).
  return { announces: (list as string[]).map((item) => new Uint8Array(Buffer.from(item, 'base64url'))) };
}
