import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, toBase64Url } from '@qpc/crypto';
import type { EntityManager } from 'typeorm';
import { toB64url } from '../common/bytes.js';
import { Clock } from '../common/clock.js';
import { SlidingWindowLimiter } from '../common/rate-limit.js';
import { ServerError } from '../common/server-error.js';
import { ServerConfig } from '../config/config.js';
import { MessengerEvents, type QueuedMessage } from '../messenger/messenger-events.js';
import { tokenHash } from '../messenger/session.guard.js';
import { ServerSecrets } from '../secrets/server-secrets.js';
import { DeliveryRepository, type EnqueueItem, type MessageRow } from './delivery.repository.js';
import { type Receipt, signReceipt } from './receipts.js';

export interface Delivery {
  deviceId: string;
  seq: number;
  receipt: Receipt;
}

export interface SendResult {
  deliveries: Delivery[];
  /** Devices whose queue was full (group fan-out only; a direct send fails instead). */
  skipped: string[];
}

export const MAX_WAIT_MS = 30_000;
/** How long a client message id is remembered: a retry later than this is a new message. */
export const IDEMPOTENCY_WINDOW_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_SENDS = 1000;

export function toQueued(r: MessageRow): QueuedMessage {
  return {
    seq: Number(r.seq),
    payload: toB64url(r.payload),
    enqueuedAt: r.enqueued_at.toISOString(),
    ...(r.sender_device_id ? { senderDeviceId: r.sender_device_id } : {}),
    ...(r.group_id ? { groupId: toB64url(r.group_id) } : {}),
  };
}

@Injectable()
export class DeliveryService {
  private readonly limiter: SlidingWindowLimiter;
  private sends = 0;

  constructor(
    @Inject(DeliveryRepository) private readonly repo: DeliveryRepository,
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
    @Inject(ServerSecrets) private readonly secrets: ServerSecrets,
  ) {
    this.limiter = new SlidingWindowLimiter(config.DELIVERY_RATE_PER_MIN, 60_000);
  }

  /** Size and rate checks every send passes before touching the database. */
  admit(scope: string, payloads: Uint8Array[]): void {
    for (const p of payloads) {
      if (p.length > this.config.MESSAGE_MAX_BYTES) throw new ServerError('delivery.too_large', 413, `A message may hold at most ${this.config.MESSAGE_MAX_BYTES} bytes`, { limit: this.config.MESSAGE_MAX_BYTES });
    }
    if (!this.limiter.take(scope, this.clock.now())) throw new ServerError('delivery.rate_limited', 429, 'Too many messages; slow down', { limitPerMinute: this.config.DELIVERY_RATE_PER_MIN });
  }

  /** Sends once per client message id; pushes to connected devices after the commit. */
  async send(scope: string, clientMessageId: string, fn: (m: EntityManager, now: Date) => Promise<{ result: SendResult; pushed: Map<string, QueuedMessage> }>): Promise<SendResult & { duplicate: boolean }> {
    const now = new Date(this.clock.now());
    if (++this.sends % PRUNE_EVERY_SENDS === 0) void this.repo.prune(new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS), now).catch(() => undefined);
    let pushed: Map<string, QueuedMessage> | undefined;
    const { result, duplicate } = await this.repo.once(scope, clientMessageId, now, async (m) => {
      const r = await fn(m, now);
      pushed = r.pushed;
      return r.result;
    });
    if (!duplicate && pushed) for (const [deviceId, msg] of pushed) this.events.messages(deviceId, [msg]);
    return { ...result, duplicate };
  }

  /**
   * Enqueues inside the caller's transaction. `partial`: skip full queues (group fan-out);
   * otherwise a full queue fails the send with 409 `delivery.queue_full`.
   */
  async enqueue(m: EntityManager, items: EnqueueItem[], now: Date, partial: boolean): Promise<{ result: SendResult; pushed: Map<string, QueuedMessage> }> {
    const depths = await this.repo.lockQueues(m, items.map((i) => i.deviceId));
    const skipped: string[] = [];
    const live = items.filter((i) => {
      const depth = depths.get(i.deviceId);
      if (depth === undefined) return false;
      if (depth >= this.config.QUEUE_MAX_DEPTH) {
        if (!partial) throw new ServerError('delivery.queue_full', 409, "The recipient's queue is full", { limit: this.config.QUEUE_MAX_DEPTH });
        skipped.push(i.deviceId);
        return false;
      }
      return true;
    });
    const seqs = await this.repo.enqueue(m, live, now);
    const pushed = new Map<string, QueuedMessage>();
    const deliveries = live.map((i) => {
      const seq = seqs.get(i.deviceId)!;
      pushed.set(i.deviceId, {
        seq,
        payload: toB64url(i.payload),
        enqueuedAt: now.toISOString(),
        ...(i.senderDeviceId ? { senderDeviceId: i.senderDeviceId } : {}),
        ...(i.groupId ? { groupId: toB64url(i.groupId) } : {}),
      });
      return { deviceId: i.deviceId, seq, receipt: signReceipt(this.secrets.signing, i.payload, i.deviceId, seq, now.getTime()) };
    });
    return { result: { deliveries, skipped }, pushed };
  }

  /** Sealed sender: no session, no sender stored; authorised by the recipient's delivery token. */
  async sealed(token: string, clientMessageId: string, payload: Uint8Array): Promise<SendResult & { duplicate: boolean }> {
    const hash = tokenHash(token);
    const devices = await this.repo.tokenDevices(hash);
    if (!devices) throw new ServerError('delivery.token_invalid', 403, 'Unknown or withdrawn delivery token');
    const scope = `sealed:${hash.toString('hex').slice(0, 64)}`;
    this.admit(scope, [payload]);
    return this.send(scope, clientMessageId, (m, now) =>
      this.enqueue(m, devices.map((deviceId) => ({ deviceId, payload, senderDeviceId: null, groupId: null })), now, false),
    );
  }

  async fetch(deviceId: string, after: number, limit: number, waitMs: number): Promise<{ messages: QueuedMessage[]; nextSeq: number }> {
    let rows = await this.repo.fetch(deviceId, after, limit);
    if (rows.length === 0 && waitMs > 0) {
      // Subscribe first, then look again: a message committed in between is not missed.
      let off: () => void = () => undefined;
      const arrived = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(waitMs, MAX_WAIT_MS));
        const stop = this.events.onMessages(deviceId, () => resolve());
        off = () => {
          clearTimeout(timer);
          stop();
        };
      });
      try {
        // Across instances the subscription must be in force on NATS before the second look.
        await this.events.settled();
        rows = await this.repo.fetch(deviceId, after, limit);
      } catch (e) {
        off();
        throw e;
      }
      if (rows.length === 0) {
        await arrived;
        rows = await this.repo.fetch(deviceId, after, limit);
      }
      off();
    }
    return { messages: rows.map(toQueued), nextSeq: await this.repo.nextSeq(deviceId) };
  }

  async ack(deviceId: string, upTo: number): Promise<{ depth: number }> {
    return { depth: await this.repo.ack(deviceId, upTo) };
  }

  async createToken(accountId: string): Promise<{ deliveryToken: string }> {
    const token = toBase64Url(randomBytes(32));
    await this.repo.insertToken(tokenHash(token), accountId, new Date(this.clock.now()));
    return { deliveryToken: token };
  }

  async deleteToken(accountId: string, token: string): Promise<void> {
    if (!(await this.repo.deleteToken(tokenHash(token), accountId))) throw new ServerError('delivery.token_invalid', 404, 'No such delivery token on this account');
  }

  receiptKey(): { publicKey: string; algorithm: 'Ed25519' } {
    return { publicKey: toB64url(this.secrets.signing.publicKey), algorithm: 'Ed25519' };
  }
}
