import { create, toBinary } from '@bufbuild/protobuf';
import { FappAnnounceBatchSchema } from '@qpc/proto';
import { decodeMessage } from './codec.js';
import { fail } from './errors.js';
import { ANNOUNCE_BATCH_MAX_BYTES, ANNOUNCE_BATCH_MAX_COUNT, MAX_MESSAGE_BYTES } from './limits.js';

/**
 * Many signed announces as one `FappAnnounceBatch` (spec §2.9): the protobuf body of the
 * server's batch endpoint (§13.1). Each item is FappSigned(SlotAnnounce) bytes exactly as signed.
 */
export function encodeAnnounceBatch(announces: readonly Uint8Array[]): Uint8Array {
  return toBinary(FappAnnounceBatchSchema, create(FappAnnounceBatchSchema, { announces: [...announces] }));
}

/**
 * The items of a `FappAnnounceBatch`, as views into `bytes`. Bytes the decoder rejects are
 * MALFORMED; a body larger than any batch the limits allow (`maxBytes`, by default the items'
 * total limit plus their framing) is TOO_LARGE. The items themselves are not checked here.
 */
export function decodeAnnounceBatch(bytes: Uint8Array, maxBytes = ANNOUNCE_BATCH_MAX_BYTES + ANNOUNCE_BATCH_MAX_COUNT * 8): Uint8Array[] {
  return decodeMessage(FappAnnounceBatchSchema, bytes, maxBytes).announces;
}

/**
 * Splits announces into batches within the limits (at most ANNOUNCE_BATCH_MAX_COUNT items and
 * ANNOUNCE_BATCH_MAX_BYTES in all), in order. An announce over MAX_MESSAGE_BYTES can never be
 * accepted: it is TOO_LARGE here rather than a rejected item later.
 */
export function announceBatches(announces: readonly Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let size = 0;
  for (const a of announces) {
    if (a.byteLength > MAX_MESSAGE_BYTES) fail('TOO_LARGE', `announce of ${a.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}`);
    if (current.length === ANNOUNCE_BATCH_MAX_COUNT || size + a.byteLength > ANNOUNCE_BATCH_MAX_BYTES) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(a);
    size += a.byteLength;
  }
  if (current.length > 0) out.push(current);
  return out;
}
