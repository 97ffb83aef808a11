import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { hkdfSha256, meshAddress, signingKeyPairFromSeed, toHex, utf8 } from '@qpc/crypto';
import { decodeMessage, FappError, MAILBOX_ID_BYTES } from '@qpc/fapp';
import { createFappMeshEnvelope, createMeshNode, decodeFappMeshMessage, MeshError, replyAddressOf, type FappMeshMessage, type MeshEvent, type MeshNode, type OpenedEnvelope } from '@qpc/mesh';
import { MeshCapability, SlotReserveSchema } from '@qpc/proto';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';
import { ServerConfig } from '../config/config.js';
import { FappService } from '../fapp/fapp.service.js';
import { type AnsweredEvent, type ReservedEvent, ReservationService } from '../fapp/reservation.service.js';
import { ServerSecrets } from '../secrets/server-secrets.js';
import { MeshReplyRepository } from './mesh-reply.repository.js';

/** Every Leitregion, 00 … 99. */
const ALL_REGIONS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** MESH_REGIONS as a list; empty means every Leitregion. */
export function meshRegions(spec: string): string[] {
  const list = spec.split(',').map((r) => r.trim()).filter(Boolean);
  return list.length > 0 ? [...new Set(list)] : ALL_REGIONS;
}

/** HKDF labels of the mesh identity: the server's signing key itself never leaves its own use. */
const IDENTITY_SALT = utf8('qpc/server/mesh-bridge');
const IDENTITY_INFO = utf8('qpc mesh node identity seed v1');

/** The mesh node's 32-byte identity seed, derived one-way from the server's signing seed. */
export function meshIdentitySeed(signingSeed: Uint8Array): Uint8Array {
  return hkdfSha256(signingSeed, IDENTITY_SALT, IDENTITY_INFO, 32);
}

const REGION_PAGE = 200;
/** How often the node's store-and-forward queue is saved while it runs (and always at shutdown). */
const SAF_SAVE_MS = 30_000;
/** An answer waits this long in store-and-forward for the patient (the queue keeps nothing longer). */
const ANSWER_TTL_MS = 7 * 24 * 3600_000;
const REPLY_GC_MS = 5 * 60_000;

export interface MeshBridgeCounters {
  /** Announces accepted by the server's HTTP ingest and published to the mesh. */
  published: number;
  /** Mesh announces the server stored. */
  ingested: number;
  /** Mesh announces the server already had at that sequence or newer. */
  stale: number;
  /** Mesh announces the server refused (its own rules are stricter or its trust differs). */
  rejected: number;
  /** SlotReserves that arrived in envelopes addressed to the server's node and were stored (held). */
  reservations: number;
  /** Envelope payloads the reservation service refused (malformed, stale, slot held, rate limit, …). */
  reservationsRejected: number;
  /** Held reservations passed on to the therapist's mesh node (the announce names one). */
  reservationsForwarded: number;
  /** SlotConfirms that arrived over the mesh and booked or freed a slot (or repeated an answer). */
  answers: number;
  /** SlotConfirms from the mesh the reservation service refused. */
  answersRejected: number;
  /** Answers sent to the patient's reply address (reservations that came over the mesh). */
  answersSent: number;
}

/**
 * Runs a libp2p mesh node inside the server (MESH_ENABLED) and bridges FAPP announces both
 * ways: what the HTTP ingest accepts is published on the region's topic; what the node's
 * gossipsub validator (or region sync) accepts is ingested through FappService with the same
 * rules as HTTP. What came from the mesh is never published back.
 */
@Injectable()
export class MeshBridgeService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('mesh');
  private meshNode: MeshNode | undefined;
  /** Remove the bridge's listeners on FappService and ReservationService. */
  private readonly unhook: (() => void)[] = [];
  private gcTimer: NodeJS.Timeout | undefined;
  private safTimer: NodeJS.Timeout | undefined;
  /** Accepted by the node before createMeshNode returned (sync during bootstrap). */
  private early: string[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private closing = false;
  readonly counters: MeshBridgeCounters = {
    published: 0,
    ingested: 0,
    stale: 0,
    rejected: 0,
    reservations: 0,
    reservationsRejected: 0,
    reservationsForwarded: 0,
    answers: 0,
    answersRejected: 0,
    answersSent: 0,
  };

  constructor(
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(FappService) private readonly fapp: FappService,
    @Inject(ServerSecrets) private readonly secrets: ServerSecrets,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ReservationService) private readonly reservations: ReservationService,
    @Inject(MeshReplyRepository) private readonly replies: MeshReplyRepository,
  ) {}

  /** The running node (undefined before bootstrap and after shutdown). */
  get node(): MeshNode | undefined {
    return this.meshNode;
  }

  async onApplicationBootstrap(): Promise<void> {
    const regions = meshRegions(this.config.MESH_REGIONS);
    this.hookIngest();
    this.hookReservations();
    const identitySeed = meshIdentitySeed(this.secrets.signing.secretKey);
    const address = toHex(meshAddress(signingKeyPairFromSeed(identitySeed).publicKey));
    const safSnapshot = await this.replies.loadSafSnapshot(address);
    const create = (snapshot: Uint8Array | undefined) =>
      createMeshNode({
        identitySeed,
        ...(snapshot ? { safSnapshot: snapshot } : {}),
        listen: this.config.MESH_LISTEN.split(','),
        bootstrap: this.config.MESH_BOOTSTRAP.split(',').filter(Boolean),
        regions,
        syncOnConnect: true,
        capabilities: MeshCapability.RELAY | MeshCapability.BRIDGE,
        // Asked at every announce: a revocation list stored later (here or by another instance,
        // picked up by FappService's reload) applies to the gossipsub validator at once.
        trust: () => this.fapp.trust,
        verifiedOnly: this.config.FAPP_REQUIRE_VERIFIED,
        now: () => this.clock.now(),
        onEvent: (e) => this.onEvent(e),
        onEnvelope: (e) => this.onEnvelope(e),
      });
    try {
      this.meshNode = await create(safSnapshot);
    } catch (e) {
      // A saved queue this version cannot read must not keep the server from starting.
      if (!(safSnapshot && e instanceof MeshError)) throw e;
      this.log.warn(line('mesh_saf_snapshot_unreadable', { code: e.code }));
      this.meshNode = await create(undefined);
    }
    for (const id of this.early.splice(0)) this.fromMesh(id);
    this.log.log(line('mesh_started', { peerId: this.meshNode.peerId.toString(), meshAddress: this.meshNode.addressHex, ports: this.meshNode.multiaddrs().map((m) => /\/(?:tcp|udp)\/(\d+)/.exec(m)?.[1] ?? '-').join(','), regions: regions.length }));
    // The node's store starts with what the server holds, so peers that sync from it get it.
    this.track(this.seedFromServer(regions));
    this.gcTimer = setInterval(() => this.track(this.replies.collectGarbage(new Date(this.clock.now()))), REPLY_GC_MS);
    this.gcTimer.unref();
    this.safTimer = setInterval(() => this.track(this.saveSaf()), SAF_SAVE_MS);
    this.safTimer.unref();
  }

  /** Saves the node's store-and-forward queue (restored at the next start). */
  private async saveSaf(): Promise<void> {
    const node = this.meshNode;
    if (node) await this.replies.saveSafSnapshot(node.addressHex, node.saf.snapshot());
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    clearInterval(this.gcTimer);
    clearInterval(this.safTimer);
    for (const off of this.unhook.splice(0)) off();
    const node = this.meshNode;
    this.meshNode = undefined;
    if (!node) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.SHUTDOWN_TIMEOUT_MS);
    });
    // Ingests already started finish (they hold database connections); then the node stops.
    const done = await Promise.race([
      Promise.allSettled([...this.pending]).then(async () => {
        await node.stop();
        // What is still queued for recipients not yet seen survives the restart.
        await this.replies.saveSafSnapshot(node.addressHex, node.saf.snapshot()).catch((e: unknown) => this.log.error(e));
        return 'stopped' as const;
      }),
      timeout,
    ]);
    clearTimeout(timer);
    this.log.log(line('mesh_stopped', { graceful: done === 'stopped', ...this.counters }));
  }

  /** Publishes what the HTTP ingest stores; what came from the mesh is never published back. */
  private hookIngest(): void {
    this.unhook.push(
      this.fapp.onStored((bytes, origin) => {
        if (origin === 'http') this.toMesh(bytes);
      }),
      // The validator asks for the trust store at every announce; what the node already holds is re-checked here.
      this.fapp.onTrustChanged(() => {
        const removed = this.meshNode?.recheckTrust() ?? [];
        if (removed.length > 0) this.log.log(line('mesh_trust_changed', { removed: removed.length }));
      }),
    );
  }

  /** Held reservations go on to a therapist on the mesh; answers go back to patients who reserved over the mesh. */
  private hookReservations(): void {
    this.unhook.push(
      this.reservations.onReserved((e) => this.reservationToTherapist(e)),
      this.reservations.onAnswered((e) => this.track(this.answerToPatient(e))),
    );
  }

  private toMesh(bytes: Uint8Array): void {
    const node = this.meshNode;
    if (!node || this.closing) return;
    this.track(
      node.publishAnnounce(bytes, 'bridge').then(
        (o) => {
          if (o.kind === 'accepted') this.counters.published++;
        },
        (e: unknown) => this.log.warn(line('mesh_publish_failed', { reason: e instanceof Error ? e.message : 'error' })),
      ),
    );
  }

  private onEvent(e: MeshEvent): void {
    if (e.type === 'announce' && e.outcome === 'accepted' && (e.source === 'gossip' || e.source === 'sync') && e.therapistId) {
      if (this.meshNode) this.fromMesh(e.therapistId);
      else this.early.push(e.therapistId);
    }
  }

  /**
   * An envelope addressed to the server's node carries a FappMeshMessage: a SlotReserve is
   * held exactly as `POST /api/v1/fapp/reservations` would hold it (same checks, stamps, rate
   * limits) and its answer goes back to the key that signed the envelope; a SlotConfirm from a
   * therapist's node is applied exactly like `POST /api/v1/fapp/therapist/answers`.
   */
  private onEnvelope(e: OpenedEnvelope): void {
    if (this.closing) return;
    let m: FappMeshMessage;
    try {
      m = decodeFappMeshMessage(e.payload);
    } catch (err) {
      this.counters.reservationsRejected++;
      this.log.warn(line('mesh_envelope_rejected', { code: err instanceof MeshError ? err.code : 'INTERNAL' }));
      return;
    }
    if (m.kind === 'reserve') this.track(this.reserveFromMesh(m.bytes, e.senderKey));
    else this.track(this.answerFromMesh(m.bytes));
  }

  private async reserveFromMesh(bytes: Uint8Array, replyKey: Uint8Array): Promise<void> {
    let remembered: { mailboxId: string } | undefined;
    try {
      // The reply key is stored before the hold, so an answer can never overtake it; it is
      // removed again if the reservation is refused. The first key stored for a mailbox stays.
      const mailboxId = mailboxIdOf(bytes);
      const holdMs = this.config.FAPP_HOLD_TTL_MS;
      if (mailboxId && (await this.replies.remember(mailboxId, replyKey, new Date(this.clock.now() + holdMs)))) remembered = { mailboxId };
      await this.reservations.reserve(bytes);
      this.counters.reservations++;
    } catch (err) {
      if (remembered) await this.replies.forget(remembered.mailboxId, replyKey);
      this.counters.reservationsRejected++;
      this.log.warn(line('mesh_reservation_rejected', { code: errorCode(err) }));
    }
  }

  private async answerFromMesh(bytes: Uint8Array): Promise<void> {
    try {
      await this.reservations.answer(bytes);
      this.counters.answers++;
    } catch (err) {
      this.counters.answersRejected++;
      this.log.warn(line('mesh_answer_rejected', { code: errorCode(err) }));
    }
  }

  /** A held reservation for a therapist whose announce names a mesh node goes there, until the hold expires. */
  private reservationToTherapist(e: ReservedEvent): void {
    const node = this.meshNode;
    if (!node || this.closing || !e.meshAddress || toHex(e.meshAddress) === node.addressHex) return;
    const envelope = createFappMeshEnvelope({ sender: node.identity, recipient: e.meshAddress, message: { kind: 'reserve', bytes: e.bytes }, nowMs: this.clock.now(), ttlMs: e.heldUntilMs - this.clock.now() });
    this.track(
      node.send(envelope).then((o) => {
        if (o.kind === 'dropped') this.log.warn(line('mesh_forward_dropped', { reason: o.reason }));
        else this.counters.reservationsForwarded++;
      }),
    );
  }

  /** The answer to a reservation that came over the mesh goes to the key that signed it (once). */
  private async answerToPatient(e: AnsweredEvent): Promise<void> {
    const node = this.meshNode;
    if (!node || this.closing) return;
    const replyKey = await this.replies.take(e.mailboxId, new Date(this.clock.now()));
    if (!replyKey) return;
    const envelope = createFappMeshEnvelope({ sender: node.identity, recipient: replyAddressOf(replyKey), message: { kind: 'confirm', bytes: e.bytes }, nowMs: this.clock.now(), ttlMs: ANSWER_TTL_MS });
    const o = await node.send(envelope);
    if (o.kind === 'dropped') this.log.warn(line('mesh_answer_dropped', { reason: o.reason }));
    else this.counters.answersSent++;
  }

  /** Ingests the node's current announce of a therapist into the server, with the server's own checks. */
  private fromMesh(therapistId: string): void {
    const record = this.meshNode?.store.byTherapist.get(therapistId);
    if (!record || this.closing) return;
    this.track(
      this.fapp.ingest(record.bytes, 'mesh').then(
        () => {
          this.counters.ingested++;
        },
        (e: unknown) => {
          if (e instanceof FappError && e.code === 'STALE_SEQUENCE') {
            this.counters.stale++;
            return;
          }
          this.counters.rejected++;
          this.log.warn(line('mesh_announce_rejected', { code: e instanceof FappError ? e.code : 'INTERNAL' }));
        },
      ),
    );
  }

  private async seedFromServer(regions: string[]): Promise<void> {
    for (const region of regions) {
      let cursor: string | undefined;
      do {
        if (this.closing || !this.meshNode) return;
        const page = await this.fapp.region(region, cursor, REGION_PAGE);
        for (const a of page.announces) this.meshNode.ingest(new Uint8Array(Buffer.from(a, 'base64url')), 'bridge');
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((e: unknown) => this.log.warn(line('mesh_bridge_error', { reason: e instanceof Error ? e.message : 'error' }))).finally(() => this.pending.delete(t));
    this.pending.add(t);
  }
}

/** The mailbox id (hex) a SlotReserve names, if it decodes and has the right length. */
function mailboxIdOf(bytes: Uint8Array): string | undefined {
  try {
    const m = decodeMessage(SlotReserveSchema, bytes);
    return m.mailboxId.length === MAILBOX_ID_BYTES ? toHex(m.mailboxId) : undefined;
  } catch {
    return undefined;
  }
}

/** A refusal's stable code for the log (never its message). */
function errorCode(err: unknown): string {
  if (err instanceof FappError || err instanceof MeshError) return err.code;
  if (err instanceof ServerError) return err.code;
  return err instanceof Error ? err.name : 'INTERNAL';
}

/** `event key=value …`: Nest's logger takes strings. Never an IP address (like qpc-node, only the listen ports). */
function line(event: string, fields: Record<string, string | number | boolean>): string {
  return [event, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)].join(' ');
}
