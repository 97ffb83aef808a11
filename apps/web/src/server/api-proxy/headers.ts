// Which headers cross the proxy. Requests use an allowlist: patient endpoints are anonymous,
// so nothing that identifies the browser or its network (client IP, X-Forwarded-*, cookies,
// user agent, language, referer) may reach the API server. Responses pass through minus
// hop-by-hop headers and cookies.

/** The only request headers forwarded to the API server. */
export const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'content-length',
  'idempotency-key',
  'if-match',
  'if-none-match',
  // The anonymous mailbox's capability: a header, so it never appears in a URL or access log.
  'x-mailbox-capability',
] as const;

/** RFC 9110 §7.6.1 connection-specific headers, plus the ones a proxy must not relay. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Dropped from responses: the web origin sets no cookies, and the body is re-framed. */
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'content-length', 'server', 'x-powered-by']);

type HeaderGetter = { get(name: string): string | null };

export function upstreamRequestHeaders(incoming: HeaderGetter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) out[name] = value;
  }
  // The body is relayed untouched, so ask for it uncompressed; the web server compresses for the client.
  out['accept-encoding'] = 'identity';
  return out;
}

/** Response headers as node:http delivers them (lower-case names; arrays for repeats). */
export function downstreamResponseHeaders(incoming: Record<string, string | string[] | undefined>): Headers {
  const connectionListed = new Set(
    String(incoming['connection'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || connectionListed.has(lower) || DROPPED_RESPONSE_HEADERS.has(lower)) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(lower, v);
  }
  return out;
}
