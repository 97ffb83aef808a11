import { ApiError } from './errors.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:3000 (or the web app's origin, which proxies /api). */
  baseUrl: string;
  fetch?: FetchLike;
  /** Bearer session token, for authenticated calls. */
  token?: string;
}

/**
 * Thin JSON client for the REST API. Problem responses become ApiError with the
 * server's stable `code`; nothing else about the transport leaks to callers.
 */
export class ApiClient {
  private readonly fetchImpl: FetchLike;
  constructor(private readonly opts: ApiClientOptions) {
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Record<string, string | number | boolean | undefined>): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : `${this.opts.baseUrl}/`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url.toString(), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (e) {
      throw new ApiError(0, 'network', `request failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ApiError(res.status, 'malformed_response', 'the server answered with something that is not JSON');
      }
    }
    if (!res.ok) {
      const p = (parsed ?? {}) as Record<string, unknown>;
      throw new ApiError(res.status, typeof p.code === 'string' ? p.code : `http.${res.status}`, typeof p.detail === 'string' ? p.detail : res.statusText, p);
    }
    return parsed as T;
  }
}
