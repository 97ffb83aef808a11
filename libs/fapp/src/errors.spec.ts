import { create, toBinary } from '@bufbuild/protobuf';
import { toHex } from '@qpc/crypto';
import { Fachrichtung, FappKind, FappSignedSchema, SlotReserveSchema, Terminart } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { verifyAnnounce } from './announce.js';
import { applyRevocationList, createTrustStore, issueRevocationList } from './attestation.js';
import { decodeMessage } from './codec.js';
import { encodeEnvelope, forwardEnvelope, openEnvelope, signEnvelope } from './envelope.js';
import { FAPP_ERROR_CODES, FappError, type FappErrorCode } from './errors.js';
import { slotTransition } from './hold.js';
import { DAY_MS, HOUR_MS, MAX_HOPS, MAX_MESSAGE_BYTES, MINUTE_MS } from './limits.js';
import { validateFilter } from './query.js';
import {
  buildConfirm,
  createReservation,
  openConfirm,
  openReservation,
  rememberStamp,
  verifyReservation,
  type ReservationPolicy,
} from './reservation.js';
import { emptyAnnounceStore, ingestAnnounce } from './store.js';
import {
  announceBytes,
  attestationBytes,
  authority,
  keysFor,
  kemFor,
  NOW,
  rawAnnounceInit,
  signRawAnnounce,
  slotId,
  therapist,
  therapistKem,
  trust,
} from './test/fixtures.js';

const policy = { nowMs: NOW, trust };
const verify = (bytes: Uint8Array, p: Partial<typeof policy> & { requireVerified?: boolean } = {}) => verifyAnnounce(bytes, { ...policy, ...p });
const raw = (patch: Record<string, unknown>) => signRawAnnounce({ ...rawAnnounceInit(), ...patch });
const slot = (patch: Record<string, unknown>) => ({ id: slotId(1), startMs: BigInt(NOW + HOUR_MS), durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE, ...patch });

const announce = () => verify(announceBytes()).announce;
const reservePolicy = (over: Partial<ReservationPolicy> = {}): ReservationPolicy => ({
  nowMs: NOW,
  difficultyBits: 4,
  lookup: (id) => (id === toHex(therapist.publicKey) ? announce() : undefined),
  ...over,
});
const reserve = () => createReservation({ announce: announce(), slotId: slotId(1), contact: 'mail@example.org', message: 'Hallo', difficultyBits: 4, nowMs: NOW });

// One case per code. The Record type makes the compiler insist that every code has a test.
const cases: Record<FappErrorCode, () => unknown> = {
  MALFORMED: () => verify(Uint8Array.of(0x0a, 0xff)),
  TOO_LARGE: () => verify(new Uint8Array(MAX_MESSAGE_BYTES + 1)),
  TOO_MANY_SLOTS: () => verify(raw({ slots: Array.from({ length: 257 }, (_, i) => slot({ id: slotId(i + 1), startMs: BigInt(NOW + HOUR_MS + i * HOUR_MS) })) })),
  UNKNOWN_ENUM: () => verify(raw({ fachrichtungen: [99] })),
  MISSING_FIELD: () => verify(raw({ kostentraeger: [] })),
  WRONG_KIND: () => openEnvelope(announceBytes(), FappKind.SLOT_RELEASE),
  INVALID_KEY: () => verify(raw({ kemKey: new Uint8Array(100) })),
  BAD_SIGNATURE: () => {
    const env = decodeMessage(FappSignedSchema, announceBytes());
    env.signature[0]! ^= 1;
    return verify(toBinary(FappSignedSchema, env));
  },
  SIGNER_MISMATCH: () => verify(signRawAnnounce(rawAnnounceInit(), keysFor('someone else'))),
  HOP_LIMIT: () => {
    const env = decodeMessage(FappSignedSchema, announceBytes());
    return forwardEnvelope(toBinary(FappSignedSchema, { ...env, hopCount: MAX_HOPS }));
  },
  INVALID_PLZ: () => verify(raw({ plz: '62001' })),
  INVALID_LANGUAGE: () => verify(raw({ languages: ['de', 'xx'] })),
  INVALID_URL: () => verify(raw({ profileUrl: 'http://praxis.example/' })),
  INVALID_TEXT: () => verify(raw({ displayName: 'Dr.\u202eevil' })),
  INVALID_DURATION: () => verify(raw({ slots: [slot({ durationMinutes: 45 })] })),
  INVALID_GROUP_SIZE: () => verify(raw({ slots: [slot({ terminart: Terminart.GRUPPE, groupSize: 2 })] })),
  INVALID_SLOT_TIME: () => verify(raw({ slots: [slot({ startMs: BigInt(NOW + HOUR_MS + 1000) })] })),
  DUPLICATE_SLOT: () => verify(raw({ slots: [slot({}), slot({ startMs: BigInt(NOW + 5 * HOUR_MS) })] })),
  SLOT_OVERLAP: () => verify(raw({ slots: [slot({}), slot({ id: slotId(2), startMs: BigInt(NOW + HOUR_MS + 30 * MINUTE_MS) })] })),
  SLOT_IN_PAST: () => verify(raw({ slots: [slot({ startMs: BigInt(NOW - HOUR_MS) })] })),
  SLOT_TOO_FAR: () => verify(raw({ slots: [slot({ startMs: BigInt(NOW + 181 * DAY_MS) })] })),
  ISSUED_IN_FUTURE: () => verify(raw({ issuedAtMs: BigInt(NOW + 6 * MINUTE_MS), slots: [] })),
  EXPIRED: () => verify(announceBytes(), { nowMs: NOW + 7 * DAY_MS }),
  EXPIRY_TOO_LONG: () => verify(raw({ expiresAtMs: BigInt(NOW + 31 * DAY_MS) })),
  STALE_SEQUENCE: () => {
    const first = ingestAnnounce(emptyAnnounceStore(), announceBytes({ sequence: 5 }), policy);
    const second = ingestAnnounce(first.store, announceBytes({ sequence: 4 }), policy);
    if (second.kind === 'rejected') throw second.error;
  },
  UNKNOWN_ATTESTATION: () => verify(announceBytes({ attestation: attestationBytes({ signer: keysFor('rogue authority') }) })),
  REVOKED_ATTESTATION: () => {
    const list = issueRevocationList(authority, { sequence: 1, revokedAttestationIds: [Uint8Array.of(1, ...new Uint8Array(15))] }, NOW);
    const applied = applyRevocationList(trust, list, NOW);
    return verify(announceBytes(), { trust: applied.trust });
  },
  ATTESTATION_EXPIRED: () => verify(announceBytes({ attestation: attestationBytes({ validUntilMs: NOW + HOUR_MS }) }), { nowMs: NOW + 2 * HOUR_MS }),
  ATTESTATION_MISMATCH: () => verify(announceBytes({ attestation: attestationBytes({ key: keysFor('other').publicKey }) })),
  ATTESTATION_SCOPE: () => verify(announceBytes({ fachrichtungen: [Fachrichtung.ANALYTISCH] })),
  UNVERIFIED_REJECTED: () => verify(announceBytes({ attestation: undefined }), { requireVerified: true }),
  STALE_REVOCATION_LIST: () => {
    const t1 = applyRevocationList(trust, issueRevocationList(authority, { sequence: 3, revokedAttestationIds: [] }, NOW), NOW).trust;
    return applyRevocationList(t1, issueRevocationList(authority, { sequence: 2, revokedAttestationIds: [] }, NOW), NOW);
  },
  INVALID_QUERY: () => validateFilter({ limit: 501 }),
  BAD_STAMP: async () => {
    const r = await reserve();
    return verifyReservation(r.bytes, reservePolicy({ difficultyBits: 40 }));
  },
  STALE_STAMP: async () => {
    const r = await reserve();
    return verifyReservation(r.bytes, reservePolicy({ nowMs: NOW + 30 * MINUTE_MS }));
  },
  STAMP_REUSED: async () => {
    const v = verifyReservation((await reserve()).bytes, reservePolicy());
    const first = rememberStamp(new Map(), v, NOW);
    const again = rememberStamp(first.seen, v, NOW);
    if (again.kind === 'reused') throw again.error;
  },
  UNKNOWN_SLOT: () => createReservation({ announce: announce(), slotId: slotId(77), difficultyBits: 1, nowMs: NOW }),
  DECRYPT_FAILED: async () => openReservation((await reserve()).bytes, kemFor('not the therapist').secretKey),
  RESERVATION_MISMATCH: async () => {
    const a = await reserve();
    const b = await reserve();
    const confirm = await buildConfirm(therapist, await openReservation(a.bytes, therapistKem.secretKey), 'confirmed', 'Gern', NOW);
    return openConfirm(confirm, b, NOW);
  },
  SLOT_HELD: () => {
    const held = slotTransition({ kind: 'free' }, { kind: 'reserve', mailboxId: 'a', nowMs: NOW });
    const r = slotTransition(held.state, { kind: 'reserve', mailboxId: 'b', nowMs: NOW + MINUTE_MS });
    if (r.kind === 'refused') throw r.error;
  },
  SLOT_BOOKED: () => {
    const r = slotTransition({ kind: 'booked', mailboxId: 'a' }, { kind: 'reserve', mailboxId: 'b', nowMs: NOW });
    if (r.kind === 'refused') throw r.error;
  },
  NOT_HELD: () => {
    const r = slotTransition({ kind: 'free' }, { kind: 'confirm', mailboxId: 'a', nowMs: NOW });
    if (r.kind === 'refused') throw r.error;
  },
  HOLD_MISMATCH: () => {
    const r = slotTransition({ kind: 'held', mailboxId: 'a', heldUntilMs: NOW + MINUTE_MS }, { kind: 'decline', mailboxId: 'b', nowMs: NOW });
    if (r.kind === 'refused') throw r.error;
  },
};

describe('every FappError code', () => {
  it('has exactly one case here', () => {
    expect(Object.keys(cases).sort()).toEqual([...FAPP_ERROR_CODES].sort());
  });

  it.each(Object.entries(cases))('%s', async (code, run) => {
    let caught: unknown;
    try {
      await run();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FappError);
    expect((caught as FappError).code).toBe(code);
  });
});

describe('boundaries of the rules', () => {
  it('accepts issued_at within the clock skew', () => {
    expect(verify(raw({ issuedAtMs: BigInt(NOW + 4 * MINUTE_MS), slots: [slot({ startMs: BigInt(NOW + HOUR_MS) })] })).announce.sequence).toBe(1);
  });

  it('accepts exactly 30 days of validity and adjacent slots', () => {
    const v = verify(
      raw({
        expiresAtMs: BigInt(NOW + 30 * DAY_MS),
        slots: [slot({}), slot({ id: slotId(2), startMs: BigInt(NOW + HOUR_MS + 50 * MINUTE_MS) })],
      }),
    );
    expect(v.announce.slots).toHaveLength(2);
  });

  it('treats an announce without attestation as unverified unless the node requires it', () => {
    const v = verify(announceBytes({ attestation: undefined }));
    expect(v.verified).toBe(false);
    expect(v.status.kind).toBe('unverified');
  });

  it('rejects a reservation envelope claiming another kind', () => {
    const body = toBinary(SlotReserveSchema, create(SlotReserveSchema, {}));
    const bytes = encodeEnvelope(signEnvelope(FappKind.SLOT_RELEASE, body, therapist));
    expect(() => verify(bytes)).toThrow(expect.objectContaining({ code: 'WRONG_KIND' }));
  });

  it('rejects the slot of an unknown announce and builds no reservation for a past slot', async () => {
    const r = await reserve();
    expect(() => verifyReservation(r.bytes, reservePolicy({ lookup: () => undefined }))).toThrow(expect.objectContaining({ code: 'UNKNOWN_SLOT' }));
    await expect(createReservation({ announce: announce(), slotId: slotId(1), difficultyBits: 1, nowMs: NOW + 3 * HOUR_MS })).rejects.toMatchObject({ code: 'SLOT_IN_PAST' });
  });

  it('keeps the slot list whole: a Gruppe slot carries its group size, others none', () => {
    expect(() => verify(raw({ slots: [slot({ groupSize: 4 })] }))).toThrow(expect.objectContaining({ code: 'INVALID_GROUP_SIZE' }));
    const ok = verify(raw({ slots: [slot({ terminart: Terminart.GRUPPE, groupSize: 9, durationMinutes: 100 })] }));
    expect(ok.announce.slots[0]?.groupSize).toBe(9);
  });

  it('trust stores only hold 32-byte keys', () => {
    expect(() => createTrustStore([{ name: 'x', publicKey: new Uint8Array(3) }])).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });
});
