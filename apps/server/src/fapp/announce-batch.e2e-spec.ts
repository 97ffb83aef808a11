import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { generateKemKeyPair, generateSigningKeyPair, type SigningKeyPair, toHex } from '@qpc/crypto';
import { ANNOUNCE_BATCH_MAX_BYTES, ANNOUNCE_BATCH_MAX_COUNT, buildAnnounce, forwardEnvelope, issueAttestation, type AnnounceInput } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, FappAnnounceBatchSchema, FappSignedSchema, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { loadConfig } from '../config/config.js';
import { ANNOUNCE_BATCH_ITEM_MAX_BYTES, ANNOUNCE_BATCH_ITEM_MAX_CHARS } from './announce-batch-body.js';
import { FappRepository } from './fapp.repository.js';

// POST /api/v1/fapp/announces/batch: per-item results, limits, supersede and duplicates
// inside one batch, and two batches racing on the same therapists.

const T0 = Date.UTC(2026, 10, 2, 8, 0);
const HOUR = 3600_000;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const kem = generateKemKeyPair();
const authority = generateSigningKeyPair();

function attestation(who: SigningKeyPair, id: number): Uint8Array {
  return issueAttestation(
    authority,
    { therapistKey: who.publicKey, licenceNumber: `PP-${id}`, fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE], validUntilMs: T0 + 365 * 24 * HOUR, salt: new Uint8Array(32).fill(id), attestationId: new Uint8Array(16).fill(id) },
    T0 - 24 * HOUR,
  ).bytes;
}

function flipSignature(signed: Uint8Array): Uint8Array {
  const env = fromBinary(FappSignedSchema, signed);
  env.signature[5]! ^= 1;
  return toBinary(FappSignedSchema, create(FappSignedSchema, env));
}

let t: TestApp;

function input(sequence: number, slotHours: number[]): AnnounceInput {
  return {
    kemPublicKey: kem.publicKey,
    fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE],
    altersgruppen: [Altersgruppe.ERWACHSENE],
    modalitaeten: [Modalitaet.PRAXIS, Modalitaet.VIDEO],
    kostentraeger: [Kostentraeger.GKV, Kostentraeger.PKV],
    plz: '10115',
    languages: ['de', 'en'],
    slots: slotHours.map((h, i) => ({ id: new Uint8Array(16).fill(i + 1), startMs: T0 + h * HOUR, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE })),
    sequence,
  };
}

const announce = (who: SigningKeyPair, sequence: number, slotHours = [24]) => buildAnnounce(who, input(sequence, slotHours), T0);

type Encoding = 'json' | 'protobuf';

/** The batch in either body form; a string item is base64url (sent as is in JSON, decoded for protobuf). */
function send(encoding: Encoding, items: (Uint8Array | string)[]) {
  if (encoding === 'json') {
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/fapp/announces/batch',
      payload: { announces: items.map((i) => (typeof i === 'string' ? i : b64(i))) },
      headers: { 'content-type': 'application/json' },
    });
  }
  const announces = items.map((i) => (typeof i === 'string' ? new Uint8Array(Buffer.from(i, 'base64url')) : i));
  return postProtobuf(toBinary(FappAnnounceBatchSchema, create(FappAnnounceBatchSchema, { announces })));
}

function postProtobuf(payload: Uint8Array, contentType = 'application/protobuf', url = '/api/v1/fapp/announces/batch') {
  return t.app.inject({ method: 'POST', url, payload: Buffer.from(payload), headers: { 'content-type': contentType } });
}

interface Item {
  index: number;
  status: string;
  therapistId?: string;
  sequence?: number;
  code?: string;
  httpStatus?: number;
}

async function storedAnnounce(who: SigningKeyPair): Promise<string | null> {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/fapp/announces/${toHex(who.publicKey)}` });
  return res.statusCode === 200 ? (res.json() as { announce: string }).announce : null;
}

async function slotStarts(who: SigningKeyPair): Promise<string[]> {
  const rows: { start_at: Date }[] = await t.app.get(DataSource).query(`SELECT start_at FROM fapp_slot WHERE therapist_id = $1 ORDER BY start_at`, [toHex(who.publicKey)]);
  return rows.map((r) => r.start_at.toISOString());
}

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): { code: string } }, status: number, code: string) {
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect({ status: res.statusCode, code: res.json().code }).toEqual({ status, code });
}

beforeAll(async () => {
  t = await createTestApp({ FAPP_AUTHORITIES: `Test-Kammer=${toHex(authority.publicKey)}` }, { clock: new TestClock(T0) });
});

afterAll(async () => {
  await t?.close();
});

describe.each<Encoding>(['json', 'protobuf'])('POST /fapp/announces/batch (%s)', (encoding) => {
  const batch = (items: (Uint8Array | string)[]) => send(encoding, items);

  it('stores the valid items and rejects each invalid one with the code the single endpoint gives', async () => {
    const [a, b, c] = [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()];
    const forged = fromBinary(FappSignedSchema, announce(c, 1));
    forged.signature[0]! ^= 1;
    const badSignature = toBinary(FappSignedSchema, create(FappSignedSchema, forged));
    const expired = buildAnnounce(c, { ...input(1, [-30]), expiresAtMs: T0 - HOUR }, T0 - 48 * HOUR);
    const items = [announce(a, 1), badSignature, 'AAECAwQ', announce(b, 4), expired];

    const res = await batch(items);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { results: Item[]; stored: number; duplicates: number; rejected: number };
    expect(body).toMatchObject({ stored: 2, duplicates: 0, rejected: 3 });
    expect(body.results.map((r) => [r.index, r.status, r.code ?? null])).toEqual([
      [0, 'stored', null],
      [1, 'rejected', 'fapp.bad_signature'],
      [2, 'rejected', 'fapp.malformed'],
      [3, 'stored', null],
      [4, 'rejected', 'fapp.expired'],
    ]);
    expect(body.results[3]).toMatchObject({ therapistId: toHex(b.publicKey), sequence: 4, verified: false, slots: 1 });

    // Same verdicts as one item at a time.
    for (const i of [1, 2, 4]) {
      const item = items[i]!;
      const single = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: typeof item === 'string' ? item : b64(item) } });
      expectProblem(single, body.results[i]!.httpStatus!, body.results[i]!.code!);
    }
    expect(await storedAnnounce(a)).toBe(b64(items[0] as Uint8Array));
    expect(await storedAnnounce(b)).toBe(b64(items[3] as Uint8Array));
    expect(await storedAnnounce(c)).toBeNull();
  });

  it('checks the signatures of a large batch on worker threads with the same verdicts (announce and attestation)', async () => {
    const keys = Array.from({ length: 24 }, () => generateSigningKeyPair());
    const items = keys.map((k, i) => buildAnnounce(k, { ...input(1, [24 + i]), attestation: attestation(k, i + 1) }, T0));
    items[3] = flipSignature(items[3]!);
    items[7] = buildAnnounce(keys[7]!, { ...input(1, [24]), attestation: flipSignature(attestation(keys[7]!, 8)) }, T0);
    items[11] = buildAnnounce(keys[11]!, { ...input(1, [24]), attestation: attestation(keys[12]!, 13) }, T0); // someone else's
    const body = (await batch(items)).json() as { results: (Item & { verified?: boolean; authority?: string })[]; stored: number };
    expect(body.stored).toBe(21);
    const rejectedItems = body.results.filter((r) => r.status === 'rejected').map((r) => [r.index, r.code]);
    expect(rejectedItems).toEqual([
      [3, 'fapp.bad_signature'],
      [7, 'fapp.bad_signature'],
      [11, 'fapp.attestation_mismatch'],
    ]);
    for (const [i] of rejectedItems) {
      const single = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: b64(items[i as number]!) } });
      expectProblem(single, 400, body.results[i as number]!.code!);
      expect(await storedAnnounce(keys[i as number]!)).toBeNull();
    }
    expect(body.results.filter((r) => r.status === 'stored').every((r) => r.verified === true && r.authority === 'Test-Kammer')).toBe(true);
  });

  it('takes a copy with another hop count or envelope encoding as a duplicate of the same signed announce (spec §5)', async () => {
    const x = generateSigningKeyPair();
    const s1 = announce(x, 1, [60]);
    const relayed = forwardEnvelope(s1); // hop count 1
    // The same fields, the kind's tag with another wire type: the decoder reads it all the same.
    const reencoded = s1.slice();
    expect(reencoded[0]).toBe(0x08); // field 1, varint
    reencoded[0] = 0x0d; // field 1, 32-bit
    expect(fromBinary(FappSignedSchema, reencoded)).toEqual(fromBinary(FappSignedSchema, s1));

    const first = (await batch([s1, relayed])).json() as { results: Item[]; stored: number; duplicates: number };
    expect(first.results.map((r) => r.status)).toEqual(['stored', 'duplicate']);
    expect(first).toMatchObject({ stored: 1, duplicates: 1 });
    const later = (await batch([forwardEnvelope(relayed), reencoded])).json() as { results: Item[] };
    expect(later.results.map((r) => [r.status, r.sequence])).toEqual([
      ['duplicate', 1],
      ['duplicate', 1],
    ]);
    // The stored bytes stay those first stored.
    expect(await storedAnnounce(x)).toBe(b64(s1));
    // Another announce under the same sequence is still no duplicate.
    const other = (await batch([announce(x, 1, [61])])).json() as { results: Item[] };
    expect(other.results.map((r) => [r.status, r.code])).toEqual([['rejected', 'fapp.stale_sequence']]);
  });

  it('keeps the highest sequence of a therapist within one batch; exact copies are duplicates, resending is harmless', async () => {
    const x = generateSigningKeyPair();
    const s1 = announce(x, 1, [24]);
    const s3 = announce(x, 3, [30, 31]);
    const s2 = announce(x, 2, [26]);
    const s3other = announce(x, 3, [40]); // same sequence, different content: not the one kept

    const first = (await batch([s1, s3, s2, s3, s3other])).json() as { results: Item[] };
    expect(first.results.map((r) => [r.status, r.code ?? null])).toEqual([
      ['rejected', 'fapp.stale_sequence'],
      ['stored', null],
      ['rejected', 'fapp.stale_sequence'],
      ['duplicate', null],
      ['rejected', 'fapp.stale_sequence'],
    ]);
    expect(first.results[0]!.httpStatus).toBe(409);
    expect(await storedAnnounce(x)).toBe(b64(s3));
    expect(await slotStarts(x)).toEqual([new Date(T0 + 30 * HOUR).toISOString(), new Date(T0 + 31 * HOUR).toISOString()]);

    const again = (await batch([s3, s2])).json() as { results: Item[]; stored: number; duplicates: number };
    expect(again.results.map((r) => [r.status, r.code ?? null])).toEqual([
      ['duplicate', null],
      ['rejected', 'fapp.stale_sequence'],
    ]);
    expect(again).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await storedAnnounce(x)).toBe(b64(s3));

    // A later batch supersedes, and its slots replace the old ones.
    const s4 = announce(x, 4, [50]);
    expect(((await batch([s4])).json() as { results: Item[] }).results[0]!.status).toBe('stored');
    expect(await slotStarts(x)).toEqual([new Date(T0 + 50 * HOUR).toISOString()]);
    // The single endpoint agrees: the copy now stored is not accepted twice there.
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: b64(s4) } }), 409, 'fapp.stale_sequence');
  });

  it('a re-announce rewrites only changed slots, drops the ones no longer offered, and the booked holds with them', async () => {
    const x = generateSigningKeyPair();
    const id = toHex(x.publicKey);
    const ds = t.app.get(DataSource);
    // Slot ids are 01…, 02…, 03… (by position); 03 moves, 02 is dropped in the re-announce below.
    expect(((await batch([announce(x, 1, [24, 25, 26])])).json() as { stored: number }).stored).toBe(1);
    const slotId = (n: number) => toHex(new Uint8Array(16).fill(n));
    for (const n of [1, 2]) {
      await ds.query(`INSERT INTO fapp_hold (therapist_id, slot_id, mailbox_id, state, held_until, reservation) VALUES ($1, $2, $3, 'booked', NULL, '\\x00')`, [
        id,
        slotId(n),
        randomBytes(32).toString('hex'),
      ]);
    }
    const versions = async () =>
      new Map(((await ds.query(`SELECT slot_id, xmin::text AS v FROM fapp_slot WHERE therapist_id = $1`, [id])) as { slot_id: string; v: string }[]).map((r) => [r.slot_id, r.v]));
    const before = await versions();

    const full = input(2, [24, 25, 40]);
    const next = buildAnnounce(x, { ...full, slots: [full.slots[0]!, full.slots[2]!] }, T0);
    expect(((await batch([next])).json() as { stored: number }).stored).toBe(1);
    const after = await versions();
    expect([...after.keys()].sort()).toEqual([slotId(1), slotId(3)]);
    expect(after.get(slotId(1))).toBe(before.get(slotId(1))); // unchanged: not rewritten
    expect(after.get(slotId(3))).not.toBe(before.get(slotId(3))); // moved: rewritten
    expect(await slotStarts(x)).toEqual([new Date(T0 + 24 * HOUR).toISOString(), new Date(T0 + 40 * HOUR).toISOString()]);
    const holds: { slot_id: string }[] = await ds.query(`SELECT slot_id FROM fapp_hold WHERE therapist_id = $1`, [id]);
    expect(holds.map((h) => h.slot_id)).toEqual([slotId(1)]);
  });

  it('two batches racing on the same therapists keep the higher sequence of each and never deadlock', async () => {
    const keys = Array.from({ length: 6 }, () => generateSigningKeyPair());
    for (let round = 1; round <= 4; round++) {
      const low = keys.map((k) => announce(k, 2 * round, [24 + round]));
      const high = keys.map((k) => announce(k, 2 * round + 1, [48 + round]));
      // Opposite item orders, and the higher sequences alternate between the two batches.
      const [one, two] = round % 2 ? [[...low], [...high].reverse()] : [[...high], [...low].reverse()];
      const [r1, r2] = await Promise.all([batch(one), batch(two)]);
      expect([r1.statusCode, r2.statusCode]).toEqual([200, 200]);
      for (const k of keys) expect(await storedAnnounce(k)).toBe(b64(high[keys.indexOf(k)]!));
      const rows: { sequence: string; n: string }[] = await t.app.get(DataSource).query(
        `SELECT a.sequence, (SELECT count(*) FROM fapp_slot s WHERE s.therapist_id = a.therapist_id) AS n FROM fapp_announce a WHERE a.therapist_id = ANY($1::text[])`,
        [keys.map((k) => toHex(k.publicKey))],
      );
      expect(rows.map((r) => [Number(r.sequence), Number(r.n)])).toEqual(keys.map(() => [2 * round + 1, 1]));
      expect(await slotStarts(keys[0]!)).toEqual([new Date(T0 + (48 + round) * HOUR).toISOString()]);
    }
  });

  describe('limits are 4xx problems and store nothing', () => {
    it(`more than ${ANNOUNCE_BATCH_MAX_COUNT} items: 413 fapp.batch_too_many`, async () => {
      const k = generateSigningKeyPair();
      const one = b64(announce(k, 1));
      expectProblem(await batch(Array.from({ length: ANNOUNCE_BATCH_MAX_COUNT + 1 }, () => one)), 413, 'fapp.batch_too_many');
      expect(await storedAnnounce(k)).toBeNull();
      // Exactly the limit is accepted (the copies are duplicates of the first).
      const ok = await batch(Array.from({ length: ANNOUNCE_BATCH_MAX_COUNT }, () => one));
      expect(ok.json()).toMatchObject({ stored: 1, duplicates: ANNOUNCE_BATCH_MAX_COUNT - 1, rejected: 0 });
    });

    it(`more than ${ANNOUNCE_BATCH_MAX_BYTES} decoded bytes: 413 fapp.batch_too_large`, async () => {
      const k = generateSigningKeyPair();
      const filler = 'A'.repeat(45_000); // 33 750 bytes each, under the per-item limit
      const count = Math.ceil(ANNOUNCE_BATCH_MAX_BYTES / 33_750);
      expectProblem(await batch([announce(k, 1), ...Array.from({ length: count }, () => filler)]), 413, 'fapp.batch_too_large');
      expect(await storedAnnounce(k)).toBeNull();
    });

    it('an empty batch, a non-base64url item or an oversized item: 400 request.invalid', async () => {
      expectProblem(await batch([]), 400, 'request.invalid');
      if (encoding === 'json') {
        expectProblem(await batch(['not base64!']), 400, 'request.invalid');
        expectProblem(await batch(['A'.repeat(ANNOUNCE_BATCH_ITEM_MAX_CHARS + 1)]), 400, 'request.invalid');
        const noArray = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces/batch', payload: { announces: 'AAAA' } });
        expectProblem(noArray, 400, 'request.invalid');
        const extra = await t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces/batch', payload: { announces: ['AAAA'], more: 1 } });
        expectProblem(extra, 400, 'request.invalid');
      } else {
        expectProblem(await batch([new Uint8Array(ANNOUNCE_BATCH_ITEM_MAX_BYTES + 1)]), 400, 'request.invalid');
      }
      // Exactly the item limit is read (and that item is no announce).
      const atLimit = (await batch([new Uint8Array(ANNOUNCE_BATCH_ITEM_MAX_BYTES)])).json() as { results: Item[] };
      expect(atLimit.results.map((r) => [r.status, r.code])).toEqual([['rejected', 'fapp.too_large']]);
    });
  });
});

describe('POST /fapp/announces/batch as application/protobuf', () => {
  it('takes application/x-protobuf as well', async () => {
    const k = generateSigningKeyPair();
    const s1 = announce(k, 1);
    const res = await postProtobuf(toBinary(FappAnnounceBatchSchema, create(FappAnnounceBatchSchema, { announces: [s1] })), 'application/x-protobuf');
    expect(res.json()).toMatchObject({ stored: 1, rejected: 0 });
    expect(await storedAnnounce(k)).toBe(b64(s1));
  });

  it('bytes that are not a FappAnnounceBatch: 400 fapp.malformed, nothing stored', async () => {
    const k = generateSigningKeyPair();
    const good = toBinary(FappAnnounceBatchSchema, create(FappAnnounceBatchSchema, { announces: [announce(k, 1)] }));
    // Cut inside the item, a length running past the end, a field with the reserved wire type 7.
    for (const bad of [good.subarray(0, good.length - 10), Uint8Array.of(0x0a, 0xff, 0x01, 0x00), Uint8Array.of(0x0f, 0x00)]) {
      expectProblem(await postProtobuf(bad), 400, 'fapp.malformed');
    }
    expectProblem(await postProtobuf(new Uint8Array(0)), 400, 'request.invalid');
    expect(await storedAnnounce(k)).toBeNull();
  });

  it("a body over the server's body limit: 413 request.body_too_large", async () => {
    expectProblem(await postProtobuf(new Uint8Array(loadConfig({}).BODY_LIMIT_BYTES + 1)), 413, 'request.body_too_large');
  });

  it('other routes answer a protobuf body with 415 request.unsupported_media_type', async () => {
    const k = generateSigningKeyPair();
    expectProblem(await postProtobuf(announce(k, 1), 'application/protobuf', '/api/v1/fapp/announces'), 415, 'request.unsupported_media_type');
    expectProblem(await postProtobuf(new Uint8Array(8), 'application/x-protobuf', '/api/v1/fapp/reservations'), 415, 'request.unsupported_media_type');
    expect(await storedAnnounce(k)).toBeNull();
  });
});

describe('POST /fapp/announces (single ingests)', () => {
  it('concurrent single ingests share statements: each gets its own answer, one therapist twice keeps the higher sequence', async () => {
    const repo = t.app.get(FappRepository);
    const groups: number[] = [];
    const spy = vi.spyOn(repo, 'upsertAnnounces').mockImplementation(async function (this: FappRepository, items) {
      groups.push(items.length);
      return FappRepository.prototype.upsertAnnounces.call(this, items);
    });
    try {
      const keys = Array.from({ length: 24 }, () => generateSigningKeyPair());
      const twice = generateSigningKeyPair();
      const old = generateSigningKeyPair();
      const single = (b: Uint8Array) => t.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: b64(b) } });
      expect((await single(announce(old, 5))).statusCode).toBe(201);
      const first = announce(twice, 1);
      const second = announce(twice, 2, [30]);
      const res = await Promise.all([...keys.map((k) => single(announce(k, 1))), single(first), single(second), single(announce(old, 4))]);
      expect(res.slice(0, keys.length).map((r) => r.statusCode)).toEqual(keys.map(() => 201));
      for (const k of keys) expect(await storedAnnounce(k)).toBe(b64(announce(k, 1)));
      // Whatever the order the two of one therapist were written in, sequence 2 is what stays.
      expect(await storedAnnounce(twice)).toBe(b64(second));
      expect(res[keys.length + 1]!.statusCode).toBe(201);
      expect([201, 409]).toContain(res[keys.length]!.statusCode);
      expectProblem(res[keys.length + 2]!, 409, 'fapp.stale_sequence');
      expect(Math.max(...groups)).toBeGreaterThan(1);
    } finally {
      spy.mockRestore();
    }
  });
});
