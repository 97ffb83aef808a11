import { describe, expect, it } from 'vitest';
import { apiBaseUrl, DEFAULT_API_URL, upstreamUrl } from './forward';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers';

describe('upstreamRequestHeaders', () => {
  it('forwards only the allowlisted headers: nothing that identifies the patient', () => {
    const incoming = new Headers({
      accept: 'application/json',
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'idempotency-key': 'k1',
      'x-mailbox-capability': 'cap',
      cookie: 'a=b',
      'user-agent': 'Mozilla/5.0',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-host': 'example.org',
      'x-real-ip': '203.0.113.9',
      forwarded: 'for=203.0.113.9',
      referer: 'http://127.0.0.1/de',
      'accept-language': 'de-DE',
      connection: 'keep-alive',
      host: 'web.local',
    });
    expect(upstreamRequestHeaders(incoming)).toEqual({
      accept: 'application/json',
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'idempotency-key': 'k1',
      'x-mailbox-capability': 'cap',
      'accept-encoding': 'identity',
    });
  });
});

describe('downstreamResponseHeaders', () => {
  it('passes end-to-end headers and drops hop-by-hop ones, cookies and those named in Connection', () => {
    const out = downstreamResponseHeaders({
      'content-type': 'application/problem+json',
      'x-request-id': 'r1',
      'retry-after': '3',
      connection: 'keep-alive, x-hop',
      'x-hop': 'secret',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'set-cookie': ['a=b', 'c=d'],
      'content-length': '12',
      link: ['<a>; rel=x', '<b>; rel=y'],
      missing: undefined,
    });
    expect(Object.fromEntries(out)).toEqual({
      'content-type': 'application/problem+json',
      'x-request-id': 'r1',
      'retry-after': '3',
      link: '<a>; rel=x, <b>; rel=y',
    });
  });
});

describe('apiBaseUrl', () => {
  it('defaults to the local server and accepts only http(s)', () => {
    expect(apiBaseUrl({})?.href).toBe(`${DEFAULT_API_URL}/`);
    expect(apiBaseUrl({ QPC_API_URL: ' http://10.0.0.2:8080 ' })?.href).toBe('http://10.0.0.2:8080/');
    expect(apiBaseUrl({ QPC_API_URL: 'file:///etc/passwd' })).toBeNull();
    expect(apiBaseUrl({ QPC_API_URL: 'not a url' })).toBeNull();
  });
});

describe('upstreamUrl', () => {
  it('keeps path, query and a base path of the API server', () => {
    const incoming = new URL('http://web.local/api/v1/fapp/announces?plz=10&cursor=a%2Fb');
    expect(upstreamUrl(new URL('http://127.0.0.1:3000'), incoming).href).toBe(
      'http://127.0.0.1:3000/api/v1/fapp/announces?plz=10&cursor=a%2Fb',
    );
    expect(upstreamUrl(new URL('https://api.example/qpc/'), incoming).href).toBe(
      'https://api.example/qpc/api/v1/fapp/announces?plz=10&cursor=a%2Fb',
    );
  });
});
