// Twenty members of one MLS group commit on the same epoch at the same moment, with real SDK clients.
import type { AddressInfo } from 'node:net';
import { type IncomingEvent, QpcClient } from '@qpc/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';

const MEMBERS = 20;
let t: TestApp;
let clients: QpcClient[];
let gid: string;
let creatorToken: string;
const kinds = (events: IncomingEvent[]) => events.map((e) => e.kind);

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  clients = Array.from({ length: MEMBERS }, () => new QpcClient({ baseUrl, keyStretching: 'memory-constrained' }));
  for (const [i, c] of clients.entries()) {
    const session = await c.register(`member${i}`, 'pw');
    if (i === 0) creatorToken = session.token;
    if (i > 0) await c.replenishKeyPackages(1);
  }
  gid = await clients[0]!.createGroup();
  for (let i = 1; i < MEMBERS; i++) await clients[0]!.invite(gid, `member${i}`);
  for (const c of clients.slice(1)) expect(kinds(await c.sync())[0]).toBe('joined');
});
afterAll(async () => {
  await t?.close();
});

describe('20 members commit on the same epoch at once', () => {
  it('exactly one wins, the others get 409 delivery.stale_epoch, recover from the winning commit, and their next commit succeeds', async () => {
    const before = (await t.app.inject({ method: 'GET', url: `/api/v1/groups/${gid}`, headers: { authorization: `Bearer ${creatorToken}` } })).json();
    expect(before.members).toHaveLength(MEMBERS);

    const results = await Promise.allSettled(clients.map((c) => c.rotateKeys(gid)));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    const winner = won[0]!;
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 409, code: 'delivery.stale_epoch' });
    }
    const losers = clients.filter((_, i) => i !== winner);

    // Recovery: each loser processes the winning commit (its own pending commit was discarded) ...
    for (const c of losers) expect(kinds(await c.sync())).toEqual(['commit']);
    // ... and then commits successfully, one after another (each first takes in the previous one).
    for (const c of losers) {
      await c.sync();
      await expect(c.rotateKeys(gid)).resolves.toHaveLength(MEMBERS - 1);
    }
    const after = (await t.app.inject({ method: 'GET', url: `/api/v1/groups/${gid}`, headers: { authorization: `Bearer ${creatorToken}` } })).json();
    expect(after.epoch).toBe(before.epoch + MEMBERS);

    // The epoch they all reached is one: a message from the last committer reads for the winner
    // (who took in all 19 commits since its own) and for the first loser.
    const last = losers[losers.length - 1]!;
    await last.sendText(gid, 'alle auf derselben Epoche');
    for (const c of [clients[winner]!, losers[0]!]) {
      const got = await c.sync();
      expect(got.filter((e) => e.kind === 'gap')).toEqual([]);
      expect(got.map((e) => (e.kind === 'message' ? e.text : e.kind))).toEqual([...Array<string>(c === losers[0] ? MEMBERS - 2 : MEMBERS - 1).fill('commit'), 'alle auf derselben Epoche']);
    }
  });
});
