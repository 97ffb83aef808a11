// The in-memory search index against the database's own search: same hits, in the same order,
// after every kind of change, on this instance and (over NATS) on another one.
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { toHex } from '@qpc/crypto';
import { buildAnnounce, buildConfirm, createReservation, openReservation, signChallenge, verifyAnnounce, type PatientReservation, type SlotFilter } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { buildDemoDataset, DEMO_AUTHORITY_NAME, type DemoDataset, type DemoTherapist } from '@qpc/seed';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { createApp } from '../app.js';
import { createLogger } from '../common/logger.js';
import { loadConfig } from '../config/config.js';
import { FappRepository } from './fapp.repository.js';
import { FappSearchIndex } from './search-index.js';

const T0 = Date.UTC(2026, 9, 20, 7, 0);
const POW_BITS = 6;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

let a: TestApp;
let b: NestFastifyApplication;
let clock: TestClock;
let data: DemoDataset;

const post = (app: NestFastifyApplication, url: string, payload: unknown) =>
  app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: { 'content-type': 'application/json' } });

/** Filters over every field, each alone and combined (a fixed pseudo-random set, so failures reproduce). */
function filters(): SlotFilter[] {
  const prefixes = [...new Set(data.therapists.map((t) => t.plz.slice(0, 2)))];
  const out: SlotFilter[] = [
    {},
    { limit: 500 },
    { plzPrefix: prefixes[0]! },
    { plzPrefix: data.therapists[3]!.plz },
    { fachrichtungen: [Fachrichtung.ANALYTISCH, Fachrichtung.SYSTEMISCH] },
    { kostentraeger: [Kostentraeger.GKV] },
    { terminarten: [Terminart.GRUPPE] },
    { altersgruppe: Altersgruppe.KINDER_JUGENDLICHE },
    { modalitaeten: [Modalitaet.VIDEO] },
    { language: 'en' },
    { barrierFreeOnly: true },
    { verifiedOnly: true },
    { fromMs: T0 + 7 * 86_400_000, untilMs: T0 + 14 * 86_400_000 },
    { untilMs: T0 + 2 * 86_400_000, limit: 3 },
  ];
  let x = 7;
  const rnd = (n: number) => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x % n;
  };
  for (let i = 0; i < 40; i++) {
    const f: SlotFilter = { limit: 1 + rnd(120) };
    if (rnd(2)) f.plzPrefix = prefixes[rnd(prefixes.length)]!;
    if (rnd(3) === 0) f.kostentraeger = [1 + rnd(4)] as Kostentraeger[];
    if (rnd(3) === 0) f.fachrichtungen = [1 + rnd(4)] as Fachrichtung[];
    if (rnd(3) === 0) f.terminarten = [1 + rnd(5), 1 + rnd(5)] as Terminart[];
    if (rnd(4) === 0) f.verifiedOnly = true;
    if (rnd(4) === 0) f.fromMs = T0 + rnd(20) * 86_400_000;
    out.push(f);
  }
  return out;
}

/** The index's hits and the database's for every filter, at the clock's time. */
async function both(app: NestFastifyApplication, nowMs = clock.now()) {
  const index = app.get(FappSearchIndex);
  const repo = app.get(FappRepository);
  const pairs = [];
  for (const f of filters()) {
    const limit = f.limit ?? 50;
    pairs.push({ filter: f, index: await index.search(f, nowMs, limit), db: await repo.search(f, nowMs, limit) });
  }
  return pairs;
}

async function expectSameAsDatabase(app: NestFastifyApplication, nowMs = clock.now()) {
  const pairs = await both(app, nowMs);
  for (const p of pairs) expect({ filter: p.filter, hits: p.index }).toEqual({ filter: p.filter, hits: p.db });
  // The filters are not vacuous: most find something, and some are cut by their limit.
  expect(pairs.filter((p) => p.db.length > 0).length).toBeGreaterThan(pairs.length / 2);
  return pairs;
}

const hitIds = async (app: NestFastifyApplication, f: SlotFilter = { limit: 500 }) =>
  (await app.get(FappSearchIndex).search(f, clock.now(), f.limit ?? 50)).map((h) => `${h.therapist_id}/${h.slot_id}`);

async function reserve(th: DemoTherapist, slotIndex: number): Promise<PatientReservation> {
  const announce = verifyAnnounce(th.announce, { nowMs: clock.now(), trust: data.authority.trust }).announce;
  const r = await createReservation({ announce, slotId: announce.slots[slotIndex]!.id, contact: 'x', message: 'y', difficultyBits: POW_BITS, nowMs: clock.now() });
  expect((await post(a.app, '/api/v1/fapp/reservations', { reservation: b64(r.bytes) })).statusCode).toBe(201);
  return r;
}

async function answer(th: DemoTherapist, decision: 'confirmed' | 'declined') {
  const ch = (await post(a.app, '/api/v1/fapp/therapist/challenge', {})).json();
  const inbox = await post(a.app, '/api/v1/fapp/therapist/reservations', {
    therapistKey: b64(th.signing.publicKey),
    challenge: ch.challenge,
    signature: b64(signChallenge(th.signing, Buffer.from(ch.challenge, 'hex'))),
  });
  const pending = inbox.json().reservations.find((x: { state: string }) => x.state === 'held');
  const opened = await openReservation(unb64(pending.reservation), th.kem.secretKey);
  expect((await post(a.app, '/api/v1/fapp/therapist/answers', { answer: b64(await buildConfirm(th.signing, opened, decision, 'ok', clock.now())) })).statusCode).toBe(200);
}

const slotKey = (th: DemoTherapist, i: number) => `${toHex(th.signing.publicKey)}/${verifyAnnounce(th.announce, { nowMs: clock.now(), trust: data.authority.trust }).announce.slots[i]!.idHex}`;

beforeAll(async () => {
  clock = new TestClock(T0);
  data = buildDemoDataset({ therapists: 60, now: T0, seed: 'search-index-e2e', verifiedShare: 0.7 });
  const env = {
    NATS_URL,
    FAPP_AUTHORITIES: `${DEMO_AUTHORITY_NAME}=${toHex(data.authority.keys.publicKey)}`,
    FAPP_POW_BITS: String(POW_BITS),
    FAPP_SLOT_RATE_PER_MIN: '1000',
  };
  a = await createTestApp(env, { clock });
  // Instance B: the same database, its own index and its own NATS connection.
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DB_POOL_SIZE: '4', ...env });
  b = (await createApp({ config, databaseUrl: a.db.url, clock, logger: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })) })).app;
  await b.init();
  const res = await post(a.app, '/api/v1/fapp/announces/batch', { announces: data.announces.map(b64) });
  expect(res.statusCode).toBe(200);
  expect(res.json().stored).toBe(60);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('FappSearchIndex', () => {
  it('gives the database search its hits in its order, for every filter', async () => {
    await expectSameAsDatabase(a.app);
  });

  it('hides a held slot at once, keeps a booked one hidden, and shows a declined one again', async () => {
    const [x, y] = [data.therapists[1]!, data.therapists[2]!];
    await reserve(x, 0);
    await reserve(y, 0);
    expect(await hitIds(a.app)).not.toContain(slotKey(x, 0));
    await answer(x, 'confirmed');
    await answer(y, 'declined');
    const ids = await hitIds(a.app);
    expect(ids).not.toContain(slotKey(x, 0));
    expect(ids).toContain(slotKey(y, 0));
    await expectSameAsDatabase(a.app);
  });

  it('frees an unanswered hold when it runs out, as the database does', async () => {
    const z = data.therapists[4]!;
    await reserve(z, 1);
    expect(await hitIds(a.app)).not.toContain(slotKey(z, 1));
    const later = clock.now() + 16 * 60_000;
    expect((await a.app.get(FappSearchIndex).search({ limit: 500 }, later, 500)).map((h) => `${h.therapist_id}/${h.slot_id}`)).toContain(slotKey(z, 1));
    await expectSameAsDatabase(a.app, later);
  });

  it('follows a re-announce that drops a slot, moves one, and moves the practice to another region', async () => {
    const th = data.therapists[5]!;
    const other = data.therapists.find((t) => t.plz.slice(0, 2) !== th.plz.slice(0, 2))!;
    const [first, second, ...rest] = th.input.slots;
    const moved = { ...second!, startMs: second!.startMs + 3 * 3_600_000 };
    const next = buildAnnounce(th.signing, { ...th.input, plz: other.plz, sequence: th.input.sequence + 1, slots: [moved, ...rest] }, clock.now());
    expect((await post(a.app, '/api/v1/fapp/announces', { announce: b64(next) })).statusCode).toBe(201);
    const hits = await a.app.get(FappSearchIndex).search({ plzPrefix: other.plz.slice(0, 2) }, clock.now(), 500);
    const mine = hits.filter((h) => h.therapist_id === toHex(th.signing.publicKey));
    expect(mine.length).toBe(rest.length + 1);
    expect(mine.map((h) => h.start_at.getTime())).toContain(moved.startMs);
    expect(mine.map((h) => h.start_at.getTime())).not.toContain(first!.startMs);
    expect((await a.app.get(FappSearchIndex).search({ plzPrefix: th.plz.slice(0, 2) }, clock.now(), 500)).some((h) => h.therapist_id === toHex(th.signing.publicKey))).toBe(false);
    await expectSameAsDatabase(a.app);
  });

  it('sees what was written around it (a bulk load) after reload, and equals the database again', async () => {
    const th = data.therapists[6]!;
    const id = toHex(th.signing.publicKey);
    const near: SlotFilter = { plzPrefix: th.plz, limit: 500 };
    await a.app.get(DataSource).query(`DELETE FROM fapp_announce WHERE therapist_id = $1`, [id]);
    expect((await hitIds(a.app, near)).some((k) => k.startsWith(id))).toBe(true);
    await a.app.get(FappSearchIndex).reload();
    expect((await hitIds(a.app, near)).some((k) => k.startsWith(id))).toBe(false);
    await expectSameAsDatabase(a.app);
    await b.get(FappSearchIndex).reload();
    await expectSameAsDatabase(b);
  });

  it('another instance follows this one over NATS: announces, holds and answers', async () => {
    const th = data.therapists[7]!;
    const id = toHex(th.signing.publicKey);
    const next = buildAnnounce(th.signing, { ...th.input, sequence: th.input.sequence + 1, slots: th.input.slots.slice(1) }, clock.now());
    expect((await post(a.app, '/api/v1/fapp/announces', { announce: b64(next) })).statusCode).toBe(201);
    await expect.poll(async () => (await hitIds(b)).filter((k) => k.startsWith(id)).length).toBe(th.input.slots.length - 1);
    const u = data.therapists[8]!;
    await reserve(u, 0);
    await expect.poll(async () => (await hitIds(b)).includes(slotKey(u, 0))).toBe(false);
    await answer(u, 'declined');
    await expect.poll(async () => (await hitIds(b)).includes(slotKey(u, 0))).toBe(true);
    await expectSameAsDatabase(b);
  });
});
