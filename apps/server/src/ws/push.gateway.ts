import { Inject, Logger } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { b64urlField } from '../common/bytes.js';
import { toProblem } from '../common/problem.filter.js';
import { ServerError } from '../common/server-error.js';
import { createValidationPipe } from '../common/validation.js';
import { DeliveryRepository } from '../delivery/delivery.repository.js';
import { GroupMessageDto } from '../groups/groups.dto.js';
import { GroupsService } from '../groups/groups.service.js';
import { toQueued } from '../delivery/delivery.service.js';
import { MessengerEvents, type QueuedMessage } from '../messenger/messenger-events.js';
import { SessionStore } from '../messenger/session.guard.js';

const HELLO_TIMEOUT_MS = 10_000;
const BACKLOG_PAGE = 500;

/** A `send` frame's `ref`: the client's own correlation id, echoed in the answer. */
const REF = /^[A-Za-z0-9_-]{1,64}$/;

/** Close codes (4000–4999 are the application's). */
export const WS_CLOSE = { unauthenticated: 4401, revoked: 4403, protocol: 4400 } as const;

/**
 * Push at /api/v1/ws, one connection per device session. The token travels in the first frame
 * (never in the URL, which proxies log):
 *   -> {type:'hello', token, after}  <- {type:'ready', nextSeq} then {type:'messages', messages}
 *   -> {type:'ack', upTo, reply?}    <- {type:'acked', upTo, depth} (none with reply: false)
 *   <- {type:'keys.low', available}
 *   -> {type:'send', ref, groupId, clientMessageId, message}
 *                                    <- {type:'sent', ref, deliveries, skipped, duplicate}
 *                                    or {type:'error', ref, code, problem}
 * `send` is `POST /groups/:groupId/messages` over the socket (same validation, limits,
 * idempotency, receipts and error codes; `problem` is the problem+json body HTTP would send), for a client that
 * holds the socket anyway: no HTTP request per message. Answers may come in any order; `ref`
 * (1–64 of A–Z a–z 0–9 _ -) tells them apart. The session is checked again on every send.
 * Reconnecting with `after` = the last processed sequence resumes from there. An ack with
 * `reply: false` is answered only if it fails (`ws.ack_failed`): a client that does not read the
 * depth saves a frame per ack, which on a busy socket is a third of its frames.
 */
@WebSocketGateway({ path: '/api/v1/ws' })
export class PushGateway implements OnGatewayConnection {
  private readonly log = new Logger('push');
  private readonly pipe = createValidationPipe();

  constructor(
    @Inject(SessionStore) private readonly sessions: SessionStore,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
    @Inject(DeliveryRepository) private readonly delivery: DeliveryRepository,
    @Inject(GroupsService) private readonly groups: GroupsService,
  ) {}

  handleConnection(socket: WebSocket): void {
    let deviceId: string | undefined;
    let token: string | undefined;
    let greeted = false;
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
      let frame: { type?: unknown; token?: unknown; after?: unknown; upTo?: unknown; reply?: unknown; ref?: unknown; groupId?: unknown; clientMessageId?: unknown; message?: unknown };
      try {
        frame = JSON.parse(String(raw)) as typeof frame;
      } catch {
        socket.close(WS_CLOSE.protocol, 'frames are JSON');
        return;
      }
      if (frame.type === 'hello' && !greeted) {
        // One hello per socket, also while the first one is still resolving its session.
        greeted = true;
        clearTimeout(timer);
        const after = typeof frame.after === 'number' && Number.isSafeInteger(frame.after) && frame.after >= 0 ? frame.after : 0;
        token = typeof frame.token === 'string' ? frame.token : undefined;
        // The device counts from the moment its session resolves, before `ready` and the backlog:
        // a client may ack or send as soon as it sees `ready`, while the backlog is still read.
        void this.hello(socket, token, after, send, offs, (id) => (deviceId = id));
      } else if (frame.type === 'ack' && deviceId && typeof frame.upTo === 'number' && Number.isSafeInteger(frame.upTo)) {
        const reply = frame.reply !== false;
        void this.delivery.ack(deviceId, frame.upTo).then(
          (depth) => reply && send({ type: 'acked', upTo: frame.upTo, depth }),
          (e: unknown) => {
            // A failed ack (database gone, shutdown) must not take the process down; the client acks again.
            this.log.error(e);
            send({ type: 'error', code: 'ws.ack_failed' });
          },
        );
      } else if (frame.type === 'send' && deviceId) {
        if (typeof frame.ref !== 'string' || !REF.test(frame.ref)) {
          send({ type: 'error', code: 'ws.invalid_ref' });
          return;
        }
        const ref = frame.ref;
        void this.groupSend(socket, token, deviceId, frame).then(
          (result) => send({ type: 'sent', ref, ...result }),
          (e: unknown) => {
            const { problem, internal } = toProblem(e);
            if (internal) this.log.error(e);
            send({ type: 'error', ref, code: problem.code, problem });
          },
        );
      } else if (frame.type !== 'hello') {
        send({ type: 'error', code: deviceId ? 'ws.unknown_frame' : 'auth.unauthenticated' });
      }
    });
  }

  /** A `send` frame: the session is resolved again (a logout or revocation ends it at once). */
  private async groupSend(socket: WebSocket, token: string | undefined, deviceId: string, frame: { groupId?: unknown; clientMessageId?: unknown; message?: unknown }) {
    const session = await this.sessions.resolve(token);
    if (!session || session.deviceId !== deviceId) {
      socket.close(WS_CLOSE.unauthenticated, 'invalid session');
      throw new ServerError('auth.unauthenticated', 401, 'The session has ended');
    }
    const body = (await this.pipe.transform({ clientMessageId: frame.clientMessageId, message: frame.message }, { type: 'body', metatype: GroupMessageDto })) as GroupMessageDto;
    if (typeof frame.groupId !== 'string' || frame.groupId === '') {
      throw new ServerError('request.invalid', 400, 'Invalid request: groupId', { errors: [{ field: 'groupId', messages: ['groupId must be a base64url string'] }] });
    }
    const groupId = b64urlField(frame.groupId, 'groupId');
    return this.groups.message(session, groupId, body.clientMessageId, b64urlField(body.message, 'message'));
  }

  private async hello(socket: WebSocket, token: string | undefined, after: number, send: (f: unknown) => void, offs: (() => void)[], authenticated: (deviceId: string) => void): Promise<void> {
    try {
      const session = await this.sessions.resolve(token);
      if (!session) {
        socket.close(WS_CLOSE.unauthenticated, 'invalid session');
        return;
      }
      const id = session.deviceId;
      authenticated(id);
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
    } catch (e) {
      this.log.error(e);
      socket.close(1011, 'internal error');
    }
  }
}
