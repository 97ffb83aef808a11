import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { hkdfSha256, utf8 } from '@qpc/crypto';
import { FappError } from '@qpc/fapp';
import { createMeshNode, type MeshEvent, type MeshNode, type OpenedEnvelope } from '@qpc/mesh';
import { MeshCapability } from '@qpc/proto';
import { Clock } from '../common/clock.js';
import { ServerConfig } from '../config/config.js';
import { FappService } from '../fapp/fapp.service.js';
import { ReservationService } from '../fapp/reservation.service.js';
import { ServerSecrets } from '../secrets/server-secrets.js';

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
  /** Removes the bridge's listener on FappService. */
  private restore: (() => void) | undefined;
  /** Accepted by the node before createMeshNode returned (sync during bootstrap). */
  private early: string[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private closing = false;
  readonly counters: MeshBridgeCounters = { published: 0, ingested: 0, stale: 0, rejected: 0, reservations: 0, reservationsRejected: 0 };

  constructor(
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(FappService) private readonly fapp: FappService,
    @Inject(ServerSecrets) private readonly secrets: ServerSecrets,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ReservationService) private readonly reservations: ReservationService,
  ) {}

  /** The running node (undefined before bootstrap and after shutdown). */
  get node(): MeshNode | undefined {
    return this.meshNode;
  }

  async onApplicationBootstrap(): Promise<void> {
    const regions = meshRegions(this.config.MESH_REGIONS);
    this.hookIngest();
    this.meshNode = await createMeshNode({
      identitySeed: meshIdentitySeed(this.secrets.signing.secretKey),
      listen: this.config.MESH_LISTEN.split(','),
      bootstrap: this.config.MESH_BOOTSTRAP.split(',').filter(Boolean),
      regions,
      syncOnConnect: true,
      capabilities: MeshCapability.RELAY | MeshCapability.BRIDGE,
      trust: this.fapp.trust,
      verifiedOnly: this.config.FAPP_REQUIRE_VERIFIED,
      now: () => this.clock.now(),
      onEvent: (e) => this.onEvent(e),
      onEnvelope: (e) => this.onEnvelope(e),
    });
    for (const id of this.early.splice(0)) this.fromMesh(id);
    this.log.log(line('mesh_started', { peerId: this.meshNode.peerId.toString(), meshAddress: this.meshNode.addressHex, ports: this.meshNode.multiaddrs().map((m) => m.split('/tcp/')[1]?.split('/')[0] ?? '-').join(','), regions: regions.length }));
    // The node's store starts with what the server holds, so peers that sync from it get it.
    this.track(this.seedFromServer(regions));
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    this.restore?.();
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
        return 'stopped' as const;
      }),
      timeout,
    ]);
    clearTimeout(timer);
    this.log.log(line('mesh_stopped', { graceful: done === 'stopped', ...this.counters }));
  }

  /** Publishes what the HTTP ingest stores; what came from the mesh is never published back. */
  private hookIngest(): void {
    this.restore = this.fapp.onStored((bytes, origin) => {
      if (origin === 'http') this.toMesh(bytes);
    });
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
   * An envelope addressed to the server's node carries a SlotReserve (sealed to the therapist):
   * it is held exactly as `POST /api/v1/fapp/reservations` would hold it (same checks, stamps,
   * rate limits). The patient reads the answer from the mailbox like any other.
   */
  private onEnvelope(e: OpenedEnvelope): void {
    if (this.closing) return;
    this.track(
      this.reservations.reserve(e.payload).then(
        () => {
          this.counters.reservations++;
        },
        (err: unknown) => {
          this.counters.reservationsRejected++;
          this.log.warn(line('mesh_reservation_rejected', { code: err instanceof FappError ? err.code : err instanceof Error ? err.name : 'INTERNAL' }));
        },
      ),
    );
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

/** `event key=value …`: Nest's logger takes strings. Never an IP address (like qpc-node, only the listen ports). */
function line(event: string, fields: Record<string, string | number | boolean>): string {
  return [event, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)].join(' ');
}
