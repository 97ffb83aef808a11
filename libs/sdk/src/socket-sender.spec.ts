import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { SocketSender } from './socket-sender.js';

/** The frames a sender wrote, as a socket would carry them. */
function sink(fail = false) {
  const frames: Record<string, unknown>[] = [];
  return {
    frames,
    send(data: string) {
      if (fail) throw new Error('not open');
      frames.push(JSON.parse(data) as Record<string, unknown>);
    },
  };
}

describe('SocketSender', () => {
  it('gives every request its own ref and settles each with its own answer, in any order', async () => {
    const out = sink();
    const s = new SocketSender(out);
    const a = s.request<{ deliveries: unknown[] }>({ type: 'send', groupId: 'g', clientMessageId: 'one' });
    const b = s.request<{ deliveries: unknown[] }>({ type: 'send', groupId: 'g', clientMessageId: 'two' });
    const [fa, fb] = out.frames;
    expect(fa).toMatchObject({ type: 'send', clientMessageId: 'one' });
    expect(fa!.ref).not.toBe(fb!.ref);
    expect(s.answer({ type: 'sent', ref: fb!.ref, deliveries: ['b'], duplicate: false })).toBe(true);
    expect(s.answer({ type: 'sent', ref: fa!.ref, deliveries: ['a'], duplicate: true })).toBe(true);
    expect(await a).toEqual({ deliveries: ['a'], duplicate: true });
    expect(await b).toEqual({ deliveries: ['b'], duplicate: false });
    // Answered once: the same ref again, and frames that answer nothing, are not its.
    expect(s.answer({ type: 'sent', ref: fa!.ref })).toBe(false);
    expect(s.answer({ type: 'messages' })).toBe(false);
    expect(s.answer({ type: 'error', code: 'ws.invalid_ref' })).toBe(false);
  });

  it('an error answer rejects with the ApiError HTTP would give: status, code, detail and the problem body', async () => {
    const out = sink();
    const s = new SocketSender(out);
    const p = s.request({ type: 'send' });
    const problem = { type: 'urn:qpc:problem:groups.not_found', title: 'Not Found', status: 404, code: 'groups.not_found', detail: 'No such group' };
    s.answer({ type: 'error', ref: out.frames[0]!.ref, code: 'groups.not_found', problem });
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 404, code: 'groups.not_found', message: 'No such group', problem });
  });

  it('a closed socket fails pending and later requests as network errors; a socket that throws on send does too', async () => {
    const s = new SocketSender(sink());
    const pending = s.request({ type: 'send' });
    s.close();
    await expect(pending).rejects.toMatchObject({ status: 0, code: 'network' });
    await expect(s.request({ type: 'send' })).rejects.toMatchObject({ code: 'network' });
    await expect(new SocketSender(sink(true)).request({ type: 'send' })).rejects.toMatchObject({ code: 'network' });
  });
});
