import { create, toBinary } from '@bufbuild/protobuf';
import { FappAnnounceBatchSchema } from '@qpc/proto';
import { decodeMessage } from './codec.js';
import { ANNOUNCE_BATCH_MAX_BYTES, ANNOUNCE_BATCH_MAX_COUNT } from './limits.js';

/**
 * Many signed announces as one `FappAnnounceBatch` (spec §2.9): the protobuf body of the
 * server's batch endpoint (§13.1). Each item is FappSigned(SlotAnnounce) bytes exactly as signed.
 */
export function encodeAnnounceBatch(announces: readonly Uint8Array[]): Uint8Array {
  return toBinary(FappAnnounceBatchSchema, create(FappAnnounceBatchSchema, { announces: [...announces] }));
}

/**
 * The items of a `FappAnnounceBatch`, as views into `bytes`; bytes the decoder rejects are
 * MALFORMED. The caller bounds `bytes` (the server: its body limit), and the items are checked
 * as announces, one by one, afterwards.
 */
export function decodeAnnounceBatch(bytes: Uint8Array): Uint8Array[] {
  return decodeMessage(FappAnnounceBatchSchema, bytes, Number.POSITIVE_INFINITY).announces;
}

/**
 * Splits announces into batches within the limits (at most ANNOUNCE_BATCH_MAX_COUNT items and
 * ANNOUNCE_BATCH_MAX_BYTES in all), in order. Each announce must be at most MAX_MESSAGE_BYTES
 * (no server accepts a larger one), so that every batch fits.
 */
export function announceBatches(announces: readonly Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let size = 0;
  for (const a of announces) {
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
