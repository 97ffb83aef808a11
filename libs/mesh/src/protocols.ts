/** libp2p protocol ids and frame limits of the mesh's request/response protocols. */
export const FAPP_QUERY_PROTOCOL = '/qpc/fapp/query/1';
export const FAPP_SYNC_PROTOCOL = '/qpc/fapp/sync/1';
export const SAF_PROTOCOL = '/qpc/saf/1';

export const MAX_QUERY_FRAME_BYTES = 4 * 1024;
export const MAX_SYNC_REQUEST_BYTES = 256;
/** Replies carry signed announces (~1.5–3 KB each): a page of 128 plus room. */
export const MAX_REPLY_FRAME_BYTES = 4 * 1024 * 1024;
export const MAX_SAF_REQUEST_BYTES = 70 * 1024;
export const MAX_SAF_ACK_BYTES = 4 * 1024;
export const DEFAULT_SYNC_PAGE = 128;
export const MAX_SYNC_PAGE = 256;
export const DEFAULT_SAF_FETCH = 64;
/** A fetch proof is valid this long either side of the serving node's clock. */
export const SAF_PROOF_WINDOW_MS = 5 * 60_000;
export const FRAME_TIMEOUT_MS = 10_000;
