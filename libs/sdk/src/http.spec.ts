/// <reference types="node" />
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './index.js';

// A real HTTP server on 127.0.0.1 stands in for the API: the client's own code runs unmocked.
let server: Server;
let base: string;
const seen: { method?: string; url?: string; auth?: string; body?: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      if (req.url?.startsWith('/api/v1/ok')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body ? JSON.parse(body) : null }));
      } else if (req.url === '/api/v1/garbage') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      } else {
        res.writeHead(409, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 409, code: 'fapp.slot_held', detail: 'held' }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('ApiClient', () => {
  it('sends JSON with the bearer token and query parameters', async () => {
    const api = new ApiClient({ baseUrl: base, token: 'tok' });
    const res = await api.request<{ echo: unknown }>('POST', '/api/v1/ok', { a: 1 }, { plz: '10', skip: undefined });
    expect(res.echo).toEqual({ a: 1 });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/ok?plz=10', auth: 'Bearer tok' });
  });

  it('turns a problem+json answer into ApiError with the stable code', async () => {
    const api = new ApiClient({ baseUrl: base });
    const err = await api.request('GET', '/api/v1/held').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'fapp.slot_held' });
  });

  it('reports a non-JSON answer and an unreachable server as ApiError', async () => {
    const api = new ApiClient({ baseUrl: base });
    await expect(api.request('GET', '/api/v1/garbage')).rejects.toMatchObject({ code: 'malformed_response' });
    const down = new ApiClient({ baseUrl: 'http://127.0.0.1:1' });
    await expect(down.request('GET', '/x')).rejects.toMatchObject({ code: 'network', status: 0 });
  });
});
