import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { generateKemKeyPair, generateSigningKeyPair, type SigningKeyPair, toHex } from '@qpc/crypto';
import {
  buildAnnounce,
  buildConfirm,
  buildPatientCancel,
  buildTherapistRelease,
  createReservation,
  encodeEnvelope,
  issueAttestation,
  issueRevocationList,
  signEnvelope,
  type Announce,
  matchSlots,
  openConfirm,
  openReservation,
  signChallenge,
  verifyAnnounce,
  type SlotFilter,
  type PatientReservation,
  type TrustStore,
} from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, FappKind, FappSignedSchema, Kostentraeger, Modalitaet, type SlotAnnounce, SlotAnnounceSchema, SlotSchema, Terminart } from '@qpc/proto';
import { buildDemoDataset, DEMO_AUTHORITY_NAME, type DemoDataset, type DemoTherapist } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainAnnounceInput } from '../../test/announces.js';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { FappService } from './fapp.service.js';

const T0 = Date.UTC(2026, 9, 20, 7, 0); // Tue 20 Oct 2026, 09:00 in Berlin; the DST change follows on the 25th
const POW_BITS = 6;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

let t: TestApp;
let clock: TestClock;
let data: DemoDataset;

async function post(url: string, payload: unknown) {
  return t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: { 'content-type': 'application/json' } });
}

function decoded(th: DemoTherapist): Announce {
  return verifyAnnounce(th.announce, { nowMs: clock.now(), trust: data.authority.trust }).announce;
}

async function reserve(th: DemoTherapist, slotIndex = 0): Promise<{ res: Awaited<ReturnType<typeof post>>; r: PatientReservation }> {
  const announce = decoded(th);
  const slot = announce.slots[slotIndex]!;
  const r = await createReservation({ announce, slotId: slot.id, contact: 'Signal: @anon', message: 'Ich suche einen Therapieplatz.', difficultyBits: POW_BITS, nowMs: clock.now() });
  return { res: await post('/api/v1/fapp/reservations', { reservation: b64(r.bytes) }), r };
}

async function therapistInbox(th: DemoTherapist) {
  const ch = (await post('/api/v1/fapp/therapist/challenge', {})).json();
  const challenge = Buffer.from(ch.challenge, 'hex');
  const res = await post('/api/v1/fapp/therapist/reservations', { therapistKey: b64(th.signing.publicKey), challenge: ch.challenge, signature: b64(signChallenge(th.signing, challenge)) });
  expect(res.statusCode).toBe(200);
  return res.json().reservations as { slotId: string; mailboxId: string; state: string; reservation: string }[];
}

async function mailbox(r: PatientReservation) {
  return t.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox', headers: { 'x-mailbox-capability': b64(r.mailboxCapability) } });
}

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): { code: string } }, status: number, code: string) {
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect({ status: res.statusCode, code: res.json().code }).toEqual({ status, code });
}

beforeAll(async () => {
  clock = new TestClock(T0);
  data = buildDemoDataset({ therapists: 24, now: T0, seed: 'fapp-e2e', verifiedShare: 0.7 });
  expect(data.therapists.some((x) => !x.attestation)).toBe(true);
  t = await createTestApp(
    { FAPP_AUTHORITIES: `${DEMO_AUTHORITY_NAME}=${toHex(data.authority.keys.publicKey)}`, FAPP_POW_BITS: String(POW_BITS), FAPP_SLOT_RATE_PER_MIN: '1000' },
    { clock },
  );
  for (const a of data.announces) {
    const res = await post('/api/v1/fapp/announces', { announce: b64(a) });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
});

describe('announces', () => {
  it('stores a newer sequence and refuses a replay or rollback with 409 fapp.stale_sequence', async () => {
    const th = data.therapists[0]!;
    const replay = await post('/api/v1/fapp/announces', { announce: b64(th.announce) });
    expectProblem(replay, 409, 'fapp.stale_sequence');
    const next = buildAnnounce(th.signing, { ...th.input, sequence: th.input.sequence + 1 }, clock.now());
    const ok = await post('/api/v1/fapp/announces', { announce: b64(next) });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ therapistId: toHex(th.signing.publicKey), sequence: th.input.sequence + 1 });
    const rollback = await post('/api/v1/fapp/announces', { announce: b64(th.announce) });
    expectProblem(rollback, 409, 'fapp.stale_sequence');
  });

  it('marks attested therapists verified and others unverified', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?limit=500' });
    const body = res.json();
    const verifiedIds = new Set(data.therapists.filter((x) => x.attestation).map((x) => toHex(x.signing.publicKey)));
    for (const hit of body.results) {
      expect(hit.verified).toBe(verifiedIds.has(hit.therapistId));
      if (hit.verified) expect(hit.authority).toBe(DEMO_AUTHORITY_NAME);
    }
  });

  describe('every validation error is a 4xx problem and stores nothing', () => {
    const stranger = generateSigningKeyPair();
    const kem = generateKemKeyPair();
    const base = () => plainAnnounceInput(kem.publicKey, [{ startMs: T0 + 86_400_000, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE }], 1);
    const cases: [string, () => Uint8Array | string, number, string][] = [
      ['malformed bytes', () => 'AAECAwQ', 400, 'fapp.malformed'],
      ['not base64url', () => 'not base64!', 400, 'request.invalid'],
      [
        'bad signature',
        () => {
          const env = fromBinary(FappSignedSchema, buildAnnounce(stranger, base(), T0));
          env.signature[0]! ^= 1;
          return toBinary(FappSignedSchema, create(FappSignedSchema, env));
        },
        400,
        'fapp.bad_signature',
      ],
      ['expired', () => buildAnnounce(stranger, { ...base(), slots: [{ startMs: T0 - 7 * 86_400_000, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE }], expiresAtMs: T0 - 86_400_000 }, T0 - 8 * 86_400_000), 400, 'fapp.expired'],
      ['slot in the past', () => signedWith(stranger, fromBinary(FappSignedSchema, buildAnnounce(stranger, base(), T0)).body, (m) => (m.slots[0]!.startMs = BigInt(T0 - 3600_000))), 400, 'fapp.slot_in_past'],
      [
        'overlapping slots',
        () => {
          const env = fromBinary(FappSignedSchema, buildAnnounce(stranger, base(), T0));
          return signedWith(stranger, env.body, (m) => m.slots.push({ ...m.slots[0]!, id: new Uint8Array(16).fill(9), startMs: m.slots[0]!.startMs + 600_000n }));
        },
        400,
        'fapp.slot_overlap',
      ],
      ['invalid PLZ', () => signedWith(stranger, fromBinary(FappSignedSchema, buildAnnounce(stranger, base(), T0)).body, (m) => (m.plz = '00999')), 400, 'fapp.invalid_plz'],
      ['unknown enum', () => signedWith(stranger, fromBinary(FappSignedSchema, buildAnnounce(stranger, base(), T0)).body, (m) => m.kostentraeger.push(77 as Kostentraeger)), 400, 'fapp.unknown_enum'],
      [
        'too many slots',
        () => buildAnnounceUnchecked(stranger, Array.from({ length: 257 }, (_, i) => ({ startMs: T0 + 86_400_000 + i * 7200_000, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE }))),
        400,
        'fapp.too_many_slots',
      ],
      ['unknown attestation authority', () => buildAnnounce(stranger, { ...base(), attestation: foreignAttestation(stranger.publicKey) }, T0), 400, 'fapp.unknown_attestation'],
      ['issued in the future', () => buildAnnounce(stranger, { ...base(), slots: [{ startMs: T0 + 2 * 86_400_000, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE }] }, T0 + 3600_000), 400, 'fapp.issued_in_future'],
    ];
    for (const [name, make, status, code] of cases) {
      it(name, async () => {
        const before = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?plz=10115&limit=500' });
        const payload = make();
        const res = await post('/api/v1/fapp/announces', { announce: typeof payload === 'string' ? payload : b64(payload) });
        expectProblem(res, status, code);
        const after = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?plz=10115&limit=500' });
        expect(after.json()).toEqual(before.json());
      });
    }

    it('refuses a body over the size limit', async () => {
      const res = await post('/api/v1/fapp/announces', { announce: 'A'.repeat(48_001) });
      expectProblem(res, 400, 'request.invalid');
      expect(res.json().errors).toEqual([{ field: 'announce', messages: ['announce must be shorter than or equal to 48000 characters'] }]);
      // At the limit the text passes, and its 36 000 bytes are judged as an announce: too large.
      expectProblem(await post('/api/v1/fapp/announces', { announce: 'A'.repeat(48_000) }), 413, 'fapp.too_large');
    });

    it('lists unknown fields as validation errors', async () => {
      const res = await post('/api/v1/fapp/announces', { announce: 'AA', extra: 1 });
      expectProblem(res, 400, 'request.invalid');
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('extra');
    });
  });
});

/** Re-signs a SlotAnnounce body after `edit`, as a malicious or buggy client could. */
function signedWith(signer: SigningKeyPair, body: Uint8Array, edit: (m: SlotAnnounce) => void): Uint8Array {
  const m = fromBinary(SlotAnnounceSchema, body);
  edit(m);
  return encodeEnvelope(signEnvelope(FappKind.SLOT_ANNOUNCE, toBinary(SlotAnnounceSchema, m), signer));
}

function buildAnnounceUnchecked(signer: SigningKeyPair, slots: { startMs: number; durationMinutes: number; terminart: Terminart }[]): Uint8Array {
  const kem = generateKemKeyPair();
  const one = buildAnnounce(signer, { kemPublicKey: kem.publicKey, fachrichtungen: [Fachrichtung.SYSTEMISCH], altersgruppen: [Altersgruppe.ERWACHSENE], modalitaeten: [Modalitaet.VIDEO], kostentraeger: [Kostentraeger.PKV], plz: '10115', languages: ['de'], slots: slots.slice(0, 1), sequence: 1 }, T0);
  return signedWith(signer, fromBinary(FappSignedSchema, one).body, (m) => {
    m.slots = slots.map((s, i) => create(SlotSchema, { id: new Uint8Array(16).fill(i % 250).map((b, j) => (j === 0 ? i >> 8 : b)), startMs: BigInt(s.startMs), durationMinutes: s.durationMinutes, terminart: s.terminart }));
  });
}

function foreignAttestation(therapistKey: Uint8Array): Uint8Array {
  return issueAttestation(generateSigningKeyPair(), { therapistKey, licenceNumber: 'X-1', fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE], validUntilMs: T0 + 365 * 86_400_000 }, T0).bytes;
}

describe('a node set to drop unverified therapists', () => {
  it('refuses unattested announces with 403 fapp.unverified_rejected and keeps attested ones', async () => {
    const strict = await createTestApp(
      { FAPP_AUTHORITIES: `${DEMO_AUTHORITY_NAME}=${toHex(data.authority.keys.publicKey)}`, FAPP_REQUIRE_VERIFIED: 'true' },
      { clock },
    );
    try {
      const unverified = data.therapists.find((x) => !x.attestation)!;
      const verified = data.therapists.find((x) => x.attestation)!;
      const no = await strict.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: b64(unverified.announce) } });
      expectProblem(no, 403, 'fapp.unverified_rejected');
      const yes = await strict.app.inject({ method: 'POST', url: '/api/v1/fapp/announces', payload: { announce: b64(verified.announce) } });
      expect(yes.statusCode).toBe(201);
      expect(yes.json().verified).toBe(true);
    } finally {
      await strict.close();
    }
  });
});

describe('licence revocation', () => {
  it('a signed revocation list unverifies stored announces and refuses the revoked attestation from then on', async () => {
    const th = data.therapists.filter((x) => x.attestation)[15]!;
    const id = toHex(th.signing.publicKey);
    const status = verifyAnnounce(th.announce, { nowMs: clock.now(), trust: data.authority.trust }).status;
    if (status.kind !== 'verified') throw new Error('expected an attested therapist');
    const list = issueRevocationList(data.authority.keys, { sequence: 1, revokedAttestationIds: [status.attestation.attestationId] }, clock.now());
    const service = t.app.get(FappService);
    const seen: TrustStore[] = [];
    const stop = service.onTrustChanged((trust) => seen.push(trust));

    const res = await post('/api/v1/fapp/revocations', { list: b64(list) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ applied: true, sequence: 1, revoked: 1, unverified: 1 });
    const hits = (await t.app.inject({ method: 'GET', url: `/api/v1/fapp/slots?plz=${th.plz}&limit=500` })).json().results.filter((r: { therapistId: string }) => r.therapistId === id);
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) expect(h).toMatchObject({ verified: false, authority: null });
    const verifiedOnly = (await t.app.inject({ method: 'GET', url: `/api/v1/fapp/slots?plz=${th.plz}&verifiedOnly=true&limit=500` })).json().results;
    expect(verifiedOnly.some((r: { therapistId: string }) => r.therapistId === id)).toBe(false);

    const next = buildAnnounce(th.signing, { ...th.input, sequence: th.input.sequence + 5 }, clock.now());
    // A new announce carrying the revoked attestation is refused; without a claim it would be unverified.
    expectProblem(await post('/api/v1/fapp/announces', { announce: b64(next) }), 400, 'fapp.revoked_attestation');

    expect((await post('/api/v1/fapp/revocations', { list: b64(list) })).json()).toMatchObject({ applied: false });
    const older = issueRevocationList(data.authority.keys, { sequence: 0, revokedAttestationIds: [] }, clock.now());
    expectProblem(await post('/api/v1/fapp/revocations', { list: b64(older) }), 409, 'fapp.stale_revocation_list');
    const foreign = issueRevocationList(generateSigningKeyPair(), { sequence: 9, revokedAttestationIds: [] }, clock.now());
    expectProblem(await post('/api/v1/fapp/revocations', { list: b64(foreign) }), 400, 'fapp.unknown_attestation');

    const lists = (await t.app.inject({ method: 'GET', url: '/api/v1/fapp/revocations' })).json().lists;
    expect(lists).toEqual([b64(list)]);

    // Listeners (the in-process mesh node's validator) heard of the one change, and of nothing else:
    // not the repeated list, not the refused ones, not a reload that finds the same lists.
    await service.reloadRevocations();
    stop();
    expect(seen).toHaveLength(1);
    expect([...seen[0]!.authorities.values()][0]!.revoked.has(toHex(status.attestation.attestationId))).toBe(true);
  });
});

describe('search and region sync', () => {
  it('validates search parameters', async () => {
    for (const q of ['plz=1', 'plz=abcde', 'limit=0', 'limit=501', 'from=yesterday', 'from=2026-10-23T09:00:00', 'fachrichtung=x', 'barrierFree=maybe', 'plz=10&plz=20', 'sort=price']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/fapp/slots?${q}` });
      expectProblem(res, 400, 'request.invalid');
      expect(res.json().errors, q).toEqual([{ field: q.split('=')[0], messages: [expect.any(String)] }]);
    }
    const unknownEnum = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?fachrichtung=99' });
    expectProblem(unknownEnum, 400, 'fapp.unknown_enum');
    // A list parameter may be repeated: the same as one comma list.
    const repeated = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?terminart=1&terminart=2&limit=500' });
    const comma = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?terminart=1,2&limit=500' });
    expect(repeated.statusCode).toBe(200);
    expect(repeated.json().results.length).toBeGreaterThan(0);
    expect(repeated.json()).toEqual(comma.json());
  });

  it('documents the search parameters in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/docs/openapi.json' })).json();
    const params = (doc.paths['/api/v1/fapp/slots'].get.parameters as { name: string; in: string; required: boolean }[]).filter((p) => p.in === 'query');
    expect(params.map((p) => p.name).sort()).toEqual(
      ['altersgruppe', 'barrierFree', 'fachrichtung', 'from', 'includeAnnounces', 'kostentraeger', 'language', 'limit', 'modalitaet', 'plz', 'terminart', 'until', 'verifiedOnly'].sort(),
    );
    expect(params.every((p) => p.required === false)).toBe(true);
  });

  it('returns slots earliest first; the signed announces only when asked for', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?limit=50' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    const { results, announces } = res.json();
    expect(results.length).toBe(50);
    expect(announces).toBeUndefined();
    for (const r of results) {
      expect(r).toEqual({
        therapistId: expect.stringMatching(/^[0-9a-f]{64}$/),
        slotId: expect.stringMatching(/^[0-9a-f]+$/),
        start: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/),
        durationMinutes: expect.any(Number),
        terminart: expect.any(Number),
        groupSize: expect.any(Number),
        plz: expect.stringMatching(/^\d{5}$/),
        verified: expect.any(Boolean),
        authority: r.verified ? expect.any(String) : null,
      });
    }
    const none = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?from=2100-01-01&includeAnnounces=true' });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual({ results: [], announces: {} });
    const starts = results.map((r: { start: string }) => Date.parse(r.start));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);

    const withAnnounces = (await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?limit=50&includeAnnounces=true' })).json();
    expect(withAnnounces.results).toEqual(results);
    for (const r of results) expect(withAnnounces.announces[r.therapistId]).toBeTypeOf('string');
    expect(Object.keys(withAnnounces.announces).sort()).toEqual([...new Set(results.map((r: { therapistId: string }) => r.therapistId))].sort());

    const one = await t.app.inject({ method: 'GET', url: `/api/v1/fapp/announces/${results[0].therapistId}` });
    expect(one.json().announce).toBe(withAnnounces.announces[results[0].therapistId]);
    expectProblem(await t.app.inject({ method: 'GET', url: `/api/v1/fapp/announces/${'0'.repeat(64)}` }), 404, 'fapp.unknown_therapist');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/fapp/announces/xyz' }), 404, 'fapp.unknown_therapist');
  });

  it('a re-announce keeps the holds of slots it still offers', async () => {
    const th = data.therapists[16]!;
    const { res } = await reserve(th, 0);
    expect(res.statusCode).toBe(201);
    const next = buildAnnounce(th.signing, { ...th.input, sequence: th.input.sequence + 1 }, clock.now());
    expect((await post('/api/v1/fapp/announces', { announce: b64(next) })).statusCode).toBe(201);
    const slot = decoded(th).slots[0]!;
    const hits = (await t.app.inject({ method: 'GET', url: `/api/v1/fapp/slots?plz=${th.plz}&limit=500` })).json().results;
    expect(hits.some((h: { slotId: string }) => h.slotId === slot.idHex)).toBe(false);
    expect((await therapistInbox(th)).map((i) => i.slotId)).toEqual([slot.idHex]);
  });

  it('on-device filtering of a synced region equals the server search', async () => {
    const region = data.therapists[3]!.plz.slice(0, 2);
    const announces: string[] = [];
    const unavailable = new Set<string>();
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/fapp/regions/${region}/announces?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.app.inject({ method: 'GET', url })).json();
      announces.push(...page.announces);
      for (const u of page.unavailable) unavailable.add(`${u.therapistId}/${u.slotId}`);
      cursor = page.nextCursor;
    } while (cursor);
    const candidates = announces.map((a) => {
      const v = verifyAnnounce(unb64(a), { nowMs: clock.now(), trust: data.authority.trust });
      return { announce: v.announce, verified: v.verified };
    });
    expect(candidates.length).toBe(data.therapists.filter((x) => x.plz.startsWith(region)).length);

    const filters: [string, SlotFilter][] = [
      [`plz=${region}`, { plzPrefix: region }],
      [`plz=${region}&verifiedOnly=true&limit=10`, { plzPrefix: region, verifiedOnly: true, limit: 10 }],
      [`plz=${region}&kostentraeger=${Kostentraeger.GKV}&terminart=${Terminart.SPRECHSTUNDE},${Terminart.PROBATORIK}`, { plzPrefix: region, kostentraeger: [Kostentraeger.GKV], terminarten: [Terminart.SPRECHSTUNDE, Terminart.PROBATORIK] }],
      [`plz=${region}&language=en&until=${new Date(T0 + 7 * 86_400_000).toISOString()}`, { plzPrefix: region, language: 'en', untilMs: T0 + 7 * 86_400_000 }],
    ];
    for (const [query, filter] of filters) {
      const server = (await t.app.inject({ method: 'GET', url: `/api/v1/fapp/slots?${query}` })).json().results.map((r: { therapistId: string; slotId: string }) => `${r.therapistId}/${r.slotId}`);
      const device = matchSlots(candidates, filter, { nowMs: clock.now(), isUnavailable: (th, s) => unavailable.has(`${th}/${s}`) }).map((m) => `${m.therapistId}/${m.slot.idHex}`);
      expect(device, query).toEqual(server);
    }
  });

  it('keeps Berlin office hours across the end of summer time (25 Oct 2026)', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/fapp/slots?limit=500&from=2026-10-23T00:00:00Z&until=2026-10-28T00:00:00Z` });
    const starts: Date[] = res.json().results.map((r: { start: string }) => new Date(r.start));
    const before = starts.filter((d) => d < new Date('2026-10-25T01:00:00Z'));
    const after = starts.filter((d) => d >= new Date('2026-10-25T01:00:00Z'));
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    // Office hours start at 08, 10, 12, 14, 16 o'clock Berlin: UTC+2 before the change, UTC+1 after.
    for (const d of before) expect([6, 8, 10, 12, 14]).toContain(d.getUTCHours());
    for (const d of after) expect([7, 9, 11, 13, 15]).toContain(d.getUTCHours());
    const berlin = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', hour: '2-digit', hour12: false });
    for (const d of starts) expect(['08', '10', '12', '14', '16']).toContain(berlin.formatToParts(d).find((p) => p.type === 'hour')!.value);
  });

  it('rejects a forged cursor', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/fapp/regions/10/announces?cursor=Zm9v' });
    expectProblem(res, 400, 'fapp.invalid_query');
  });
});

describe('reservation', () => {
  it('announce -> reserve -> therapist confirms -> patient reads the reply; the slot leaves the search', async () => {
    const th = data.therapists[5]!;
    const { res, r } = await reserve(th);
    expect(res.statusCode).toBe(201);
    expect(res.json().mailboxId).toBe(toHex(r.mailboxId));

    const pending = (await mailbox(r)).json();
    expect(pending).toMatchObject({ status: 'pending', reply: null });

    const slotHex = toHex(r.slotId);
    const searchBefore = (await t.app.inject({ method: 'GET', url: `/api/v1/fapp/slots?plz=${th.plz}&limit=500` })).json();
    expect(searchBefore.results.some((x: { slotId: string }) => x.slotId === slotHex)).toBe(false);

    const inbox = await therapistInbox(th);
    expect(inbox).toHaveLength(1);
    const opened = await openReservation(unb64(inbox[0]!.reservation), th.kem.secretKey);
    expect(opened.contact).toBe('Signal: @anon');
    expect(opened.message).toBe('Ich suche einen Therapieplatz.');

    const answer = await buildConfirm(th.signing, opened, 'confirmed', 'Gern, bis Dienstag.', clock.now());
    const ans = await post('/api/v1/fapp/therapist/answers', { answer: b64(answer) });
    expect(ans.statusCode).toBe(200);

    const done = (await mailbox(r)).json();
    expect(done.status).toBe('confirmed');
    const reply = await openConfirm(unb64(done.reply), r, clock.now());
    expect(reply).toMatchObject({ decision: 'confirmed', message: 'Gern, bis Dienstag.' });
    expect((await therapistInbox(th))[0]).toMatchObject({ state: 'booked' });

    const again = await reserve(th);
    expectProblem(again.res, 409, 'fapp.slot_booked');

    // Releasing the booking frees the slot again.
    const rel = await post('/api/v1/fapp/therapist/releases', { release: b64(buildTherapistRelease(th.signing, r.slotId, clock.now())) });
    expect(rel.statusCode).toBe(204);
    expect((await mailbox(r)).json().status).toBe('released');
    expect((await reserve(th)).res.statusCode).toBe(201);
  });

  it('decline frees the slot and tells the patient', async () => {
    const th = data.therapists[6]!;
    const { r } = await reserve(th);
    const [item] = await therapistInbox(th);
    const opened = await openReservation(unb64(item!.reservation), th.kem.secretKey);
    await post('/api/v1/fapp/therapist/answers', { answer: b64(await buildConfirm(th.signing, opened, 'declined', 'Leider schon vergeben.', clock.now())) });
    const mb = (await mailbox(r)).json();
    expect(mb.status).toBe('declined');
    expect((await openConfirm(unb64(mb.reply), r, clock.now())).decision).toBe('declined');
    expect((await reserve(th)).res.statusCode).toBe(201);
  });

  it('the patient can cancel their own hold with the capability', async () => {
    const th = data.therapists[7]!;
    const { r } = await reserve(th);
    const res = await post('/api/v1/fapp/reservations/cancel', { cancel: b64(buildPatientCancel(r, clock.now())) });
    expect(res.statusCode).toBe(204);
    expect((await mailbox(r)).json().status).toBe('cancelled');
    expect((await reserve(th)).res.statusCode).toBe(201);
  });

  it('a hold expires after its TTL and frees the slot', async () => {
    const th = data.therapists[8]!;
    const first = await reserve(th);
    expect(first.res.statusCode).toBe(201);
    expectProblem((await reserve(th)).res, 409, 'fapp.slot_held');
    clock.advance(15 * 60_000 + 1);
    try {
      expect((await mailbox(first.r)).json().status).toBe('expired');
      const second = await reserve(th);
      expect(second.res.statusCode).toBe(201);
      expect((await mailbox(first.r)).json().status).toBe('expired');
      expect((await mailbox(second.r)).json().status).toBe('pending');
    } finally {
      clock.advance(-(15 * 60_000 + 1));
    }
  });

  it('of 50 concurrent reservations of one slot exactly one wins', async () => {
    const th = data.therapists[9]!;
    const announce = decoded(th);
    const slot = announce.slots[1]!;
    const reservations = await Promise.all(
      Array.from({ length: 50 }, () => createReservation({ announce, slotId: slot.id, difficultyBits: POW_BITS, nowMs: clock.now() })),
    );
    const results = await Promise.all(reservations.map((r) => post('/api/v1/fapp/reservations', { reservation: b64(r.bytes) })));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('fapp.slot_held');
    const inbox = await therapistInbox(th);
    expect(inbox.filter((i) => i.slotId === slot.idHex)).toHaveLength(1);
  });

  it('refuses a reused stamp, a bad stamp and an unknown slot', async () => {
    const th = data.therapists[10]!;
    const { res, r } = await reserve(th, 2);
    expect(res.statusCode).toBe(201);
    expectProblem(await post('/api/v1/fapp/reservations', { reservation: b64(r.bytes) }), 409, 'fapp.stamp_reused');
    const weak = await createReservation({ announce: decoded(th), slotId: decoded(th).slots[3]!.id, difficultyBits: 0, nowMs: clock.now() });
    const maybe = await post('/api/v1/fapp/reservations', { reservation: b64(weak.bytes) });
    // A zero-bit stamp meets the 6-bit target only by chance (1 in 64); then it simply holds the slot.
    if (maybe.statusCode !== 201) expectProblem(maybe, 400, 'fapp.bad_stamp');
    const stranger = generateSigningKeyPair();
    const fake = { ...decoded(th), therapistKey: stranger.publicKey, therapistId: toHex(stranger.publicKey) };
    const unknown = await createReservation({ announce: fake, slotId: fake.slots[0]!.id, difficultyBits: POW_BITS, nowMs: clock.now() });
    expectProblem(await post('/api/v1/fapp/reservations', { reservation: b64(unknown.bytes) }), 404, 'fapp.unknown_slot');
  });

  it('therapist endpoints need a fresh, single-use, correctly signed challenge', async () => {
    const th = data.therapists[11]!;
    const other = data.therapists[12]!;
    const ch = (await post('/api/v1/fapp/therapist/challenge', {})).json();
    const challenge = Buffer.from(ch.challenge, 'hex');
    const forged = await post('/api/v1/fapp/therapist/reservations', { therapistKey: b64(th.signing.publicKey), challenge: ch.challenge, signature: b64(signChallenge(other.signing, challenge)) });
    expectProblem(forged, 400, 'fapp.bad_signature');
    const body = { therapistKey: b64(th.signing.publicKey), challenge: ch.challenge, signature: b64(signChallenge(th.signing, challenge)) };
    expect((await post('/api/v1/fapp/therapist/reservations', body)).statusCode).toBe(200);
    expectProblem(await post('/api/v1/fapp/therapist/reservations', body), 401, 'fapp.unknown_challenge');
  });

  it('a therapist cannot answer a reservation held for another mailbox', async () => {
    const th = data.therapists[13]!;
    await reserve(th);
    const [item] = await therapistInbox(th);
    const opened = await openReservation(unb64(item!.reservation), th.kem.secretKey);
    const wrong = { ...opened, mailboxId: new Uint8Array(32).fill(7) };
    expectProblem(await post('/api/v1/fapp/therapist/answers', { answer: b64(await buildConfirm(th.signing, wrong, 'confirmed', '', clock.now())) }), 409, 'fapp.hold_mismatch');
  });

  it('mailbox needs a known capability', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox' }), 400, 'request.invalid');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox', headers: { 'x-mailbox-capability': b64(new Uint8Array(32)) } }), 404, 'fapp.unknown_mailbox');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox', headers: { 'x-mailbox-capability': 'AAAA' } }), 400, 'fapp.malformed');
  });

  it('patient endpoints leave no query, capability, IP or user agent in the logs', async () => {
    const th = data.therapists[14]!;
    const { r } = await reserve(th);
    await t.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?plz=80331&language=tr', headers: { 'user-agent': 'PatientBrowser/9' }, remoteAddress: '192.0.2.44' });
    await t.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox', headers: { 'x-mailbox-capability': b64(r.mailboxCapability), 'user-agent': 'PatientBrowser/9' }, remoteAddress: '192.0.2.44' });
    const raw = t.rawLogs();
    for (const secret of ['80331', 'language=tr', 'PatientBrowser', '192.0.2.44', b64(r.mailboxCapability), toHex(r.mailboxId)]) expect(raw).not.toContain(secret);
    expect(t.logs.some((l) => l.route === '/api/v1/fapp/slots')).toBe(true);
  });
});
