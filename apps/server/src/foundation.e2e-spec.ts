import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('operational endpoints', () => {
  it('GET /healthz answers while the process is up', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks the database and migrations', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('GET /metrics exposes the latency histogram per route and process metrics', async () => {
    await t.app.inject({ method: 'GET', url: '/healthz' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/qpc_http_request_duration_seconds_bucket\{[^}]*route="\/healthz"/);
    expect(res.body).toContain('qpc_process_resident_memory_bytes');
  });

  it('serves the OpenAPI document and its UI', async () => {
    const doc = await t.app.inject({ method: 'GET', url: '/api/docs/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./), info: { title: 'quicprochat API' } });
    expect(Object.keys(doc.json().paths)).toContain('/readyz');
    const ui = await t.app.inject({ method: 'GET', url: '/api/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
    expect(ui.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}\/[^"']*\.(js|css)/i);
  });
});

describe('errors are problem+json', () => {
  it('unknown routes are 404 with a stable code', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/no-such-thing' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 404, code: 'http.not_found', title: 'Not Found' });
  });

  it('malformed JSON is a 400, never a 500, with no stack trace', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/no-such-thing', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('request.malformed');
    expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('bodies over the limit are 413', async () => {
    const small = await createTestApp({ BODY_LIMIT_BYTES: '2048' });
    try {
      const res = await small.app.inject({ method: 'POST', url: '/api/v1/anything', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'a'.repeat(4096) }) });
      expect(res.statusCode).toBe(413);
      expect(res.json().code).toBe('request.body_too_large');
    } finally {
      await small.close();
    }
  });
});

describe('request ids and logs', () => {
  it('returns a request id and writes it on the request log line', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz?q=secret-search' });
    const id = res.headers['x-request-id'];
    expect(typeof id).toBe('string');
    const line = t.logs.find((l) => l.reqId === id && l.msg === 'request');
    expect(line).toMatchObject({ method: 'GET', route: '/healthz', status: 200 });
    expect(t.rawLogs()).not.toContain('secret-search');
  });

  it('keeps a well-formed client request id and replaces a malformed one', async () => {
    const kept = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\n{"level":60}' } });
    expect(replaced.headers['x-request-id']).not.toContain('bad');
  });

  it('never logs an IP address or user agent', async () => {
    await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'user-agent': 'UA-Marker/1.0', 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '198.51.100.7' });
    const raw = t.rawLogs();
    expect(raw).not.toContain('UA-Marker');
    expect(raw).not.toContain('203.0.113.9');
    expect(raw).not.toContain('198.51.100.7');
  });
});
