import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { censorSecrets, createLogger } from './logger.js';

/** A logger at `info` whose lines are collected, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe('the logger', () => {
  it('censors secrets at the top of a line and one level down, leaving everything else', () => {
    const { logger, lines } = capture();
    const req = { method: 'POST', headers: { authorization: 'Bearer abc', 'user-agent': 'x' } };
    const account = { name: 'therapist', password: 'hunter2', secret: 's3', nested: { password: 'deep' } };
    logger.info({ authorization: 'Bearer top', password: 'p', secret: 's', req, account, n: 1 }, 'line');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatchObject({ msg: 'line', n: 1, authorization: '[redacted]', password: '[redacted]', secret: '[redacted]' });
    expect(line.req).toEqual({ method: 'POST', headers: '[redacted]' });
    // One level down only, as the censored paths say: deeper objects are the caller's to keep clean.
    expect(line.account).toEqual({ name: 'therapist', password: '[redacted]', secret: '[redacted]', nested: { password: 'deep' } });
    expect(JSON.stringify(line)).not.toMatch(/abc|hunter2|s3"|Bearer top/);
    // The caller's objects are not changed.
    expect(req.headers.authorization).toBe('Bearer abc');
    expect(account.password).toBe('hunter2');
  });

  it("censors a child logger's bindings and a logged error's properties, keeping the error's message and stack", () => {
    const { logger, lines } = capture();
    const e = Object.assign(new Error('upstream refused'), { headers: { cookie: 'c' }, status: 502 });
    logger.child({ component: 'x', secret: 'bound' }).error({ err: e }, 'failed');
    const line = lines[0]!;
    expect(line).toMatchObject({ component: 'x', secret: '[redacted]', msg: 'failed' });
    expect(line.err).toMatchObject({ type: 'Error', message: 'upstream refused', headers: '[redacted]', status: 502 });
    expect((line.err as { stack: string }).stack).toContain('upstream refused');
    expect(JSON.stringify(line)).not.toMatch(/bound|cookie/);
  });

  it('copies nothing when a line carries no secret', () => {
    const o = { reqId: 'r', method: 'GET', route: '/api/v1/fapp/slots', status: 200, ms: 0.4, meta: { a: 1 } };
    expect(censorSecrets(o)).toBe(o);
    // Arrays and byte arrays are not walked key by key (a megabyte would be a million keys).
    const data = { bytes: new Uint8Array(1 << 20), list: [1, 2, 3] };
    expect(censorSecrets(data)).toBe(data);
  });
});
