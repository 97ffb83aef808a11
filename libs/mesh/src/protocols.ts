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

/** Node announces flooded hop by hop (routing table); one announce per frame, many per stream. */
export const NODE_ANNOUNCE_PROTOCOL = '/qpc/node-announce/1';
/** Envelope relay: one MeshEnvelope frame, answered by SafReply {deposited | failure}. */
export const ROUTE_PROTOCOL = '/qpc/route/1';
/** Announces one stream may carry (a full routing table dump to a new neighbour). */
export const MAX_ANNOUNCES_PER_STREAM = 1024;
/** kad-dht key prefix for a node's announce, looked up by mesh address: /qpc-node/<32 hex>. */
export const DHT_NODE_KEY_PREFIX = '/qpc-node/';
