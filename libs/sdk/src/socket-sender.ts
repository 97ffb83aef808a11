import { ApiError } from './errors.js';

/** The part of a WebSocket a SocketSender writes to. */
export interface FrameSink {
  send(data: string): void;
}

/** An answer frame to a `send`: `sent` with the result, or `error` with the problem+json body. */
export interface AnswerFrame {
  type: string;
  ref?: unknown;
  code?: unknown;
  problem?: { status?: unknown; detail?: unknown } & Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Requests over the push socket (`{type:'send', ref, …}`), matched to their answers by `ref`.
 * An `error` answer rejects with the ApiError the HTTP request would have given; a socket that
 * goes away rejects every pending request as `network`, as a failed fetch does, so callers
 * treat both transports alike (the outbox keeps the message and sends it again, under the same
 * client message id, which the server answers with the first result).
 */
export class SocketSender {
  private refs = 0;
  private readonly pending = new Map<string, { resolve(r: unknown): void; reject(e: ApiError): void }>();
  private closed = false;

  constructor(private readonly sink: FrameSink) {}

  request<R>(frame: Record<string, unknown>): Promise<R> {
    if (this.closed) return Promise.reject(new ApiError(0, 'network', 'the push socket is closed'));
    const ref = `r${++this.refs}`;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(ref, { resolve: resolve as (r: unknown) => void, reject });
      try {
        this.sink.send(JSON.stringify({ ...frame, ref }));
      } catch (e) {
        this.pending.delete(ref);
        reject(new ApiError(0, 'network', `the push socket refused the frame: ${(e as Error).message}`));
      }
    });
  }

  /** Settles the request a frame answers; false if the frame answers none of them. */
  answer(frame: AnswerFrame): boolean {
    if (typeof frame.ref !== 'string') return false;
    const p = this.pending.get(frame.ref);
    if (!p) return false;
    this.pending.delete(frame.ref);
    if (frame.type === 'sent') {
      const { type: _type, ref: _ref, ...result } = frame;
      p.resolve(result);
    } else {
      const problem = frame.problem ?? {};
      const status = typeof problem.status === 'number' ? problem.status : 0;
      const code = typeof frame.code === 'string' ? frame.code : 'ws.unknown_answer';
      p.reject(new ApiError(status, code, typeof problem.detail === 'string' ? problem.detail : code, problem));
    }
    return true;
  }

  /** The socket is gone: nothing more goes out, and every pending request fails as `network`. */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new ApiError(0, 'network', 'the push socket closed before the answer'));
    this.pending.clear();
  }
}
