import './polyfill.js';
import { create } from '@bufbuild/protobuf';
import { noise } from '@chainsafe/libp2p-noise';
import { gossipsub, TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { meshAddress, randomBytes, sha256, sign, signingKeyPairFromSeed, toHex, verify, type SigningKeyPair } from '@qpc/crypto';
import {
  announcesForPrefix,
  buildSlotResponse,
  decodeQuery,
  emptyAnnounceStore,
  FappError,
  ingestVerified,
  isValidPlzPrefix,
  matchSlots,
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
import { openMeshEnvelope, type OpenedEnvelope } from './envelope.js';
import { MeshError, meshFail } from './errors.js';
import { FrameChannel } from './frames.js';
import {
  DEFAULT_SAF_FETCH,
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
  /** Default: one loopback TCP port chosen by the OS. */
  listen?: string[];
  /** Multiaddrs (with /p2p/) dialled at start. */
  bootstrap?: string[];
  /** 2-digit PLZ regions whose FAPP topics this node subscribes to. */
  regions?: string[];
  /** Licensing authorities whose attestations count as verified. */
  trust: TrustStore;
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
  | { type: 'protocol-error'; protocol: string; code: string };

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
}

type Target = PeerId | Multiaddr | string;
type Services = { identify: ReturnType<ReturnType<typeof identify>>; ping: ReturnType<ReturnType<typeof ping>>; pubsub: GossipSub };

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
  private readonly now: () => number;
  private readonly seenNonces = new Map<string, number>();
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly libp2p: Libp2p<Services>,
    private readonly opts: MeshNodeOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.identity = signingKeyPairFromSeed(opts.identitySeed);
    this.address = meshAddress(this.identity.publicKey);
    const limits = opts.safLimits ?? DEFAULT_SAF_LIMITS;
    this.saf = opts.safSnapshot ? SafQueue.restore(opts.safSnapshot, this.now(), limits) : new SafQueue(limits);
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
    this.libp2p.addEventListener('peer:connect', (e) => this.emit({ type: 'peer', change: 'connect', peer: e.detail.toString() }));
    this.libp2p.addEventListener('peer:disconnect', (e) => this.emit({ type: 'peer', change: 'disconnect', peer: e.detail.toString() }));
    this.pruneTimer = setInterval(() => this.prune(), 60_000);
    this.pruneTimer.unref();
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
      const v = verifyAnnounce(bytes, { nowMs, trust: this.opts.trust, requireVerified: this.opts.verifiedOnly ?? false });
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
    };
  }

  prune(): void {
    const nowMs = this.now();
    this.store = pruneExpired(this.store, nowMs).store;
    this.saf.prune(nowMs);
    for (const [n, until] of this.seenNonces) if (until <= nowMs) this.seenNonces.delete(n);
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

  /** Pulls every announce of a PLZ prefix from a peer, page by page, into the local store. */
  async syncRegion(target: Target, plzPrefix: string): Promise<SyncResult> {
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
    clearInterval(this.pruneTimer);
    await this.libp2p.stop();
  }

  // ----- servers ----------------------------------------------------------------------

  private async serve(protocol: string, stream: Stream, _conn: Connection, fn: (ch: FrameChannel) => Promise<void>): Promise<void> {
    const max = protocol === SAF_PROTOCOL ? MAX_SAF_REQUEST_BYTES : protocol === FAPP_QUERY_PROTOCOL ? MAX_QUERY_FRAME_BYTES : MAX_SYNC_REQUEST_BYTES;
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
  const libp2p = await createLibp2p({
    privateKey,
    addresses: { listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
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
  await node.init();
  await libp2p.start();
  for (const r of opts.regions ?? []) node.subscribeRegion(r);
  for (const b of opts.bootstrap ?? []) {
    try {
      await node.dial(b);
    } catch {
      // Unreachable bootstrap peers are retried by the caller; the node runs without them.
    }
  }
  return node;
}
