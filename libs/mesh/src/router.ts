import { forwardMeshEnvelope, openMeshEnvelope, type OpenedEnvelope } from './envelope.js';
import { MeshError } from './errors.js';
import {
  applyNodeAnnounce,
  emptyRoutingTable,
  forwardNodeAnnounce,
  lookupRoute,
  pruneRoutes,
  type Route,
  type RouteUpdateOptions,
  type RoutingTable,
} from './routing.js';

/** Why an envelope was not passed on. Labels of the `envelopes_dropped_total` metric. */
export type DropReason = 'duplicate' | 'hop-limit' | 'expired' | 'bad-signature' | 'malformed' | 'no-route' | 'queue-full';

/** What the router did with an envelope. */
export type RouteDecision =
  | { kind: 'deliver'; opened: OpenedEnvelope }
  | { kind: 'forward'; opened: OpenedEnvelope; nextHop: string; bytes: Uint8Array; route: Route }
  | { kind: 'store'; opened: OpenedEnvelope }
  | { kind: 'drop'; reason: DropReason; opened?: OpenedEnvelope; error?: MeshError };

/** Content ids are remembered until the envelope expires, at most this many. */
export const MAX_SEEN_ENVELOPES = 100_000;

export function dropReasonOf(e: MeshError): DropReason {
  switch (e.code) {
    case 'HOP_LIMIT':
      return 'hop-limit';
    case 'TTL_EXPIRED':
      return 'expired';
    case 'BAD_SIGNATURE':
    case 'INVALID_KEY':
      return 'bad-signature';
    case 'QUEUE_FULL':
      return 'queue-full';
    default:
      return 'malformed';
  }
}

/**
 * The sans-IO half of multi-hop routing: a routing table fed by node announces (DSDV, see
 * routing.ts) and a content-id memory. `decide` says what to do with one envelope; the
 * libp2p half (MeshNode) carries the bytes. Loop avoidance is twofold: a content id seen
 * once is never forwarded again, and every hop raises hop_count, which may not pass max_hops.
 */
export class MeshRouter {
  table: RoutingTable = emptyRoutingTable();
  /** Announce bytes as received per destination (to hand on to new neighbours). */
  private readonly announces = new Map<string, Uint8Array>();
  private readonly seen = new Map<string, number>();

  private readonly maxSeen: number;

  constructor(
    readonly selfHex: string,
    opts: { maxSeen?: number } = {},
  ) {
    this.maxSeen = opts.maxSeen ?? MAX_SEEN_ENVELOPES;
  }

  /** Applies a node announce from neighbour `from`; returns the bytes to flood on (hop + 1) if it was news. */
  applyAnnounce(bytes: Uint8Array, opts: Omit<RouteUpdateOptions, 'selfHex'>): { accepted: boolean; forward?: Uint8Array; route?: Route; error?: MeshError } {
    const r = applyNodeAnnounce(this.table, bytes, { ...opts, selfHex: this.selfHex });
    if (r.kind === 'rejected') return { accepted: false, error: r.error };
    if (r.kind === 'duplicate') return { accepted: false };
    this.table = r.table;
    this.announces.set(r.route.addressHex, bytes);
    let forward: Uint8Array | undefined;
    try {
      forward = forwardNodeAnnounce(bytes);
    } catch {
      forward = undefined; // at the hop limit: kept as a route, not flooded further
    }
    return forward ? { accepted: true, route: r.route, forward } : { accepted: true, route: r.route };
  }

  /**
   * Announces to hand a new neighbour: every live route not learnt from that neighbour
   * (split horizon), one hop further.
   */
  announcesFor(neighbour: string, nowMs: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [addr, r] of this.table.routes) {
      if (r.nextHop === neighbour || r.expiresAtMs <= nowMs) continue;
      const b = this.announces.get(addr);
      if (!b) continue;
      try {
        out.push(forwardNodeAnnounce(b));
      } catch {
        // at the hop limit
      }
    }
    return out;
  }

  /** Drops expired routes and those through a neighbour that went away. */
  prune(nowMs: number, lostNeighbour?: string): void {
    this.table = pruneRoutes(this.table, nowMs, lostNeighbour);
    for (const addr of this.announces.keys()) if (!this.table.routes.has(addr)) this.announces.delete(addr);
    for (const [id, until] of this.seen) if (until <= nowMs) this.seen.delete(id);
  }

  route(addressHex: string, nowMs: number): Route | undefined {
    return lookupRoute(this.table, addressHex, nowMs);
  }

  /**
   * Decides what to do with envelope bytes: deliver (addressed to us), forward (a live
   * route whose next hop `isConnected`), store (no usable route: keep for the recipient),
   * or drop (invalid, duplicate, hop limit).
   */
  decide(bytes: Uint8Array, nowMs: number, isConnected: (peer: string) => boolean): RouteDecision {
    let opened: OpenedEnvelope;
    try {
      opened = openMeshEnvelope(bytes, nowMs);
    } catch (e) {
      if (e instanceof MeshError) return { kind: 'drop', reason: dropReasonOf(e), error: e };
      throw e;
    }
    if (this.seen.has(opened.contentIdHex)) return { kind: 'drop', reason: 'duplicate', opened };
    this.remember(opened, nowMs);
    if (opened.recipientHex === this.selfHex) return { kind: 'deliver', opened };
    const route = this.route(opened.recipientHex, nowMs);
    if (!route || !isConnected(route.nextHop)) return { kind: 'store', opened };
    let next: Uint8Array;
    try {
      next = forwardMeshEnvelope(opened);
    } catch (e) {
      if (e instanceof MeshError) return { kind: 'drop', reason: 'hop-limit', opened, error: e };
      throw e;
    }
    return { kind: 'forward', opened, nextHop: route.nextHop, bytes: next, route };
  }

  hasSeen(contentIdHex: string): boolean {
    return this.seen.has(contentIdHex);
  }

  private remember(o: OpenedEnvelope, nowMs: number): void {
    if (this.seen.size >= this.maxSeen) {
      this.prune(nowMs);
      // Still full of live ids: forget the oldest inserted.
      while (this.seen.size >= this.maxSeen) this.seen.delete(this.seen.keys().next().value as string);
    }
    this.seen.set(o.contentIdHex, o.expiresAtMs);
  }
}
