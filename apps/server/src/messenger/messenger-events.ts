import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { ServerConfig } from '../config/config.js';

export interface QueuedMessage {
  seq: number;
  payload: string;
  enqueuedAt: string;
  /** Absent for sealed-sender messages. */
  senderDeviceId?: string;
  groupId?: string;
}

/** What travels on a device's subject between instances. */
type Frame = { t: 'm'; m: QueuedMessage[] } | { t: 'g' } | { t: 'k'; n: number };

/** One subject per device: opaque ids only, never a user name. */
export const NATS_SUBJECT_PREFIX = 'qpc.dev.';
/** Every instance listens here: the payload is a JSON list of device ids whose sessions ended (logout, revocation, account deletion). */
export const NATS_SESSIONS_ENDED = 'qpc.sessions.ended';
/** Every instance listens here: the payload is a JSON list of therapist ids whose announce, slots or holds changed (FAPP search index). */
export const NATS_FAPP_CHANGED = 'qpc.fapp.changed';

/**
 * Fan-out of committed events (new messages, device gone, key packages low) to the WebSocket
 * connections and long-polls that wait for a device. Emitted only after the writing transaction
 * commits. Without NATS_URL it is an in-process EventEmitter. With NATS_URL every event is also
 * published on `qpc.dev.<deviceId>`, and an instance subscribes to a device's subject while it
 * has a local listener for that device, so a message enqueued on one instance reaches a socket
 * held by another. The queue in the database stays the truth: a push is a fast path, and an empty
 * message list means "look in the database" (a frame too large for NATS, or a reconnect).
 *
 * Ended sessions (logout, device revocation, account deletion) go to every instance on
 * `qpc.sessions.ended`, so that cached session lookups (SessionStore) are dropped at once. While
 * that subject cannot be trusted (NATS configured but not connected) `sessionCacheUsable` is false.
 *
 * FAPP therapists whose announce, slots or holds changed go to every instance on
 * `qpc.fapp.changed`, so that each instance's search index re-reads them (FappSearchIndex).
 */
@Injectable()
export class MessengerEvents implements OnModuleInit, OnModuleDestroy {
  private readonly bus = new EventEmitter();
  private readonly log = new Logger('messenger-events');
  private nc: NatsConnection | undefined;
  private readonly subs = new Map<string, { sub: Subscription | undefined; refs: number }>();
  /** NATS connected with the sessions-ended subscription in force (always false without NATS_URL). */
  private natsUp = false;

  constructor(@Optional() @Inject(ServerConfig) private readonly config?: ServerConfig) {
    this.bus.setMaxListeners(0);
  }

  async onModuleInit(): Promise<void> {
    const url = this.config?.NATS_URL;
    if (!url) return;
    try {
      this.nc = await connect({ servers: url.split(','), name: 'qpc-server', noEcho: true, maxReconnectAttempts: -1 });
    } catch (e) {
      throw new Error(`NATS_URL: cannot connect (${(e as Error).message})`, { cause: e });
    }
    for (const deviceId of this.subs.keys()) this.natsSubscribe(deviceId);
    // Instance-wide subjects: a JSON list of ids, re-emitted locally (anything else is ignored).
    for (const [subject, event] of [
      [NATS_SESSIONS_ENDED, 'sessions-ended'],
      [NATS_FAPP_CHANGED, 'fapp-changed'],
    ] as const) {
      subscribeJson<unknown>(this.nc, subject, (ids) => {
        if (Array.isArray(ids)) this.bus.emit(event, ids.filter((d): d is string => typeof d === 'string'));
      });
    }
    await this.nc.flush();
    this.natsUp = true;
    void this.watch(this.nc);
  }

  async onModuleDestroy(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.natsUp = false;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => undefined);
  }

  /** Whether events cross instances (NATS_URL set and connected once). */
  get distributed(): boolean {
    return this.nc !== undefined;
  }

  /** Whether this instance has a listener (socket or long-poll) waiting for the device. */
  listening(deviceId: string): boolean {
    return this.subs.has(deviceId);
  }

  /**
   * Resolves once every subscription made so far is in force on the NATS server, so a caller that
   * subscribes and then reads the database cannot miss an event published in between.
   */
  async settled(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) await this.nc.flush();
  }

  /**
   * Whether a cached session lookup may be trusted: every instance's session ends reach this one
   * (no NATS_URL: one instance; with it: connected). Not while NATS is down.
   */
  get sessionCacheUsable(): boolean {
    return !this.config?.NATS_URL || this.natsUp;
  }

  /**
   * The sessions of these devices ended or may have (logout, revocation, account deletion):
   * cached lookups are dropped here at once, and on other instances when the NATS message
   * arrives; resolves once the NATS server has it (so a request answered after this cannot
   * outrun it to an instance that flushes its own connection).
   */
  async sessionsEnded(deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    this.bus.emit('sessions-ended', deviceIds);
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(NATS_SESSIONS_ENDED, Buffer.from(JSON.stringify(deviceIds)));
      await nc.flush();
    } catch (e) {
      this.log.warn(`NATS publish failed: ${(e as Error).message}`);
    }
  }
  /** `null`: every cached session (NATS went down or came back: ends may have been missed). */
  onSessionsEnded(fn: (deviceIds: string[] | null) => void): () => void {
    this.bus.on('sessions-ended', fn);
    return () => this.bus.off('sessions-ended', fn);
  }

  /** FAPP therapists changed in a commit of this instance: other instances re-read them (this one has already applied them). */
  fappChanged(therapistIds: string[]): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || therapistIds.length === 0) return;
    try {
      nc.publish(NATS_FAPP_CHANGED, Buffer.from(JSON.stringify(therapistIds)));
    } catch (e) {
      this.log.warn(`NATS publish failed: ${(e as Error).message}`);
    }
  }
  /** Therapists changed on another instance; `null`: changes may have been missed (NATS reconnected), re-read everything. */
  onFappChanged(fn: (therapistIds: string[] | null) => void): () => void {
    this.bus.on('fapp-changed', fn);
    return () => this.bus.off('fapp-changed', fn);
  }

  messages(deviceId: string, messages: QueuedMessage[]): void {
    this.bus.emit(`m:${deviceId}`, messages);
    this.publish(deviceId, { t: 'm', m: messages });
  }
  onMessages(deviceId: string, fn: (m: QueuedMessage[]) => void): () => void {
    return this.listen(`m:${deviceId}`, deviceId, fn);
  }

  /** The device was revoked or its account deleted: drop its connections now, on every instance. */
  deviceGone(deviceId: string): void {
    this.bus.emit(`g:${deviceId}`);
    this.publish(deviceId, { t: 'g' });
  }
  onDeviceGone(deviceId: string, fn: () => void): () => void {
    return this.listen(`g:${deviceId}`, deviceId, fn);
  }

  keysLow(deviceId: string, available: number): void {
    this.bus.emit(`k:${deviceId}`, available);
    this.publish(deviceId, { t: 'k', n: available });
  }
  onKeysLow(deviceId: string, fn: (available: number) => void): () => void {
    return this.listen(`k:${deviceId}`, deviceId, fn);
  }

  private listen<A extends unknown[]>(event: string, deviceId: string, fn: (...a: A) => void): () => void {
    this.bus.on(event, fn as (...a: unknown[]) => void);
    this.ref(deviceId);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.bus.off(event, fn as (...a: unknown[]) => void);
      this.unref(deviceId);
    };
  }

  private ref(deviceId: string): void {
    const s = this.subs.get(deviceId);
    if (s) {
      s.refs++;
      return;
    }
    this.subs.set(deviceId, { sub: undefined, refs: 1 });
    this.natsSubscribe(deviceId);
  }

  private unref(deviceId: string): void {
    const s = this.subs.get(deviceId);
    if (!s || --s.refs > 0) return;
    this.subs.delete(deviceId);
    s.sub?.unsubscribe();
  }

  private natsSubscribe(deviceId: string): void {
    const s = this.subs.get(deviceId);
    if (!this.nc || this.nc.isClosed() || !s || s.sub) return;
    s.sub = subscribeJson<Frame>(this.nc, NATS_SUBJECT_PREFIX + deviceId, (frame) => {
      if (frame.t === 'm') this.bus.emit(`m:${deviceId}`, Array.isArray(frame.m) ? frame.m : []);
      else if (frame.t === 'g') this.bus.emit(`g:${deviceId}`);
      else if (frame.t === 'k') this.bus.emit(`k:${deviceId}`, frame.n);
    });
  }

  private publish(deviceId: string, frame: Frame): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    let data = Buffer.from(JSON.stringify(frame));
    // Too large for one NATS message: send the nudge, the other instance reads the database.
    if (frame.t === 'm' && nc.info && data.length > nc.info.max_payload) data = Buffer.from(JSON.stringify({ t: 'm', m: [] }));
    try {
      nc.publish(NATS_SUBJECT_PREFIX + deviceId, data);
    } catch (e) {
      this.log.warn(`NATS publish failed: ${(e as Error).message}`);
    }
  }

  /** After a reconnect, events may have been missed: every waiting listener looks in the database. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.natsUp = false;
        this.bus.emit('sessions-ended', null);
        this.log.warn('NATS disconnected; pushes from other instances wait for the reconnect');
      }
      if (s.type === 'reconnect') {
        // The subscriptions are renewed by the client on reconnect; what ended meanwhile was missed.
        this.bus.emit('sessions-ended', null);
        this.bus.emit('fapp-changed', null);
        this.natsUp = true;
        this.log.log('NATS reconnected; waiting listeners re-read their queues');
        for (const deviceId of this.subs.keys()) this.bus.emit(`m:${deviceId}`, []);
      }
    }
  }
}

/** Subscribes to `subject` and hands each message's JSON body to `handle`; a message that is not JSON (or a subscription error) is ignored. */
function subscribeJson<T>(nc: NatsConnection, subject: string, handle: (body: T) => void): Subscription {
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      let body: T;
      try {
        body = msg.json<T>();
      } catch {
        return;
      }
      handle(body);
    },
  });
}
