import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ReadableStream as NodeReadableStream } from 'node:stream/web';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers';
import { problemResponse } from './problem';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
const UPSTREAM_TIMEOUT_MS = 60_000;

/**
 * The API server's base URL, read on every request (not frozen at build time like rewrites),
 * so one build runs against any server.
 */
export function apiBaseUrl(env: Record<string, string | undefined> = process.env): URL | null {
  const raw = env.QPC_API_URL?.trim() || DEFAULT_API_URL;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** Maps `/api/...?...` of this origin onto the API server, keeping any base path it has. */
export function upstreamUrl(base: URL, incoming: URL): URL {
  const basePath = base.pathname.replace(/\/+$/, '');
  const target = new URL(base.href);
  target.pathname = `${basePath}${incoming.pathname}`;
  target.search = incoming.search;
  return target;
}

const BODYLESS_STATUS = new Set([204, 205, 304]);

/**
 * Forwards one request to the API server with node:http (not fetch: fetch would add its own
 * user agent), streaming the body both ways.
 */
export async function forwardToApi(request: Request): Promise<Response> {
  const base = apiBaseUrl();
  if (!base) {
    console.error('web: QPC_API_URL is not an http(s) URL');
    return problemResponse(502, 'web.upstream_unavailable', 'Bad Gateway', 'The API server is not configured.');
  }
  const incoming = new URL(request.url);
  const target = upstreamUrl(base, incoming);
  const method = request.method.toUpperCase();
  const headers = upstreamRequestHeaders(request.headers);
  const hasBody = request.body !== null && method !== 'GET' && method !== 'HEAD';
  if (!hasBody) delete headers['content-length'];

  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(target, { method, headers, signal: request.signal, timeout: UPSTREAM_TIMEOUT_MS });

  const response = new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
    upstream.once('timeout', () => upstream.destroy(new UpstreamTimeout()));
  });
  // Errors surface through the awaits below; this only keeps an early rejection from counting
  // as unhandled while nothing awaits it yet.
  response.catch(() => undefined);
  const connected = new Promise<void>((resolve, reject) => {
    upstream.once('error', reject);
    upstream.once('socket', (socket) => (socket.connecting ? socket.once('connect', () => resolve()) : resolve()));
  });
  connected.catch(() => undefined);

  let bodyStarted = false;
  try {
    if (hasBody) {
      // Touch the body only once the server is reachable: if it is not, the body is drained
      // below so the browser's connection stays usable for its next request.
      await connected;
      bodyStarted = true;
      await pipeline(Readable.fromWeb(request.body as unknown as NodeReadableStream<Uint8Array>), upstream);
    } else {
      upstream.end();
    }
    const res = await response;
    const status = res.statusCode ?? 502;
    const outHeaders = downstreamResponseHeaders(res.headers);
    if (BODYLESS_STATUS.has(status) || method === 'HEAD') {
      res.resume();
      return new Response(null, { status, headers: outHeaders });
    }
    return new Response(Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>, { status, headers: outHeaders });
  } catch (error) {
    upstream.destroy();
    if (hasBody && !bodyStarted && request.body) await discard(request.body, DRAIN_LIMIT_BYTES);
    if (error instanceof UpstreamTimeout) {
      return problemResponse(504, 'web.upstream_timeout', 'Gateway Timeout', 'The API server did not answer in time.');
    }
    if (request.signal.aborted) {
      // The browser went away; nobody reads this answer.
      return problemResponse(499, 'web.client_closed', 'Client Closed Request');
    }
    return problemResponse(502, 'web.upstream_unavailable', 'Bad Gateway', 'The API server cannot be reached.');
  }
}

const DRAIN_LIMIT_BYTES = 1 << 20;

/** Reads and drops an unread request body up to a limit (beyond it the connection may close). */
async function discard(body: ReadableStream<Uint8Array>, limit: number): Promise<void> {
  const reader = body.getReader();
  let seen = 0;
  try {
    while (seen <= limit) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client is gone; nothing to keep usable
  }
}

class UpstreamTimeout extends Error {
  constructor() {
    super('upstream timeout');
  }
}
