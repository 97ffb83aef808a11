// Arbitrary input to every FAPP route: whatever a client sends (any JSON, any bytes in a
// base64url field, any bytes as a protobuf body, a valid message with bytes flipped or cut, any
// path or query), the answer is a 2xx or a 4xx problem+json with a stable code, never a 5xx, and
// nothing is stored that a valid request did not send.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { generateKemKeyPair, generateSigningKeyPair, toHex, verifyStamp } from '@qpc/crypto';
import { buildAnnounce, createReservation, createTrustStore, signChallenge, stampContext, verifyAnnounce } from '@qpc/fapp';
import { FappAnnounceBatchSchema, FappSignedSchema, SlotReserveSchema, Terminart } from '@qpc/proto';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainAnnounceInput } from '../../test/announces.js';
import { createTestApp, type TestApp } from '../../test/app.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const RUNS = 150;
const POW_BITS = 8;

/** POST routes and the base64url fields of their bodies. */
const POSTS: { url: string; fields: string[] }[] = [
  { url: '/api/v1/fapp/announces', fields: ['announce'] },
  { url: '/api/v1/fapp/reservations', fields: ['reservation'] },
  { url: '/api/v1/fapp/reservations/cancel', fields: ['cancel'] },
  { url: '/api/v1/fapp/therapist/reservations', fields: ['therapistKey', 'challenge', 'signature'] },
  { url: '/api/v1/fapp/therapist/answers', fields: ['answer'] },
  { url: '/api/v1/fapp/therapist/releases', fields: ['release'] },
  { url: '/api/v1/fapp/revocations', fields: ['list'] },
];

let t: TestApp;
/** A valid announce and a valid reservation of its first slot, to spoil. */
let announce: Uint8Array;
let therapistId: string;
let reservation: Uint8Array;

beforeAll(async () => {
  // Per-slot reservation limit above the runs, so every spoilt reservation reaches the checks.
  t = await createTestApp({ FAPP_POW_BITS: String(POW_BITS), FAPP_SLOT_RATE_PER_MIN: '1000' });
  const nowMs = Date.now();
  const first = Math.ceil(nowMs / 3_600_000) * 3_600_000 + 3_600_000;
  const slots = [{ id: new Uint8Array(16).fill(1), startMs: first, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE }];
  const therapist = generateSigningKeyPair();
  therapistId = toHex(therapist.publicKey);
  announce = buildAnnounce(therapist, plainAnnounceInput(generateKemKeyPair().publicKey, slots, 1), nowMs);
  const decoded = verifyAnnounce(announce, { nowMs, trust: createTrustStore([]) }).announce;
  reservation = (await createReservation({ announce: decoded, slotId: slots[0]!.id, contact: 'x', message: 'y', difficultyBits: POW_BITS, nowMs })).bytes;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

/** The therapists with a stored announce. */
async function storedAnnounces(): Promise<string[]> {
  const rows: { id: string }[] = await t.app.get(DataSource).query(`SELECT therapist_id AS id FROM fapp_announce`);
  return rows.map((r) => r.id);
}

/** Stored FAPP rows of every kind. */
async function storedRows(): Promise<number> {
  const ds = t.app.get(DataSource);
  const rows: { n: string }[] = await ds.query(
    `SELECT (SELECT count(*) FROM fapp_announce) + (SELECT count(*) FROM fapp_slot) + (SELECT count(*) FROM fapp_hold) + (SELECT count(*) FROM fapp_mailbox) AS n`,
  );
  return Number(rows[0]!.n);
}

/** A 2xx, or a 4xx problem+json with a code; never a 5xx. */
function expectClientAnswer(res: { statusCode: number; headers: Record<string, unknown>; body: string }, what: string): void {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(String(res.headers['content-type']), what).toContain('application/problem+json');
    expect(JSON.parse(res.body) as { code?: unknown }, what).toMatchObject({ code: expect.stringMatching(/^[a-z_]+\.[a-z_]+$/) as unknown });
  }
}

describe('FAPP routes under arbitrary input', () => {
  it('answer any JSON body with a 4xx problem, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POSTS), fc.jsonValue({ maxDepth: 3 }), async (route, body) => {
        const res = await t.app.inject({ method: 'POST', url: route.url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        expectClientAnswer(res, `${route.url} ${JSON.stringify(body).slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
    expect(await storedRows()).toBe(0);
  });

  it('answer any bytes in their base64url fields with a 4xx problem, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POSTS), fc.uint8Array({ maxLength: 3000 }), async (route, bytes) => {
        const body = Object.fromEntries(route.fields.map((f) => [f, b64(bytes)]));
        const res = await t.app.inject({ method: 'POST', url: route.url, payload: body });
        expectClientAnswer(res, `${route.url} ${bytes.length} bytes`);
      }),
      { numRuns: RUNS },
    );
    expect(await storedRows()).toBe(0);
  });

  it('answer any bytes as an application/protobuf body with a 4xx problem (the batch route: or every item rejected), never a 5xx', async () => {
    const batchUrl = '/api/v1/fapp/announces/batch';
    // Bytes of any shape, and well-formed batches of items of any bytes.
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 8 }).map((announces) => toBinary(FappAnnounceBatchSchema, create(FappAnnounceBatchSchema, { announces }))),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(batchUrl, ...POSTS.map((r) => r.url)), bodies, async (url, bytes) => {
        const res = await t.app.inject({ method: 'POST', url, payload: Buffer.from(bytes), headers: { 'content-type': 'application/protobuf' } });
        expectClientAnswer(res, `${url} ${bytes.length} bytes`);
        if (url !== batchUrl) expect(res.statusCode).toBe(415);
        else if (res.statusCode === 200) expect((res.json() as { results: { status: string }[] }).results.map((r) => r.status)).not.toContain('stored');
      }),
      { numRuns: RUNS },
    );
    expect(await storedRows()).toBe(0);
  });

  it('answer a valid announce or reservation with bytes flipped, cut or appended with a 4xx problem, unless what the server checks is unchanged', async () => {
    // The decoder reads a known field by its declared type whatever wire type its tag gives, and
    // the hop count is not signed: some flipped bytes leave the envelope's signed parts (or the
    // reservation's fields) as they were, and those may be accepted. Nothing else may be.
    const spoiled = (valid: Uint8Array) =>
      fc.oneof(
        fc.record({ at: fc.nat(valid.length - 1), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
          const b = valid.slice();
          b[at]! ^= xor;
          return b;
        }),
        fc.nat(valid.length - 1).map((n) => valid.slice(0, n)),
        fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => new Uint8Array([...valid, ...tail])),
      );
    const signedParts = (bytes: Uint8Array) => {
      const e = fromBinary(FappSignedSchema, bytes);
      return [e.kind, b64(e.body), b64(e.signerKey), b64(e.signature)];
    };
    // A reservation the server takes must still be one: for the same slot, of the fixed size, its
    // stamp enough work for its own context. (The server cannot open the sealed part, and a
    // changed mailbox id or sealed byte with a stamp that happens to meet the difficulty for the
    // new context is a different, valid reservation.)
    const isValidReservationOfTheSlot = (bytes: Uint8Array) => {
      const m = fromBinary(SlotReserveSchema, bytes);
      const o = fromBinary(SlotReserveSchema, reservation);
      return (
        b64(m.therapistKey) === b64(o.therapistKey) &&
        b64(m.slotId) === b64(o.slotId) &&
        m.sealed.length === o.sealed.length &&
        verifyStamp(m.stamp, stampContext(m.therapistKey, m.slotId, m.mailboxId, Number(m.stampWindow), m.sealed), POW_BITS)
      );
    };
    await fc.assert(
      fc.asyncProperty(spoiled(announce), async (bytes) => {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: b64(bytes) } });
        expectClientAnswer(res, `announce of ${bytes.length} bytes`);
        if (res.statusCode < 400) expect(signedParts(bytes)).toEqual(signedParts(announce));
        const batch = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces/batch', payload: { announces: [b64(bytes)] } });
        expectClientAnswer(batch, 'batch of one spoilt announce');
        if (batch.statusCode === 200 && (batch.json() as { results: { status: string }[] }).results[0]!.status !== 'rejected') {
          expect(signedParts(bytes)).toEqual(signedParts(announce));
        }
      }),
      { numRuns: RUNS },
    );
    // The announce itself (or a copy of it that decoded the same) is the only one stored.
    expect((await storedAnnounces()).filter((id) => id !== therapistId)).toEqual([]);
    const first = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: b64(announce) } });
    expect([201, 409]).toContain(first.statusCode);
    expect(await storedAnnounces()).toEqual([therapistId]);

    // With the slot there, spoilt reservations reach the stamp and the seal.
    await fc.assert(
      fc.asyncProperty(spoiled(reservation), async (bytes) => {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/reservations', payload: { reservation: b64(bytes) } });
        expectClientAnswer(res, `reservation of ${bytes.length} bytes`);
        if (res.statusCode < 400) expect(isValidReservationOfTheSlot(bytes)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('answer any path parameter and query string with a 4xx problem or a result, never a 5xx', async () => {
    const segment = fc.string({ maxLength: 80 }).map(encodeURIComponent);
    const query = fc
      .array(fc.tuple(fc.constantFrom('plz', 'fachrichtung', 'kostentraeger', 'terminart', 'modalitaet', 'altersgruppe', 'language', 'barrierFree', 'verifiedOnly', 'from', 'until', 'limit', 'includeAnnounces', 'cursor', 'x'), fc.string({ maxLength: 40 })), { maxLength: 6 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
    await fc.assert(
      fc.asyncProperty(segment, query, async (seg, q) => {
        for (const url of [`/api/v1/fapp/slots?${q}`, `/api/v1/fapp/announces/${seg}`, `/api/v1/fapp/regions/${seg}/announces?${q}`, `/api/v1/fapp/revocations?${q}`]) {
          const res = await t.app.inject({ method: 'GET', url });
          expectClientAnswer(res, `GET ${url}`);
        }
      }),
      { numRuns: RUNS },
    );
    // The mailbox is named by a header.
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 160 }), async (capability) => {
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox', headers: { 'x-mailbox-capability': capability } });
        expectClientAnswer(res, `GET mailbox ${capability}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('still answers a valid request afterwards', async () => {
    const ch = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/therapist/challenge', payload: {} });
    expect(ch.statusCode).toBe(201);
    const therapist = generateSigningKeyPair();
    const challenge = Buffer.from((ch.json() as { challenge: string }).challenge, 'hex');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/fapp/therapist/reservations',
      payload: { therapistKey: b64(therapist.publicKey), challenge: challenge.toString('hex'), signature: b64(signChallenge(therapist, challenge)) },
    });
    expect(res.statusCode).toBe(200);
    const stored = await t.app.inject({ method: 'GET', url: `/api/v1/fapp/announces/${therapistId}` });
    expect(stored.statusCode).toBe(200);
  });
});
