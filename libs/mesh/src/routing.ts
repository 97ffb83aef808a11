import { create } from '@bufbuild/protobuf';
import { meshAddress, sign, toHex, verify, type SigningKeyPair } from '@qpc/crypto';
import { MeshCapability, NodeAnnounceBodySchema, NodeAnnounceSchema } from '@qpc/proto';
import { decodeMesh, encodeMesh, expectLength, meshSigningInput, u64 } from './codec.js';
import { MeshError, meshFail } from './errors.js';

export const MAX_NODE_ANNOUNCE_BYTES = 512;
export const MAX_ROUTE_HOPS = 16;
export const MAX_NODE_ANNOUNCE_TTL_MS = 24 * 3600_000;
/** An origin's announces are accepted at most this often (higher sequences in between are dropped). */
export const DEFAULT_ANNOUNCE_MIN_INTERVAL_MS = 10_000;
const TAG = 'node-announce';
const CLOCK_SKEW_MS = 5 * 60_000;
const KNOWN_CAPABILITIES = MeshCapability.THERAPIST | MeshCapability.RELAY | MeshCapability.PATIENT | MeshCapability.BRIDGE;

export interface NodeAnnounceInput {
  node: SigningKeyPair;
  capabilities: number;
  sequence: number;
  nowMs: number;
  ttlMs: number;
}

export function createNodeAnnounce(input: NodeAnnounceInput): Uint8Array {
  if ((input.capabilities & ~KNOWN_CAPABILITIES) !== 0) meshFail('MALFORMED', 'unknown capability bits');
  if (!Number.isSafeInteger(input.sequence) || input.sequence < 0) meshFail('MALFORMED', 'sequence must be a non-negative integer');
  if (input.ttlMs <= 0 || input.ttlMs > MAX_NODE_ANNOUNCE_TTL_MS) meshFail('MALFORMED', 'ttlMs must be 1 ms .. 24 h');
  const body = encodeMesh(
    NodeAnnounceBodySchema,
    create(NodeAnnounceBodySchema, {
      nodeKey: input.node.publicKey,
      capabilities: input.capabilities,
      sequence: BigInt(input.sequence),
      issuedAtMs: BigInt(input.nowMs),
      expiresAtMs: BigInt(input.nowMs + input.ttlMs),
    }),
  );
  const signature = sign(input.node.secretKey, meshSigningInput(TAG, body));
  return encodeMesh(NodeAnnounceSchema, create(NodeAnnounceSchema, { body, signature, hopCount: 0 }));
}

export interface VerifiedNodeAnnounce {
  nodeKey: Uint8Array;
  /** Hex of the node's 16-byte mesh address. */
  addressHex: string;
  capabilities: number;
  sequence: number;
  issuedAtMs: number;
  expiresAtMs: number;
  hopCount: number;
}

export function verifyNodeAnnounce(bytes: Uint8Array, nowMs: number): VerifiedNodeAnnounce {
  const a = decodeMesh(NodeAnnounceSchema, bytes, MAX_NODE_ANNOUNCE_BYTES);
  const b = decodeMesh(NodeAnnounceBodySchema, a.body, MAX_NODE_ANNOUNCE_BYTES);
  expectLength(b.nodeKey, 32, 'node_key', 'INVALID_KEY');
  if (a.signature.length !== 64) meshFail('BAD_SIGNATURE', 'signature must be 64 bytes');
  let ok: boolean;
  try {
    ok = verify(b.nodeKey, meshSigningInput(TAG, a.body), a.signature);
  } catch {
    ok = false;
  }
  if (!ok) meshFail('BAD_SIGNATURE', 'node announce signature does not verify');
  if ((b.capabilities & ~KNOWN_CAPABILITIES) !== 0) meshFail('MALFORMED', 'unknown capability bits');
  const issuedAtMs = u64(b.issuedAtMs, 'issued_at_ms');
  const expiresAtMs = u64(b.expiresAtMs, 'expires_at_ms');
  if (issuedAtMs > nowMs + CLOCK_SKEW_MS) meshFail('MALFORMED', 'issued_at is in the future');
  if (expiresAtMs <= issuedAtMs || expiresAtMs - issuedAtMs > MAX_NODE_ANNOUNCE_TTL_MS) meshFail('MALFORMED', 'lifetime must be 1 ms .. 24 h');
  if (expiresAtMs <= nowMs) meshFail('TTL_EXPIRED', 'node announce has expired');
  if (a.hopCount > MAX_ROUTE_HOPS) meshFail('HOP_LIMIT', `hop_count ${a.hopCount} exceeds ${MAX_ROUTE_HOPS}`);
  return {
    nodeKey: b.nodeKey,
    addressHex: toHex(meshAddress(b.nodeKey)),
    capabilities: b.capabilities,
    sequence: u64(b.sequence, 'sequence'),
    issuedAtMs,
    expiresAtMs,
    hopCount: a.hopCount,
  };
}

/** The same announce one hop further (hop_count + 1), or HOP_LIMIT. */
export function forwardNodeAnnounce(bytes: Uint8Array): Uint8Array {
  const a = decodeMesh(NodeAnnounceSchema, bytes, MAX_NODE_ANNOUNCE_BYTES);
  if (a.hopCount + 1 > MAX_ROUTE_HOPS) meshFail('HOP_LIMIT', `hop_count would exceed ${MAX_ROUTE_HOPS}`);
  return encodeMesh(NodeAnnounceSchema, create(NodeAnnounceSchema, { body: a.body, signature: a.signature, hopCount: a.hopCount + 1 }));
}

export function hasCapability(capabilities: number, c: MeshCapability): boolean {
  return (capabilities & c) === c;
}

export interface Route {
  addressHex: string;
  nodeKey: Uint8Array;
  capabilities: number;
  sequence: number;
  /** Hops to the destination through `nextHop` (1 = direct neighbour). */
  hops: number;
  /** The neighbour (libp2p peer id, or a link name) the announce came from. */
  nextHop: string;
  expiresAtMs: number;
  /** When the origin's last announce was accepted (rate limit). */
  acceptedAtMs: number;
}

export interface RoutingTable {
  readonly routes: ReadonlyMap<string, Route>;
}

export function emptyRoutingTable(): RoutingTable {
  return { routes: new Map() };
}

export type RouteUpdate =
  /** New destination, newer sequence, or same sequence over fewer hops: forward the announce. */
  | { kind: 'accepted'; table: RoutingTable; route: Route; previous: Route | undefined }
  /** Known already (same sequence, not shorter): do not forward. */
  | { kind: 'duplicate'; table: RoutingTable }
  | { kind: 'rejected'; table: RoutingTable; error: MeshError };

export interface RouteUpdateOptions {
  nowMs: number;
  /** Neighbour the announce arrived from. */
  from: string;
  /** Our own address: announces of ourselves never become routes. */
  selfHex?: string;
  minIntervalMs?: number;
}

/**
 * Destination-sequenced distance vector (DSDV): a higher sequence always wins, an equal
 * sequence only over fewer hops. Because hop counts of one sequence only shrink, a route
 * can never point back through a node that learned it from us: no loops, no count-to-infinity.
 */
export function applyNodeAnnounce(table: RoutingTable, bytes: Uint8Array, opts: RouteUpdateOptions): RouteUpdate {
  let v: VerifiedNodeAnnounce;
  try {
    v = verifyNodeAnnounce(bytes, opts.nowMs);
  } catch (e) {
    if (e instanceof MeshError) return { kind: 'rejected', table, error: e };
    throw e;
  }
  if (v.addressHex === opts.selfHex) return { kind: 'duplicate', table };
  const hops = v.hopCount + 1;
  const prev = table.routes.get(v.addressHex);
  if (prev && prev.expiresAtMs > opts.nowMs) {
    if (v.sequence < prev.sequence) return { kind: 'rejected', table, error: new MeshError('STALE_SEQUENCE', `sequence ${v.sequence} is below ${prev.sequence}`) };
    if (v.sequence === prev.sequence && hops >= prev.hops) return { kind: 'duplicate', table };
    const minInterval = opts.minIntervalMs ?? DEFAULT_ANNOUNCE_MIN_INTERVAL_MS;
    if (v.sequence > prev.sequence && opts.nowMs - prev.acceptedAtMs < minInterval) {
      return { kind: 'rejected', table, error: new MeshError('RATE_LIMITED', 'origin announced too often') };
    }
  }
  const route: Route = {
    addressHex: v.addressHex,
    nodeKey: v.nodeKey,
    capabilities: v.capabilities,
    sequence: v.sequence,
    hops,
    nextHop: opts.from,
    expiresAtMs: v.expiresAtMs,
    acceptedAtMs: prev && v.sequence === prev.sequence ? prev.acceptedAtMs : opts.nowMs,
  };
  const routes = new Map(table.routes);
  routes.set(v.addressHex, route);
  return { kind: 'accepted', table: { routes }, route, previous: prev };
}

/** Drops expired routes and every route through a neighbour that went away. */
export function pruneRoutes(table: RoutingTable, nowMs: number, lostNeighbour?: string): RoutingTable {
  const routes = new Map<string, Route>();
  for (const [k, r] of table.routes) if (r.expiresAtMs > nowMs && r.nextHop !== lostNeighbour) routes.set(k, r);
  return { routes };
}

/** The live route to an address, or undefined. */
export function lookupRoute(table: RoutingTable, addressHex: string, nowMs: number): Route | undefined {
  const r = table.routes.get(addressHex);
  return r && r.expiresAtMs > nowMs ? r : undefined;
}

/** Live destinations offering a capability, nearest first. */
export function routesWithCapability(table: RoutingTable, c: MeshCapability, nowMs: number): Route[] {
  return [...table.routes.values()].filter((r) => r.expiresAtMs > nowMs && hasCapability(r.capabilities, c)).sort((a, b) => a.hops - b.hops);
}
