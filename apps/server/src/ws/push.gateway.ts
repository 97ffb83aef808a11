import { Inject, Logger } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { DeliveryRepository } from '../delivery/delivery.repository.js';
import { toQueued } from '../delivery/delivery.service.js';
import { MessengerEvents, type QueuedMessage } from '../messenger/messenger-events.js';
import { SessionStore } from '../messenger/session.guard.js';

const HELLO_TIMEOUT_MS = 10_000;
const BACKLOG_PAGE = 500;

/** Close codes (4000–4999 are the application's). */
export const WS_CLOSE = { unauthenticated: 4401, revoked: 4403, protocol: 4400 } as const;

/**
 * Push at /api/v1/ws, one connection per device session. The token travels in the first frame
 * (never in the URL, which proxies log):
 *   -> {type:'hello', token, after}  <- {type:'ready', nextSeq} then {type:'messages', messages}
 *   -> {type:'ack', upTo}            <- {type:'acked', depth}
 *   <- {type:'keys.low', available}
 * Reconnecting with `after` = the last processed sequence resumes from there.
 */
@WebSocketGateway({ path: '/api/v1/ws' })
export class PushGateway implements OnGatewayConnection {
  private readonly log = new Logger('push');

  constructor(
    @Inject(SessionStore) private readonly sessions: SessionStore,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
    @Inject(DeliveryRepository) private readonly delivery: DeliveryRepository,
  ) {}

  handleConnection(socket: WebSocket): void {
    let deviceId: string | undefined;
    const offs: (() => void)[] = [];
    const timer = setTimeout(() => socket.close(WS_CLOSE.unauthenticated, 'hello expected'), HELLO_TIMEOUT_MS);
    const send = (frame: unknown) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
    };
    socket.on('close', () => {
      clearTimeout(timer);
      offs.forEach((off) => off());
    });
    socket.on('message', (raw) => {
      let frame: { type?: unknown; token?: unknown; after?: unknown; upTo?: unknown };
      try {
        frame = JSON.parse(String(raw)) as typeof frame;
      } catch {
        socket.close(WS_CLOSE.protocol, 'frames are JSON');
        return;
      }
      if (frame.type === 'hello' && !deviceId) {
        clearTimeout(timer);
        const after = typeof frame.after === 'number' && Number.isSafeInteger(frame.after) && frame.after >= 0 ? frame.after : 0;
        void this.hello(socket, typeof frame.token === 'string' ? frame.token : undefined, after, send, offs).then((id) => (deviceId = id));
      } else if (frame.type === 'ack' && deviceId && typeof frame.upTo === 'number' && Number.isSafeInteger(frame.upTo)) {
        void this.delivery.ack(deviceId, frame.upTo).then(
          (depth) => send({ type: 'acked', upTo: frame.upTo, depth }),
          (e: unknown) => {
            // A failed ack (database gone, shutdown) must not take the process down; the client acks again.
            this.log.error(e);
            send({ type: 'error', code: 'ws.ack_failed' });
          },
        );
      } else if (frame.type !== 'hello') {
        send({ type: 'error', code: deviceId ? 'ws.unknown_frame' : 'auth.unauthenticated' });
      }
    });
  }

  private async hello(socket: WebSocket, token: string | undefined, after: number, send: (f: unknown) => void, offs: (() => void)[]): Promise<string | undefined> {
    try {
      const session = await this.sessions.resolve(token);
      if (!session) {
        socket.close(WS_CLOSE.unauthenticated, 'invalid session');
        return undefined;
      }
      const id = session.deviceId;
      // Messages go out in sequence order without holes: a client acks "up to", so a message
      // skipped here would be deleted unseen. Live events that do not continue the sequence (an
      // empty nudge, events from two instances crossing on NATS, a reconnect) make the
      // connection re-read its queue from the database, which holds every committed message.
      let lastSent = after;
      let pending: QueuedMessage[] | null = [];
      const sendFrom = (messages: QueuedMessage[]) => {
        const fresh = messages.filter((m) => m.seq > lastSent);
        if (fresh.length === 0) return;
        lastSent = fresh[fresh.length - 1]!.seq;
        send({ type: 'messages', messages: fresh });
      };
      let nudged = false;
      const catchUp = async (): Promise<void> => {
        pending = [];
        try {
          do {
            nudged = false;
            for (;;) {
              const rows = await this.delivery.fetch(id, lastSent, BACKLOG_PAGE);
              if (rows.length > 0) sendFrom(rows.map(toQueued));
              if (rows.length < BACKLOG_PAGE) break;
            }
          } while (nudged);
        } finally {
          const later = pending.sort((a, b) => a.seq - b.seq);
          pending = null;
          // Committed after the read (or read already): in order, and the database was just consulted.
          sendFrom(later);
        }
      };
      const live = (messages: QueuedMessage[]) => {
        if (pending) {
          if (messages.length === 0) nudged = true;
          pending.push(...messages);
          return;
        }
        const fresh = messages.filter((m) => m.seq > lastSent).sort((a, b) => a.seq - b.seq);
        const inOrder = fresh.length > 0 && fresh.every((m, i) => m.seq === lastSent + 1 + i);
        if (inOrder) sendFrom(fresh);
        else if (messages.length === 0 || fresh.length > 0) void catchUp().catch((e) => this.log.error(e));
      };
      offs.push(this.events.onMessages(id, live));
      offs.push(this.events.onDeviceGone(id, () => socket.close(WS_CLOSE.revoked, 'device revoked')));
      offs.push(this.events.onKeysLow(id, (available) => send({ type: 'keys.low', available })));
      // Subscribed on every instance before the queue is read: nothing committed from here on is missed.
      await this.events.settled();
      send({ type: 'ready', nextSeq: await this.delivery.nextSeq(id) });
      await catchUp();
      return id;
    } catch (e) {
      this.log.error(e);
      socket.close(1011, 'internal error');
      return undefined;
    }
  }
}
