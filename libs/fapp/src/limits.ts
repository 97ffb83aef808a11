/** Protocol limits. The spec's limits table lists the same numbers. */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Largest FappSigned envelope (or other top-level FAPP message) accepted, in bytes. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
export const MAX_SLOTS = 256;
export const MAX_LANGUAGES = 16;
export const MAX_PROFILE_URL_LENGTH = 256;
export const MAX_DISPLAY_NAME_LENGTH = 80;
export const MAX_HOPS = 16;

export const DEFAULT_ANNOUNCE_TTL_MS = 7 * DAY_MS;
export const MAX_ANNOUNCE_TTL_MS = 30 * DAY_MS;
/** Tolerated clock difference for `issued_at` in the future. */
export const MAX_CLOCK_SKEW_MS = 5 * MINUTE_MS;
/** Slots may start at most this far after `issued_at`. */
export const MAX_SLOT_HORIZON_MS = 180 * DAY_MS;
export const SLOT_DURATIONS_MINUTES: readonly number[] = [25, 50, 100];
export const MIN_GROUP_SIZE = 3;
export const MAX_GROUP_SIZE = 9;

export const ID_BYTES = 16;
/** SlotAnnounce.mesh_address: SHA-256(node key)[0..16] of the therapist's mesh node. */
export const MESH_ADDRESS_BYTES = 16;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const XWING_PUBLIC_KEY_BYTES = 1216;
export const COMMITMENT_BYTES = 32;
export const LICENCE_SALT_BYTES = 32;
export const MAX_LICENCE_NUMBER_LENGTH = 64;
export const MAX_REVOKED_PER_LIST = 100_000;
/** Revocation lists may be larger than other messages. */
export const MAX_REVOCATION_LIST_BYTES = 2 * 1024 * 1024;

/** One batch of announces (the server's batch endpoint, spec §13.1): items, and their bytes in all. */
export const ANNOUNCE_BATCH_MAX_COUNT = 200;
export const ANNOUNCE_BATCH_MAX_BYTES = 512 * 1024;

export const DEFAULT_QUERY_LIMIT = 50;
export const MAX_QUERY_LIMIT = 500;
export const MAX_QUERY_FILTER_VALUES = 16;

/** Mailbox capability length (256 bits; the spec requires at least 128). */
export const MAILBOX_CAPABILITY_BYTES = 32;
export const MAILBOX_ID_BYTES = 32;
export const MAX_CONTACT_BYTES = 256;
export const MAX_RESERVATION_MESSAGE_BYTES = 2000;
export const MAX_REPLY_MESSAGE_BYTES = 1000;
/** Every sealed reservation plaintext is padded to this many bytes. */
export const RESERVATION_PAD_BYTES = 4096;
/** Every sealed reply plaintext is padded to this many bytes. */
export const REPLY_PAD_BYTES = 1280;

/** Proof-of-work stamp time window; a stamp is valid in its window and the next one. */
export const STAMP_WINDOW_MS = 10 * MINUTE_MS;
export const DEFAULT_STAMP_DIFFICULTY_BITS = 18;
export const MAX_STAMP_BYTES = 64;

/** How long a reserved slot stays held while the therapist has not answered. */
export const DEFAULT_HOLD_TTL_MS = 15 * MINUTE_MS;
