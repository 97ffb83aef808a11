import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, sha256, toBase64Url } from '@qpc/crypto';
import type { EntityManager } from 'typeorm';
import { toB64url } from '../common/bytes.js';
import { Clock } from '../common/clock.js';
import type { RateLimit } from '../common/rate-limit.js';
import { RateLimits } from '../common/rate-limits.js';
import { ServerError } from '../common/server-error.js';
import { ServerConfig } from '../config/config.js';
import { MessengerEvents, type QueuedMessage } from '../messenger/messenger-events.js';
import { tokenHash } from '../messenger/session.guard.js';
import { ServerSecrets } from '../secrets/server-secrets.js';
import { DeliveryRepository, type EnqueueItem, type MessageRow, type StoredGroupSend } from './delivery.repository.js';
import { type Receipt, signReceipt, signReceiptOfHash } from './receipts.js';

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

/** The idempotency key of one send. */
export interface SendKey {
  scope: string;
  clientMessageId: string;
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
  private readonly limiter: RateLimit;
  private sends = 0;

  constructor(
    @Inject(DeliveryRepository) private readonly repo: DeliveryRepository,
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
    @Inject(ServerSecrets) private readonly secrets: ServerSecrets,
    @Inject(RateLimits) limits: RateLimits,
  ) {
    this.limiter = limits.create('delivery', config.DELIVERY_RATE_PER_MIN, 60_000);
  }

  /** Size and rate checks every send passes before touching the database. */
  async admit(scope: string, payloads: Uint8Array[]): Promise<void> {
    for (const p of payloads) {
      if (p.length > this.config.MESSAGE_MAX_BYTES) throw new ServerError('delivery.too_large', 413, `A message may hold at most ${this.config.MESSAGE_MAX_BYTES} bytes`, { limit: this.config.MESSAGE_MAX_BYTES });
    }
    if (!(await this.limiter.take(scope, this.clock.now()))) throw new ServerError('delivery.rate_limited', 429, 'Too many messages; slow down', { limitPerMinute: this.config.DELIVERY_RATE_PER_MIN });
  }

  /**
   * A group application message from a member device to every other member device, in one
   * statement (`DeliveryRepository.groupSend`); full queues are skipped. Not a member, or no such
   * group: 404 `groups.not_found`. A repeated client message id returns the first result, its
   * receipts re-signed from the stored hash, sequence numbers and time (the same bytes).
   */
  async groupMessage(senderDeviceId: string, clientMessageId: string, groupId: Uint8Array, payload: Uint8Array): Promise<SendResult & { duplicate: boolean }> {
    const now = new Date(this.clock.now());
    this.maybePrune(now);
    const hash = sha256(payload);
    const out = await this.repo.groupSend({ scope: senderDeviceId, clientMessageId }, now, groupId, senderDeviceId, payload, toB64url(hash), this.config.QUEUE_MAX_DEPTH);
    if ('notFound' in out) throw new ServerError('groups.not_found', 404, 'No such group');
    if ('duplicate' in out) return { ...this.stored(out.duplicate), duplicate: true };
    const r = out.fresh;
    if (r.d.length > 0) {
      const message = { payload: toB64url(payload), enqueuedAt: now.toISOString(), senderDeviceId, groupId: toB64url(groupId) };
      for (const [deviceId, seq] of r.d) this.events.messages(deviceId, [{ seq, ...message }]);
    }
    return { ...this.receipts(r, hash), duplicate: false };
  }

  private receipts(r: StoredGroupSend, hash: Uint8Array): SendResult {
    return {
      deliveries: r.d.map(([deviceId, seq]) => ({ deviceId, seq, receipt: signReceiptOfHash(this.secrets.signing, hash, deviceId, seq, r.t) })),
      skipped: r.s,
    };
  }

  /** A stored send result as the API returns it: the compact form of a group send gets its receipts back. */
  private stored<R>(result: unknown): R {
    const r = result as Partial<StoredGroupSend> | null;
    if (r && Array.isArray(r.d) && typeof r.h === 'string' && typeof r.t === 'number') return this.receipts(r as StoredGroupSend, Buffer.from(r.h, 'base64url')) as R;
    return result as R;
  }

  private maybePrune(now: Date): void {
    if (++this.sends % PRUNE_EVERY_SENDS === 0) void this.repo.prune(new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS), now).catch(() => undefined);
  }

  /** Sends once per client message id; pushes to connected devices after the commit. */
  async send<R extends SendResult>(
    scope: string,
    clientMessageId: string,
    fn: (m: EntityManager, now: Date, key: SendKey) => Promise<{ result: R; pushed: Map<string, QueuedMessage>; stored: boolean }>,
  ): Promise<R & { duplicate: boolean }> {
    const now = new Date(this.clock.now());
    this.maybePrune(now);
    let pushed: Map<string, QueuedMessage> | undefined;
    const { result, duplicate } = await this.repo.once(scope, clientMessageId, now, async (m) => {
      const r = await fn(m, now, { scope, clientMessageId });
      pushed = r.pushed;
      return { result: r.result, stored: r.stored };
    });
    if (!duplicate && pushed) for (const [deviceId, msg] of pushed) this.events.messages(deviceId, [msg]);
    return { ...(duplicate ? this.stored<R>(result) : result), duplicate };
  }

  /**
   * Enqueues inside the caller's transaction (two statements: take the sequence numbers, then
   * insert the rows and record the send's result). `partial`: skip full queues (group fan-out);
   * otherwise a full queue fails the send with 409 `delivery.queue_full`. `extra` joins the
   * stored result (a retry gets it back).
   */
  async enqueue<X extends object = object>(
    m: EntityManager,
    items: EnqueueItem[],
    now: Date,
    partial: boolean,
    key: SendKey,
    extra?: X,
  ): Promise<{ result: SendResult & X; pushed: Map<string, QueuedMessage>; stored: true }> {
    const taken = items.length > 0 ? await this.repo.takeSeqs(m, items.map((i) => i.deviceId), this.config.QUEUE_MAX_DEPTH) : new Map<string, { depth: number; seq: number | null }>();
    const skipped: string[] = [];
    const live: (EnqueueItem & { seq: number })[] = [];
    for (const i of items) {
      const q = taken.get(i.deviceId);
      if (!q) continue;
      if (q.seq === null) {
        if (!partial) throw new ServerError('delivery.queue_full', 409, "The recipient's queue is full", { limit: this.config.QUEUE_MAX_DEPTH });
        skipped.push(i.deviceId);
        continue;
      }
      live.push({ ...i, seq: q.seq });
    }
    const pushed = new Map<string, QueuedMessage>();
    const encoded = new Map<Uint8Array, string>();
    const enqueuedAt = now.toISOString();
    const deliveries = live.map((i) => {
      let payload = encoded.get(i.payload);
      if (payload === undefined) encoded.set(i.payload, (payload = toB64url(i.payload)));
      pushed.set(i.deviceId, {
        seq: i.seq,
        payload,
        enqueuedAt,
        ...(i.senderDeviceId ? { senderDeviceId: i.senderDeviceId } : {}),
        ...(i.groupId ? { groupId: toB64url(i.groupId) } : {}),
      });
      return { deviceId: i.deviceId, seq: i.seq, receipt: signReceipt(this.secrets.signing, i.payload, i.deviceId, i.seq, now.getTime()) };
    });
    const result = { deliveries, skipped, ...(extra ?? {}) } as SendResult & X;
    await this.repo.insertMessages(m, live, now, { ...key, result });
    return { result, pushed, stored: true };
  }

  /** Sealed sender: no session, no sender stored; authorised by the recipient's delivery token. */
  async sealed(token: string, clientMessageId: string, payload: Uint8Array): Promise<SendResult & { duplicate: boolean }> {
    const hash = tokenHash(token);
    const devices = await this.repo.tokenDevices(hash);
    if (!devices) throw new ServerError('delivery.token_invalid', 403, 'Unknown or withdrawn delivery token');
    const scope = `sealed:${hash.toString('hex').slice(0, 64)}`;
    await this.admit(scope, [payload]);
    return this.send(scope, clientMessageId, (m, now, key) =>
      this.enqueue(m, devices.map((deviceId) => ({ deviceId, payload, senderDeviceId: null, groupId: null })), now, false, key),
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
