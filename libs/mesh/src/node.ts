import './polyfill.js';
import { create } from '@bufbuild/protobuf';
import { noise } from '@chainsafe/libp2p-noise';
import { gossipsub, TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub';
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Connection, PeerId, PeerInfo, Stream } from '@libp2p/interface';
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht';
import { mdns } from '@libp2p/mdns';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { meshAddress, randomBytes, sha256, sign, signingKeyPairFromSeed, toHex, utf8, verify, type SigningKeyPair } from '@qpc/crypto';
import {
  announcesForPrefix,
  buildSlotResponse,
  decodeQuery,
  emptyAnnounceStore,
  FappError,
  ingestVerified,
  isValidPlzPrefix,
  matchSlots,
  MAX_ANNOUNCE_TTL_MS,
  pruneExpired,
  verifyAnnounce,
  type AnnounceRecord,
  type AnnounceStore,
  type TrustStore,
} from '@qpc/fapp';
import {
  FappQueryReplySchema,
  FappSyncReplySchema,
  FappSyncRequestSchema,
  MeshCapability,
  MeshFailureSchema,
  SafAckSchema,
  SafReplySchema,
  SafRequestSchema,
  SlotQuerySchema,
  type SlotQuery,
  type SlotResponse,
} from '@qpc/proto';
import { createLibp2p, type Libp2p } from 'libp2p';
import { decodeMesh, encodeMesh, meshSigningInput, u64, u64be } from './codec.js';
import { CHANNEL_CLOCK_WINDOW_MS, channelId, channelIdOfTopic, channelTopic, checkChannelFrame, openChannelMessage, sealChannelMessage, type ChannelMessage } from './channel.js';
import { forwardMeshEnvelope, MAX_ENVELOPE_BYTES, openMeshEnvelope, type OpenedEnvelope } from './envelope.js';
import { MeshError, meshFail } from './errors.js';
import { FrameChannel } from './frames.js';
import { dropReasonOf, MeshRouter, type DropReason } from './router.js';
import { createNodeAnnounce, MAX_NODE_ANNOUNCE_BYTES, verifyNodeAnnounce, type Route } from './routing.js';
import {
  DEFAULT_SAF_FETCH,
  DHT_NODE_KEY_PREFIX,
  MAX_ANNOUNCES_PER_STREAM,
  NODE_ANNOUNCE_PROTOCOL,
  ROUTE_PROTOCOL,
  DEFAULT_SYNC_PAGE,
  FAPP_QUERY_PROTOCOL,
  FAPP_SYNC_PROTOCOL,
  FRAME_TIMEOUT_MS,
  MAX_QUERY_FRAME_BYTES,
  MAX_REPLY_FRAME_BYTES,
  MAX_SAF_ACK_BYTES,
  MAX_SAF_REQUEST_BYTES,
  MAX_SYNC_PAGE,
  MAX_SYNC_REQUEST_BYTES,
  SAF_PROOF_WINDOW_MS,
  SAF_PROTOCOL,
} from './protocols.js';
import { DEFAULT_SAF_LIMITS, SafQueue, type SafLimits } from './saf-queue.js';
import { fappTopicForPlz, regionOfTopic } from './topics.js';

export interface MeshNodeOptions {
  /** 32-byte identity seed: the libp2p peer id and the mesh signing key both derive from it. */
  identitySeed: Uint8Array;
  /** Default: one loopback TCP port chosen by the OS. `/ws` addresses listen for WebSockets. */
  listen?: string[];
  /** Multiaddrs (with /p2p/) dialled at start and redialled every `bootstrapRetryMs` while not connected. */
  bootstrap?: string[];
  /** Default 30 s. */
  bootstrapRetryMs?: number;
  /** Kademlia DHT (peer routing, nodes by mesh address). Default on. */
  dht?: boolean;
  /** mDNS discovery on the local network (multicast). Default off. */
  mdns?: boolean;
  /**
   * QUIC transport (`@chainsafe/libp2p-quic`, a native module loaded only when asked for).
   * Default off; on when asked here or when a listen or bootstrap address is `/udp/…/quic-v1`.
   */
  quic?: boolean;
  /** Capability flags in this node's NodeAnnounce (default relay). */
  capabilities?: number;
  /** Lifetime of this node's NodeAnnounce; it is renewed at half of it (default 1 h). */
  announceTtlMs?: number;
  /**
   * Take part in multi-hop routing (node announces, envelope relay). Default on; a light
   * client that only fetches its mail from a relay turns it off and stays out of routes.
   */
  routing?: boolean;
  /** Envelopes addressed to this node, after verification. */
  onEnvelope?: (e: OpenedEnvelope) => void;
  /** 2-digit PLZ regions whose FAPP topics this node subscribes to. */
  regions?: string[];
  /**
   * Anti-entropy on every new connection: pull the peer's announces of our regions and gossip
   * the ones that were new to us, so two halves of a healed partition converge (gossipsub
   * does not replay what was published while they were apart). Default off.
   */
  syncOnConnect?: boolean;
  /**
   * Licensing authorities whose attestations count as verified. A function is asked at every
   * announce, so a trust store that changes later (a new revocation list) applies at once.
   */
  trust: TrustStore | (() => TrustStore);
  /** Drop announces without a trusted attestation. */
  verifiedOnly?: boolean;
  now?: () => number;
  /** Gossipsub heartbeat (default 1000 ms; tests use less to form meshes quickly). */
  heartbeatIntervalMs?: number;
  safLimits?: SafLimits;
  /** Queue contents from a previous run (SafQueue.snapshot()). */
  safSnapshot?: Uint8Array;
  /** Structured events for logs and metrics; never carries IP addresses. */
  onEvent?: (e: MeshEvent) => void;
}

export type IngestSource = 'gossip' | 'local' | 'sync' | 'bridge';

export type AnnounceOutcome =
  | { kind: 'accepted'; therapistId: string; sequence: number; plz: string; record: AnnounceRecord }
  | { kind: 'duplicate'; therapistId: string; sequence: number }
  | { kind: 'rejected'; code: string; therapistId?: string };

export type MeshEvent =
  | { type: 'announce'; source: IngestSource; outcome: AnnounceOutcome['kind']; code?: string; therapistId?: string; sequence?: number; from?: string }
  | { type: 'peer'; change: 'connect' | 'disconnect'; peer: string }
  | { type: 'saf'; op: 'deposit' | 'fetch' | 'ack'; ok: boolean; code?: string; count?: number }
  | { type: 'protocol-error'; protocol: string; code: string }
  | { type: 'route'; change: 'added' | 'updated'; address: string; hops: number; nextHop: string }
  | { type: 'envelope'; action: 'delivered' | 'forwarded' | 'stored' | 'dropped'; contentId?: string; reason?: DropReason; to?: string }
  | { type: 'channel'; channel: string; outcome: 'read' | 'relayed' | 'rejected'; code?: string };

export interface SyncResult {
  accepted: number;
  duplicate: number;
  rejected: number;
  pages: number;
}

export interface MeshNodeStats {
  peers: number;
  topics: string[];
  announces: number;
  saf: { recipients: number; envelopes: number; bytes: number };
  counters: Record<'accepted' | 'duplicate' | 'rejected', number>;
  routes: number;
  envelopes: EnvelopeCounters;
  /** Gossipsub message copies received (first copies and duplicates) per topic. */
  gossipReceived: Record<string, number>;
  channels: { joined: number; relayed: number };
}

export interface EnvelopeCounters {
  delivered: number;
  forwarded: number;
  stored: number;
  dropped: Record<DropReason, number>;
}

/** What send() did with an envelope. */
export type SendOutcome = { kind: 'delivered' } | { kind: 'forwarded'; nextHop: string } | { kind: 'stored' } | { kind: 'dropped'; reason: DropReason };

/** A channel this node is a member of. */
export interface ChannelMembership {
  id: string;
  topic: string;
  publish(payload: Uint8Array): Promise<void>;
}

type Target = PeerId | Multiaddr | string;
type Services = { identify: ReturnType<ReturnType<typeof identify>>; ping: ReturnType<ReturnType<typeof ping>>; pubsub: GossipSub; dht?: KadDHT };

/** Node announces for one neighbour queued within this window share one stream. */
const ANNOUNCE_BATCH_MS = 20;

/** Delay after the first connection before the node's announce goes into the DHT. */
const DHT_PUBLISH_DELAY_MS = 1000;

const SERVER_FRAME_LIMITS: Record<string, number> = {
  [SAF_PROTOCOL]: MAX_SAF_REQUEST_BYTES,
  [FAPP_QUERY_PROTOCOL]: MAX_QUERY_FRAME_BYTES,
  [FAPP_SYNC_PROTOCOL]: MAX_SYNC_REQUEST_BYTES,
  [NODE_ANNOUNCE_PROTOCOL]: MAX_NODE_ANNOUNCE_BYTES,
  [ROUTE_PROTOCOL]: MAX_ENVELOPE_BYTES,
};

function emptyDropCounters(): Record<DropReason, number> {
  return { duplicate: 0, 'hop-limit': 0, expired: 0, 'bad-signature': 0, malformed: 0, 'no-route': 0, 'queue-full': 0 };
}

function failureFrom(e: unknown): { code: string; detail: string } {
  if (e instanceof MeshError || e instanceof FappError) return { code: e.code, detail: e.message };
  return { code: 'INTERNAL', detail: 'internal error' };
}

function remoteFailure(f: { code: string; detail: string } | undefined): never {
  return meshFail('REMOTE_FAILURE', `${f?.code ?? 'UNKNOWN'}: ${f?.detail ?? ''}`);
}

/**
 * A quicprochat mesh node: libp2p (TCP + Noise + Yamux, identify, ping, gossipsub) with the
 * FAPP announce store behind gossipsub's topic validator, FAPP query and region-sync
 * protocols, and a store-and-forward queue. Create with createMeshNode().
 */
export class MeshNode {
  store: AnnounceStore = emptyAnnounceStore();
  readonly saf: SafQueue;
  readonly identity: SigningKeyPair;
  readonly address: Uint8Array;
  readonly counters = { accepted: 0, duplicate: 0, rejected: 0 };
  readonly envelopeCounters: EnvelopeCounters = { delivered: 0, forwarded: 0, stored: 0, dropped: emptyDropCounters() };
  readonly gossipReceived: Record<string, number> = {};
  readonly router: MeshRouter;
  private readonly now: () => number;
  private readonly seenNonces = new Map<string, number>();
  private readonly channelSeen = new Map<string, number>();
  private readonly channels = new Map<string, { key: Uint8Array; onMessage: (m: ChannelMessage) => void }>();
  private readonly relayedChannels = new Set<string>();
  private ownAnnounce: Uint8Array | undefined;
  private ownSequence = 0;
  private pruneTimer: NodeJS.Timeout | undefined;
  private announceTimer: NodeJS.Timeout | undefined;
  private bootstrapTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private dhtPublished = false;
  private readonly outbox = new Map<string, { peer: PeerId; announces: Uint8Array[]; done: Promise<void> | undefined }>();
  private dhtTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly libp2p: Libp2p<Services>,
    private readonly opts: MeshNodeOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.identity = signingKeyPairFromSeed(opts.identitySeed);
    this.address = meshAddress(this.identity.publicKey);
    const limits = opts.safLimits ?? DEFAULT_SAF_LIMITS;
    this.saf = opts.safSnapshot ? SafQueue.restore(opts.safSnapshot, this.now(), limits) : new SafQueue(limits);
    this.router = new MeshRouter(toHex(this.address));
  }

  get addressHex(): string {
    return this.router.selfHex;
  }

  /** This node's current signed NodeAnnounce (hop count 0). */
  get nodeAnnounce(): Uint8Array {
    if (!this.ownAnnounce) this.renewAnnounce();
    return this.ownAnnounce!;
  }

  get peerId(): PeerId {
    return this.libp2p.peerId;
  }

  get pubsub(): GossipSub {
    return this.libp2p.services.pubsub;
  }

  /** Peers in this node's gossipsub mesh for a topic. */
  meshPeers(topic: string): string[] {
    return (this.pubsub as GossipSub & { getMeshPeers(topic: string): string[] }).getMeshPeers(topic);
  }

  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((m) => m.toString());
  }

  /** @internal called by createMeshNode before start. */
  async init(): Promise<void> {
    await this.libp2p.handle(FAPP_QUERY_PROTOCOL, (s, c) => this.serve(FAPP_QUERY_PROTOCOL, s, c, (ch) => this.handleQuery(ch)), { maxInboundStreams: 32 });
    await this.libp2p.handle(FAPP_SYNC_PROTOCOL, (s, c) => this.serve(FAPP_SYNC_PROTOCOL, s, c, (ch) => this.handleSync(ch)), { maxInboundStreams: 16 });
    await this.libp2p.handle(SAF_PROTOCOL, (s, c) => this.serve(SAF_PROTOCOL, s, c, (ch) => this.handleSaf(ch)), { maxInboundStreams: 32 });
    const routing = this.opts.routing ?? true;
    if (routing) {
      await this.libp2p.handle(NODE_ANNOUNCE_PROTOCOL, (s, c) => this.serve(NODE_ANNOUNCE_PROTOCOL, s, c, (ch) => this.handleNodeAnnounces(ch, c)), { maxInboundStreams: 16 });
      await this.libp2p.handle(ROUTE_PROTOCOL, (s, c) => this.serve(ROUTE_PROTOCOL, s, c, (ch) => this.handleRoute(ch)), { maxInboundStreams: 64 });
    }
    this.libp2p.addEventListener('peer:connect', (e) => {
      this.emit({ type: 'peer', change: 'connect', peer: e.detail.toString() });
      if (routing) void this.onPeerConnect(e.detail);
      if (this.opts.syncOnConnect) void this.syncFromPeer(e.detail);
    });
    this.libp2p.addEventListener('peer:disconnect', (e) => {
      this.emit({ type: 'peer', change: 'disconnect', peer: e.detail.toString() });
      this.router.prune(this.now(), e.detail.toString());
    });
    if (this.opts.mdns) {
      // mDNS only finds peers; libp2p 3 does not dial them by itself.
      this.libp2p.addEventListener('peer:discovery', (e: CustomEvent<PeerInfo>) => {
        if (this.stopped || this.libp2p.getConnections(e.detail.id).length > 0) return;
        void this.libp2p.dial(e.detail.id).catch(() => undefined);
      });
    }
    this.pubsub.addEventListener('message', (e) => this.onChannelMessage(e.detail.topic, e.detail.data));
    this.pruneTimer = setInterval(() => this.prune(), 60_000);
    this.pruneTimer.unref();
  }

  /** @internal called by createMeshNode after start. */
  startBackground(): void {
    const ttl = this.opts.announceTtlMs ?? 3600_000;
    if (this.opts.routing !== false) {
      this.announceTimer = setInterval(
        () => {
          this.renewAnnounce();
          for (const p of this.libp2p.getPeers()) void this.sendAnnounces(p, [this.ownAnnounce!]);
          void this.publishToDht();
        },
        Math.max(ttl / 2, 11_000),
      );
      this.announceTimer.unref();
    }
    const boot = this.opts.bootstrap ?? [];
    if (boot.length > 0) {
      this.bootstrapTimer = setInterval(() => void this.dialBootstrap(), this.opts.bootstrapRetryMs ?? 30_000);
      this.bootstrapTimer.unref();
    }
  }

  /** Dials every bootstrap address whose peer is not connected; returns how many are connected. */
  async dialBootstrap(): Promise<number> {
    let connected = 0;
    await Promise.all(
      (this.opts.bootstrap ?? []).map(async (b) => {
        const ma = multiaddr(b);
        const id = ma.getComponents().find((c) => c.name === 'p2p')?.value;
        if (id && this.libp2p.getConnections(peerIdFromString(id)).length > 0) {
          connected++;
          return;
        }
        try {
          await this.libp2p.dial(ma, { signal: AbortSignal.timeout(FRAME_TIMEOUT_MS) });
          connected++;
        } catch {
          // unreachable now; retried at the next round
        }
      }),
    );
    return connected;
  }

  private renewAnnounce(): void {
    // Sequence = issue time in ms, kept increasing even if the clock stalls (restarts keep it monotonic).
    this.ownSequence = Math.max(this.ownSequence + 1, this.now());
    this.ownAnnounce = createNodeAnnounce({
      node: this.identity,
      capabilities: this.opts.capabilities ?? MeshCapability.RELAY,
      sequence: this.ownSequence,
      nowMs: this.now(),
      ttlMs: this.opts.announceTtlMs ?? 3600_000,
    });
  }

  private async onPeerConnect(peer: PeerId): Promise<void> {
    const peerStr = peer.toString();
    // Into the DHT once there are peers to hold the record (after identify has run); again on later connects until it worked.
    if (!this.dhtPublished && !this.dhtTimer && this.libp2p.services.dht) {
      this.dhtTimer = setTimeout(() => {
        void this.publishToDht().then((ok) => {
          this.dhtPublished = ok;
          this.dhtTimer = undefined;
        });
      }, DHT_PUBLISH_DELAY_MS);
      this.dhtTimer.unref();
    }
    await this.sendAnnounces(peer, [this.nodeAnnounce, ...this.router.announcesFor(peerStr, this.now())]);
    // Mail waiting for this peer itself (its peer key is its mesh key).
    const addr = addressOfPeer(peer);
    if (addr) await this.flushQueued(addr);
  }

  /**
   * Queues node announces for one neighbour. Announces queued within ANNOUNCE_BATCH_MS go
   * out together over one stream, so a burst of route changes (many links coming up at
   * once) costs one stream per neighbour, not one per announce.
   */
  private sendAnnounces(peer: PeerId, announces: Uint8Array[]): Promise<void> {
    if (this.stopped || announces.length === 0) return Promise.resolve();
    const key = peer.toString();
    let box = this.outbox.get(key);
    if (!box) {
      box = { peer, announces: [], done: undefined };
      this.outbox.set(key, box);
      const b = box;
      b.done = new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.outbox.delete(key);
          void this.flushAnnounces(b.peer, b.announces).finally(resolve);
        }, ANNOUNCE_BATCH_MS);
        t.unref();
      });
    }
    box.announces.push(...announces);
    return box.done!;
  }

  /** Writes queued announces to one neighbour, up to MAX_ANNOUNCES_PER_STREAM per stream; errors (peer gone, protocol unknown) are dropped. */
  private async flushAnnounces(peer: PeerId, announces: Uint8Array[]): Promise<void> {
    for (let i = 0; i < announces.length && !this.stopped; i += MAX_ANNOUNCES_PER_STREAM) {
      try {
        const conn = this.libp2p.getConnections(peer)[0];
        if (!conn) return;
        await this.request(conn, NODE_ANNOUNCE_PROTOCOL, async (ch) => {
          for (const a of announces.slice(i, i + MAX_ANNOUNCES_PER_STREAM)) await ch.write(a);
        });
      } catch {
        return; // the neighbour learns routes at the next renewal
      }
    }
  }

  private async handleNodeAnnounces(ch: FrameChannel, conn: Connection): Promise<void> {
    const from = conn.remotePeer.toString();
    for (let i = 0; i < MAX_ANNOUNCES_PER_STREAM; i++) {
      let frame: Uint8Array;
      try {
        frame = await ch.read(FRAME_TIMEOUT_MS);
      } catch (e) {
        if (e instanceof MeshError && e.code === 'MALFORMED') return; // end of stream
        throw e;
      }
      const r = this.router.applyAnnounce(frame, { nowMs: this.now(), from });
      if (!r.accepted || !r.route) continue;
      this.emit({ type: 'route', change: 'added', address: r.route.addressHex, hops: r.route.hops, nextHop: r.route.nextHop });
      if (r.forward) for (const p of this.libp2p.getPeers()) if (p.toString() !== from) void this.sendAnnounces(p, [r.forward]);
      void this.flushQueued(r.route.addressHex);
    }
  }

  /** The live route to a mesh address (hex), if any. */
  routeTo(addressHex: string): Route | undefined {
    return this.router.route(addressHex, this.now());
  }

  /**
   * Sends an envelope towards its recipient: delivered here, forwarded to the next hop of
   * the route, or kept in this node's store-and-forward queue until a route or the
   * recipient appears. Returns what happened; an invalid envelope throws MeshError.
   */
  async send(envelope: Uint8Array): Promise<SendOutcome> {
    openMeshEnvelope(envelope, this.now());
    return this.dispatch(envelope);
  }

  private async dispatch(bytes: Uint8Array): Promise<SendOutcome> {
    const connected = new Set(this.libp2p.getPeers().map((p) => p.toString()));
    const d = this.router.decide(bytes, this.now(), (p) => connected.has(p));
    switch (d.kind) {
      case 'drop':
        this.envelopeCounters.dropped[d.reason]++;
        this.emit({ type: 'envelope', action: 'dropped', reason: d.reason, ...(d.opened ? { contentId: d.opened.contentIdHex } : {}) });
        return { kind: 'dropped', reason: d.reason };
      case 'deliver':
        this.envelopeCounters.delivered++;
        this.emit({ type: 'envelope', action: 'delivered', contentId: d.opened.contentIdHex });
        this.opts.onEnvelope?.(d.opened);
        return { kind: 'delivered' };
      case 'forward':
        if (await this.relayTo(d.nextHop, d.bytes)) {
          this.envelopeCounters.forwarded++;
          this.emit({ type: 'envelope', action: 'forwarded', contentId: d.opened.contentIdHex, to: d.nextHop });
          return { kind: 'forwarded', nextHop: d.nextHop };
        }
        return this.keep(d.opened.bytes);
      case 'store':
        return this.keep(d.opened.bytes);
    }
  }

  private keep(bytes: Uint8Array): SendOutcome {
    const r = this.saf.deposit(bytes, this.now());
    if (r.kind === 'rejected') {
      const reason: DropReason = r.error.code === 'QUEUE_FULL' ? 'queue-full' : 'no-route';
      this.envelopeCounters.dropped[reason]++;
      this.emit({ type: 'envelope', action: 'dropped', reason });
      return { kind: 'dropped', reason };
    }
    this.envelopeCounters.stored++;
    this.emit({ type: 'envelope', action: 'stored', contentId: r.kind === 'stored' ? r.entry.contentIdHex : r.contentIdHex });
    return { kind: 'stored' };
  }

  /** Hands envelope bytes to a neighbour over /qpc/route/1; true once the neighbour took custody. */
  private async relayTo(peer: string, bytes: Uint8Array): Promise<boolean> {
    if (this.stopped) return false;
    try {
      return await this.request(peerIdFromString(peer), ROUTE_PROTOCOL, async (ch) => {
        await ch.write(bytes);
        const reply = decodeMesh(SafReplySchema, await ch.read(FRAME_TIMEOUT_MS), MAX_REPLY_FRAME_BYTES);
        return reply.result.case === 'deposited';
      });
    } catch {
      return false;
    }
  }

  /** Passes queued envelopes for an address to the next hop once a route (or the recipient itself) is there. */
  private async flushQueued(addressHex: string): Promise<void> {
    const route = this.router.route(addressHex, this.now());
    if (!route || this.stopped) return;
    const pending = this.saf.pending(addressHex, this.now());
    const done: string[] = [];
    for (const e of pending) {
      let next: Uint8Array;
      try {
        next = forwardMeshEnvelope(openMeshEnvelope(e.bytes, this.now()));
      } catch {
        continue; // at its hop limit or expired: stays for a direct fetch until it expires
      }
      if (!(await this.relayTo(route.nextHop, next))) break;
      this.envelopeCounters.forwarded++;
      this.emit({ type: 'envelope', action: 'forwarded', contentId: e.contentIdHex, to: route.nextHop });
      done.push(e.contentIdHex);
    }
    if (done.length > 0) this.saf.ack(addressHex, done);
  }

  private async handleRoute(ch: FrameChannel): Promise<void> {
    const frame = await ch.read(FRAME_TIMEOUT_MS);
    let opened: OpenedEnvelope;
    try {
      opened = openMeshEnvelope(frame, this.now());
    } catch (e) {
      if (e instanceof MeshError) {
        const reason = dropReasonOf(e);
        this.envelopeCounters.dropped[reason]++;
        this.emit({ type: 'envelope', action: 'dropped', reason });
      }
      await ch.write(encodeMesh(SafReplySchema, create(SafReplySchema, { result: { case: 'failure', value: create(MeshFailureSchema, failureFrom(e)) } })));
      throw e;
    }
    // Custody is taken hop by hop: the sender is answered before this node passes the envelope on.
    await ch.write(encodeMesh(SafReplySchema, create(SafReplySchema, { result: { case: 'deposited', value: opened.contentId } })));
    void this.dispatch(frame);
  }

  /** Finds a node by mesh address through the DHT: its announce there gives the peer id, peer routing its addresses. */
  async findNode(addressHex: string, timeoutMs = FRAME_TIMEOUT_MS): Promise<{ peerId: PeerId; multiaddrs: Multiaddr[] } | undefined> {
    const dht = this.libp2p.services.dht;
    if (!dht) return undefined;
    const signal = AbortSignal.timeout(timeoutMs);
    let announce: Uint8Array | undefined;
    try {
      for await (const ev of dht.get(utf8(`${DHT_NODE_KEY_PREFIX}${addressHex}`), { signal })) {
        if (ev.name === 'VALUE') announce = ev.value;
      }
    } catch {
      // not found or timed out
    }
    if (!announce) return undefined;
    const v = verifyNodeAnnounce(announce, this.now());
    if (v.addressHex !== addressHex) return undefined;
    const peerId = peerIdFromPublicKey(publicKeyFromRaw(v.nodeKey));
    try {
      const info = await this.libp2p.peerRouting.findPeer(peerId, { signal });
      return { peerId, multiaddrs: info.multiaddrs };
    } catch {
      return { peerId, multiaddrs: [] };
    }
  }

  /** Stores this node's announce in the DHT under its mesh address. */
  async publishToDht(): Promise<boolean> {
    const dht = this.libp2p.services.dht;
    if (!dht || this.stopped) return false;
    let stored = false;
    try {
      for await (const ev of dht.put(utf8(`${DHT_NODE_KEY_PREFIX}${this.addressHex}`), this.nodeAnnounce, { signal: AbortSignal.timeout(FRAME_TIMEOUT_MS) })) {
        if (ev.name === 'PEER_RESPONSE') stored = true;
      }
    } catch {
      // no DHT peers yet: renewed later
    }
    return stored;
  }

  // ----- broadcast channels ------------------------------------------------------------

  /** Joins a channel as a member: reads (and relays) its messages. */
  joinChannel(key: Uint8Array, onMessage: (m: ChannelMessage) => void): ChannelMembership {
    const id = toHex(channelId(key));
    const topic = channelTopic(channelId(key));
    this.channels.set(id, { key: key.slice(), onMessage });
    this.pubsub.topicValidators.set(topic, (_peer, msg) => {
      try {
        const m = openChannelMessage(key, msg.data, this.now());
        const seenId = toHex(sha256(msg.data));
        if (this.channelSeen.has(seenId)) return TopicValidatorResult.Ignore;
        this.channelSeen.set(seenId, m.sentAtMs + 2 * CHANNEL_CLOCK_WINDOW_MS);
        return TopicValidatorResult.Accept;
      } catch (e) {
        this.emit({ type: 'channel', channel: id, outcome: 'rejected', code: e instanceof MeshError ? e.code : 'INTERNAL' });
        return TopicValidatorResult.Reject;
      }
    });
    this.pubsub.subscribe(topic);
    return {
      id,
      topic,
      publish: async (payload) => {
        const bytes = sealChannelMessage(key, this.identity, payload, this.now());
        this.channelSeen.set(toHex(sha256(bytes)), this.now() + 2 * CHANNEL_CLOCK_WINDOW_MS);
        await this.pubsub.publish(topic, bytes);
      },
    };
  }

  /** Relays a channel by id without its key: forwards well-formed frames it cannot read. */
  relayChannel(idHex: string): void {
    if (!/^[0-9a-f]{32}$/.test(idHex)) meshFail('MALFORMED', 'channel id must be 32 lowercase hex digits');
    const topic = channelTopic(fromHexId(idHex));
    this.relayedChannels.add(idHex);
    this.pubsub.topicValidators.set(topic, (_peer, msg) => {
      try {
        checkChannelFrame(msg.data);
        return TopicValidatorResult.Accept;
      } catch (e) {
        this.emit({ type: 'channel', channel: idHex, outcome: 'rejected', code: e instanceof MeshError ? e.code : 'INTERNAL' });
        return TopicValidatorResult.Reject;
      }
    });
    this.pubsub.subscribe(topic);
  }

  private onChannelMessage(topic: string, data: Uint8Array): void {
    const id = channelIdOfTopic(topic);
    if (!id) return;
    const member = this.channels.get(id);
    if (!member) {
      if (this.relayedChannels.has(id)) this.emit({ type: 'channel', channel: id, outcome: 'relayed' });
      return;
    }
    // The validator accepted it, so it opens; the app sees it only once gossipsub delivers it.
    let m: ChannelMessage;
    try {
      m = openChannelMessage(member.key, data, this.now());
    } catch {
      return;
    }
    this.emit({ type: 'channel', channel: id, outcome: 'read' });
    member.onMessage(m);
  }

  /** Subscribes to a region's FAPP topic; gossipsub's validator then runs every announce through the store. */
  subscribeRegion(region: string): void {
    const topic = fappTopicForPlz(region);
    if (this.pubsub.topicValidators.has(topic)) return;
    this.pubsub.topicValidators.set(topic, (peer, msg) => {
      const r = regionOfTopic(msg.topic);
      const outcome = this.ingest(msg.data, 'gossip', r ?? undefined, peer.toString());
      if (outcome.kind === 'accepted') return TopicValidatorResult.Accept;
      if (outcome.kind === 'duplicate') return TopicValidatorResult.Ignore;
      return TopicValidatorResult.Reject;
    });
    this.pubsub.subscribe(topic);
  }

  /**
   * Runs announce bytes through verification and the supersede store. `region`, when
   * given, must match the announce's PLZ (an announce gossiped on a foreign topic is rejected).
   */
  ingest(bytes: Uint8Array, source: IngestSource, region?: string, from?: string): AnnounceOutcome {
    const nowMs = this.now();
    let outcome: AnnounceOutcome;
    try {
      const trust = typeof this.opts.trust === 'function' ? this.opts.trust() : this.opts.trust;
      const v = verifyAnnounce(bytes, { nowMs, trust, requireVerified: this.opts.verifiedOnly ?? false });
      if (region !== undefined && !v.announce.plz.startsWith(region)) {
        outcome = { kind: 'rejected', code: 'WRONG_REGION', therapistId: v.announce.therapistId };
      } else {
        const r = ingestVerified(this.store, v);
        this.store = r.store;
        const a = v.announce;
        outcome =
          r.kind === 'accepted'
            ? { kind: 'accepted', therapistId: a.therapistId, sequence: a.sequence, plz: a.plz, record: r.record }
            : r.kind === 'duplicate'
              ? { kind: 'duplicate', therapistId: a.therapistId, sequence: a.sequence }
              : { kind: 'rejected', code: r.error.code, therapistId: a.therapistId };
      }
    } catch (e) {
      if (!(e instanceof FappError)) throw e;
      outcome = { kind: 'rejected', code: e.code };
    }
    this.counters[outcome.kind]++;
    const ev: MeshEvent = { type: 'announce', source, outcome: outcome.kind };
    if (outcome.kind === 'rejected') ev.code = outcome.code;
    if (outcome.kind !== 'rejected') ev.sequence = outcome.sequence;
    if (outcome.therapistId) ev.therapistId = outcome.therapistId;
    if (from) ev.from = from;
    this.emit(ev);
    return outcome;
  }

  /**
   * Re-checks every stored announce against the current trust store (call it when the trust
   * store changed, e.g. a revocation list arrived). Announces that no longer pass (a revoked
   * attestation, an authority no longer trusted) leave the store, so this node stops serving
   * them to queries and region sync; their sequence stays as a tombstone, so an older announce
   * of the same therapist cannot come back. Returns the therapist ids removed.
   */
  recheckTrust(): string[] {
    const nowMs = this.now();
    const trust = typeof this.opts.trust === 'function' ? this.opts.trust() : this.opts.trust;
    const removed: string[] = [];
    const byTherapist = new Map(this.store.byTherapist);
    const tombstones = new Map(this.store.tombstones);
    for (const [id, r] of this.store.byTherapist) {
      try {
        verifyAnnounce(r.bytes, { nowMs, trust, requireVerified: this.opts.verifiedOnly ?? false });
      } catch (e) {
        if (!(e instanceof FappError)) throw e;
        byTherapist.delete(id);
        tombstones.set(id, { sequence: r.sequence, untilMs: r.announce.issuedAtMs + MAX_ANNOUNCE_TTL_MS });
        removed.push(id);
      }
    }
    if (removed.length > 0) this.store = { byTherapist, tombstones };
    return removed;
  }

  /** Stores an announce (own or from the bridge) and gossips it if it is new. */
  async publishAnnounce(bytes: Uint8Array, source: IngestSource = 'local'): Promise<AnnounceOutcome> {
    const outcome = this.ingest(bytes, source);
    if (outcome.kind === 'accepted') await this.pubsub.publish(fappTopicForPlz(outcome.plz), bytes);
    return outcome;
  }

  /** Current announces for a PLZ prefix (or all). */
  announces(prefix = ''): AnnounceRecord[] {
    return announcesForPrefix(this.store, prefix, this.now());
  }

  stats(): MeshNodeStats {
    return {
      peers: this.libp2p.getPeers().length,
      topics: this.pubsub.getTopics(),
      announces: this.store.byTherapist.size,
      saf: this.saf.stats(),
      counters: { ...this.counters },
      routes: this.router.table.routes.size,
      envelopes: { ...this.envelopeCounters, dropped: { ...this.envelopeCounters.dropped } },
      gossipReceived: { ...this.gossipReceived },
      channels: { joined: this.channels.size, relayed: this.relayedChannels.size },
    };
  }

  prune(): void {
    const nowMs = this.now();
    this.store = pruneExpired(this.store, nowMs).store;
    this.saf.prune(nowMs);
    for (const [n, until] of this.seenNonces) if (until <= nowMs) this.seenNonces.delete(n);
    for (const [n, until] of this.channelSeen) if (until <= nowMs) this.channelSeen.delete(n);
    this.router.prune(nowMs);
  }

  async dial(target: Target): Promise<Connection> {
    return this.libp2p.dial(typeof target === 'string' ? multiaddr(target) : target);
  }

  // ----- clients ----------------------------------------------------------------------

  /** Asks a peer to answer a SlotQuery from its announce cache. */
  async query(target: Target, query: SlotQuery): Promise<SlotResponse> {
    return this.request(target, FAPP_QUERY_PROTOCOL, async (ch) => {
      await ch.write(encodeMesh(SlotQuerySchema, query));
      const reply = decodeMesh(FappQueryReplySchema, await ch.read(FRAME_TIMEOUT_MS), MAX_REPLY_FRAME_BYTES);
      if (reply.result.case === 'response') return reply.result.value;
      return remoteFailure(reply.result.case === 'failure' ? reply.result.value : undefined);
    });
  }

  /** syncOnConnect: pull each of our regions from a newly connected peer and gossip what was new. */
  private async syncFromPeer(peer: PeerId): Promise<void> {
    for (const region of this.opts.regions ?? []) {
      if (this.stopped) return;
      try {
        await this.syncRegion(peer, region, true);
      } catch (e) {
        this.emit({ type: 'protocol-error', protocol: FAPP_SYNC_PROTOCOL, code: e instanceof MeshError ? e.code : 'REMOTE_FAILURE' });
      }
    }
  }

  /**
   * Pulls every announce of a PLZ prefix from a peer, page by page, into the local store.
   * With `regossip`, announces new to this node are published on their region topic.
   */
  async syncRegion(target: Target, plzPrefix: string, regossip = false): Promise<SyncResult> {
    const result: SyncResult = { accepted: 0, duplicate: 0, rejected: 0, pages: 0 };
    let after: Uint8Array = new Uint8Array(0);
    for (;;) {
      const page = await this.request(target, FAPP_SYNC_PROTOCOL, async (ch) => {
        await ch.write(encodeMesh(FappSyncRequestSchema, create(FappSyncRequestSchema, { plzPrefix, afterTherapistKey: after, limit: DEFAULT_SYNC_PAGE })));
        const reply = decodeMesh(FappSyncReplySchema, await ch.read(FRAME_TIMEOUT_MS), MAX_REPLY_FRAME_BYTES);
        if (reply.failure) remoteFailure(reply.failure);
        return reply;
      });
      result.pages++;
      for (const a of page.announces) {
        const o = this.ingest(a, 'sync');
        result[o.kind]++;
        // Peers that already hold it answer Ignore (duplicate); publish errors (no peers) change nothing.
        if (regossip && o.kind === 'accepted') void this.pubsub.publish(fappTopicForPlz(o.plz), a).catch(() => undefined);
        if (o.kind !== 'rejected' || o.therapistId) after = maxKey(after, o.therapistId);
      }
      if (!page.more || page.announces.length === 0) return result;
    }
  }

  /** Leaves an envelope with a relay for a recipient who is offline. Returns its content id (hex). */
  async deposit(target: Target, envelope: Uint8Array): Promise<string> {
    return this.request(target, SAF_PROTOCOL, async (ch) => {
      await ch.write(encodeMesh(SafRequestSchema, create(SafRequestSchema, { op: { case: 'deposit', value: envelope } })));
      const reply = decodeMesh(SafReplySchema, await ch.read(FRAME_TIMEOUT_MS), MAX_REPLY_FRAME_BYTES);
      if (reply.result.case === 'deposited') return toHex(reply.result.value);
      return remoteFailure(reply.result.case === 'failure' ? reply.result.value : undefined);
    });
  }

  /**
   * Fetches envelopes a relay holds for `recipient`, proving possession of its key. Each
   * envelope is verified and addressed to the recipient before it is acknowledged (deleted).
   */
  async fetchMail(target: Target, recipient: SigningKeyPair = this.identity): Promise<OpenedEnvelope[]> {
    const conn = await this.dial(target);
    const ts = this.now();
    const nonce = randomBytes(16);
    const signature = sign(recipient.secretKey, meshSigningInput('saf-fetch', conn.remotePeer.toMultihash().bytes, u64be(ts), nonce));
    const fetch = { recipientKey: recipient.publicKey, timestampMs: BigInt(ts), nonce, signature, limit: DEFAULT_SAF_FETCH };
    return this.request(conn, SAF_PROTOCOL, async (ch) => {
      await ch.write(encodeMesh(SafRequestSchema, create(SafRequestSchema, { op: { case: 'fetch', value: fetch } })));
      const reply = decodeMesh(SafReplySchema, await ch.read(FRAME_TIMEOUT_MS), MAX_REPLY_FRAME_BYTES);
      if (reply.result.case !== 'envelopes') return remoteFailure(reply.result.case === 'failure' ? reply.result.value : undefined);
      const addr = toHex(meshAddress(recipient.publicKey));
      const opened: OpenedEnvelope[] = [];
      for (const b of reply.result.value.envelopes) {
        try {
          const o = openMeshEnvelope(b, this.now());
          if (o.recipientHex === addr) opened.push(o);
        } catch {
          // A relay handing out a bad envelope gets no ack for it; it expires there.
        }
      }
      await ch.write(encodeMesh(SafAckSchema, create(SafAckSchema, { contentIds: opened.map((o) => o.contentId) })));
      const ack = decodeMesh(SafReplySchema, await ch.read(FRAME_TIMEOUT_MS), MAX_REPLY_FRAME_BYTES);
      if (ack.result.case !== 'acked') remoteFailure(ack.result.case === 'failure' ? ack.result.value : undefined);
      return opened;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    clearInterval(this.announceTimer);
    clearInterval(this.bootstrapTimer);
    clearTimeout(this.dhtTimer);
    await this.libp2p.stop();
  }

  // ----- servers ----------------------------------------------------------------------

  private async serve(protocol: string, stream: Stream, _conn: Connection, fn: (ch: FrameChannel) => Promise<void>): Promise<void> {
    const max = SERVER_FRAME_LIMITS[protocol] ?? MAX_SYNC_REQUEST_BYTES;
    const ch = new FrameChannel(stream, max);
    try {
      await fn(ch);
      await ch.close();
    } catch (e) {
      const f = failureFrom(e);
      this.emit({ type: 'protocol-error', protocol, code: f.code });
      // A frame that cannot even be delimited leaves the stream unusable: reset it.
      if (e instanceof MeshError && (e.code === 'TOO_LARGE' || e.code === 'TIMEOUT')) ch.abort(e);
      else await ch.close();
    }
  }

  private async handleQuery(ch: FrameChannel): Promise<void> {
    const frame = await ch.read(FRAME_TIMEOUT_MS);
    let reply;
    try {
      const filter = decodeQuery(frame);
      const nowMs = this.now();
      const records = [...this.store.byTherapist.values()];
      const matches = matchSlots(records, filter, { nowMs });
      const response = buildSlotResponse(matches, (id) => this.store.byTherapist.get(id)!.bytes);
      reply = create(FappQueryReplySchema, { result: { case: 'response', value: response } });
    } catch (e) {
      reply = create(FappQueryReplySchema, { result: { case: 'failure', value: create(MeshFailureSchema, failureFrom(e)) } });
      await ch.write(encodeMesh(FappQueryReplySchema, reply));
      throw e;
    }
    await ch.write(encodeMesh(FappQueryReplySchema, reply));
  }

  private async handleSync(ch: FrameChannel): Promise<void> {
    const frame = await ch.read(FRAME_TIMEOUT_MS);
    try {
      const req = decodeMesh(FappSyncRequestSchema, frame, MAX_SYNC_REQUEST_BYTES);
      if (!isValidPlzPrefix(req.plzPrefix)) meshFail('INVALID_REGION', 'plz_prefix must be 2 to 5 digits of an assigned Leitregion');
      if (req.afterTherapistKey.length !== 0 && req.afterTherapistKey.length !== 32) meshFail('MALFORMED', 'after_therapist_key must be empty or 32 bytes');
      if (req.limit > MAX_SYNC_PAGE) meshFail('MALFORMED', `limit above ${MAX_SYNC_PAGE}`);
      const limit = req.limit === 0 ? DEFAULT_SYNC_PAGE : req.limit;
      const after = toHex(req.afterTherapistKey);
      const all = announcesForPrefix(this.store, req.plzPrefix, this.now()).filter((r) => r.therapistId > after);
      const page = all.slice(0, limit);
      await ch.write(encodeMesh(FappSyncReplySchema, create(FappSyncReplySchema, { announces: page.map((r) => r.bytes), more: all.length > limit })));
    } catch (e) {
      await ch.write(encodeMesh(FappSyncReplySchema, create(FappSyncReplySchema, { failure: failureFrom(e) })));
      throw e;
    }
  }

  private async handleSaf(ch: FrameChannel): Promise<void> {
    const frame = await ch.read(FRAME_TIMEOUT_MS);
    const fail = async (e: unknown, op: 'deposit' | 'fetch' | 'ack') => {
      const f = failureFrom(e);
      this.emit({ type: 'saf', op, ok: false, code: f.code });
      await ch.write(encodeMesh(SafReplySchema, create(SafReplySchema, { result: { case: 'failure', value: create(MeshFailureSchema, f) } })));
    };
    let req;
    try {
      req = decodeMesh(SafRequestSchema, frame, MAX_SAF_REQUEST_BYTES);
      if (req.op.case === undefined) meshFail('MALFORMED', 'empty store-and-forward request');
    } catch (e) {
      await fail(e, 'deposit');
      throw e;
    }
    if (req.op.case === 'deposit') {
      const r = this.saf.deposit(req.op.value, this.now());
      if (r.kind === 'rejected') return fail(r.error, 'deposit');
      const id = r.kind === 'stored' ? r.entry.contentIdHex : r.contentIdHex;
      this.emit({ type: 'saf', op: 'deposit', ok: true });
      await ch.write(encodeMesh(SafReplySchema, create(SafReplySchema, { result: { case: 'deposited', value: fromHexId(id) } })));
      return;
    }
    const f = req.op.value;
    let recipientHex: string;
    try {
      recipientHex = this.checkFetchProof(f);
    } catch (e) {
      return fail(e, 'fetch');
    }
    const limit = f.limit === 0 || f.limit > DEFAULT_SAF_FETCH ? DEFAULT_SAF_FETCH : f.limit;
    const all = this.saf.pending(recipientHex, this.now());
    const page = all.slice(0, limit);
    this.emit({ type: 'saf', op: 'fetch', ok: true, count: page.length });
    await ch.write(encodeMesh(SafReplySchema, create(SafReplySchema, { result: { case: 'envelopes', value: { envelopes: page.map((e) => e.bytes), more: all.length > limit } } })));
    const ackFrame = await ch.read(FRAME_TIMEOUT_MS);
    let ids: string[];
    try {
      const ack = decodeMesh(SafAckSchema, ackFrame, MAX_SAF_ACK_BYTES);
      ids = ack.contentIds.map((c) => toHex(c));
    } catch (e) {
      await fail(e, 'ack');
      throw e;
    }
    const n = this.saf.ack(recipientHex, ids);
    this.emit({ type: 'saf', op: 'ack', ok: true, count: n });
    await ch.write(encodeMesh(SafReplySchema, create(SafReplySchema, { result: { case: 'acked', value: n } })));
  }

  private checkFetchProof(f: { recipientKey: Uint8Array; timestampMs: bigint; nonce: Uint8Array; signature: Uint8Array }): string {
    if (f.recipientKey.length !== 32) meshFail('INVALID_KEY', 'recipient_key must be 32 bytes');
    if (f.nonce.length !== 16) meshFail('MALFORMED', 'nonce must be 16 bytes');
    const ts = u64(f.timestampMs, 'timestamp_ms');
    const nowMs = this.now();
    if (Math.abs(nowMs - ts) > SAF_PROOF_WINDOW_MS) meshFail('PROOF_REJECTED', 'fetch proof outside the clock window');
    const input = meshSigningInput('saf-fetch', this.peerId.toMultihash().bytes, u64be(ts), f.nonce);
    let ok: boolean;
    try {
      ok = verify(f.recipientKey, input, f.signature);
    } catch {
      ok = false;
    }
    if (!ok) meshFail('PROOF_REJECTED', 'fetch proof does not verify');
    const nonceHex = toHex(f.nonce);
    if (this.seenNonces.has(nonceHex)) meshFail('PROOF_REJECTED', 'fetch proof replayed');
    this.seenNonces.set(nonceHex, nowMs + 2 * SAF_PROOF_WINDOW_MS);
    return toHex(meshAddress(f.recipientKey));
  }

  private async request<T>(target: Target | Connection, protocol: string, fn: (ch: FrameChannel) => Promise<T>): Promise<T> {
    const conn = isConnection(target) ? target : await this.dial(target);
    const stream = await conn.newStream(protocol, { signal: AbortSignal.timeout(FRAME_TIMEOUT_MS) });
    const ch = new FrameChannel(stream, MAX_REPLY_FRAME_BYTES);
    try {
      const r = await fn(ch);
      await ch.close();
      return r;
    } catch (e) {
      ch.abort(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }

  private emit(e: MeshEvent): void {
    this.opts.onEvent?.(e);
  }
}

function isConnection(t: Target | Connection): t is Connection {
  return typeof t === 'object' && t !== null && 'newStream' in t && 'remotePeer' in t;
}

/** A peer's mesh address (hex): its peer key is its mesh signing key. */
export function meshAddressOfPeer(peer: PeerId): string | undefined {
  return addressOfPeer(peer);
}

function addressOfPeer(peer: PeerId): string | undefined {
  return peer.publicKey?.type === 'Ed25519' ? toHex(meshAddress(peer.publicKey.raw)) : undefined;
}

function fromHexId(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

function maxKey(after: Uint8Array, therapistId: string | undefined): Uint8Array {
  if (!therapistId || therapistId <= toHex(after)) return after;
  return fromHexId(therapistId);
}

/** Builds, wires and starts a mesh node; dials the bootstrap peers. */
export async function createMeshNode(opts: MeshNodeOptions): Promise<MeshNode> {
  if (!(opts.identitySeed instanceof Uint8Array) || opts.identitySeed.length !== 32) meshFail('INVALID_KEY', 'identity seed must be 32 bytes');
  const privateKey = await generateKeyPairFromSeed('Ed25519', opts.identitySeed);
  const now = opts.now ?? Date.now;
  const counted: { node?: MeshNode } = {};
  const services = {
    identify: identify(),
    ping: ping(),
    ...(opts.dht === false
      ? {}
      : {
          dht: kadDHT({
            protocol: '/qpc/kad/1.0.0',
            clientMode: false,
            // Clinic meshes run on LANs and loopback too: keep private addresses.
            peerInfoMapper: passthroughMapper,
            validators: { 'qpc-node': (key, value) => validateNodeRecord(key, value, now()) },
            selectors: { 'qpc-node': (_key, records) => selectNodeRecord(records, now()) },
          }),
        }),
  };
  const listen = opts.listen ?? ['/ip4/127.0.0.1/tcp/0'];
  const transports = [tcp(), webSockets()];
  if (opts.quic || [...listen, ...(opts.bootstrap ?? [])].some(isQuicAddress)) {
    const { quic } = await import('@chainsafe/libp2p-quic');
    transports.push(quic() as unknown as (typeof transports)[number]);
  }
  const libp2p = await createLibp2p({
    privateKey,
    addresses: { listen },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: opts.mdns ? [mdns({ interval: 10_000 })] : [],
    services: {
      ...services,
      pubsub: gossipsub({
        // Counts every copy received (first copies and duplicates) before gossipsub's dedup.
        dataTransform: {
          inboundTransform: (topic, data) => {
            if (counted.node) counted.node.gossipReceived[topic] = (counted.node.gossipReceived[topic] ?? 0) + 1;
            return data;
          },
          outboundTransform: (_topic, data) => data,
        },
        // Announces are signed by therapists; a gossipsub author signature would add nothing
        // and would tell every relay which node first published an announce.
        globalSignaturePolicy: 'StrictNoSign',
        msgIdFn: (msg) => sha256(msg.data),
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        heartbeatInterval: opts.heartbeatIntervalMs ?? 1000,
        maxInboundDataLength: 64 * 1024,
      }),
    },
    start: false,
  });
  const node = new MeshNode(libp2p as unknown as Libp2p<Services>, opts);
  counted.node = node;
  await node.init();
  await libp2p.start();
  for (const r of opts.regions ?? []) node.subscribeRegion(r);
  // Unreachable bootstrap peers are redialled in the background.
  await node.dialBootstrap();
  node.startBackground();
  return node;
}

/** A multiaddr that needs the QUIC transport (`/udp/<port>/quic-v1`). */
export function isQuicAddress(addr: string): boolean {
  return /\/udp\/\d+\/quic-v1(\/|$)/.test(addr);
}

/** kad-dht validator for /qpc-node/<address>: a valid NodeAnnounce of that very address. */
function validateNodeRecord(key: Uint8Array, value: Uint8Array, nowMs: number): void {
  const addr = new TextDecoder().decode(key).slice(DHT_NODE_KEY_PREFIX.length);
  const v = verifyNodeAnnounce(value, nowMs);
  if (v.addressHex !== addr) meshFail('MALFORMED', 'DHT record key does not match the announce');
}

/** kad-dht selector: the valid record with the highest sequence. */
function selectNodeRecord(records: Uint8Array[], nowMs: number): number {
  let best = 0;
  let bestSeq = -1;
  records.forEach((r, i) => {
    try {
      const seq = verifyNodeAnnounce(r, nowMs).sequence;
      if (seq > bestSeq) {
        best = i;
        bestSeq = seq;
      }
    } catch {
      // invalid records never win
    }
  });
  return best;
}
