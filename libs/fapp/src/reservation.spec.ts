import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { toHex } from '@qpc/crypto';
import { SlotReleaseSchema, SlotReserveSchema } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { verifyAnnounce } from './announce.js';
import { slotTransition, type SlotState } from './hold.js';
import { DEFAULT_HOLD_TTL_MS, MINUTE_MS, RESERVATION_PAD_BYTES } from './limits.js';
import {
  buildConfirm,
  buildPatientCancel,
  buildTherapistRelease,
  createReservation,
  mailboxIdFromCapability,
  openConfirm,
  openReservation,
  SEALED_RESERVATION_BYTES,
  stampContext,
  verifyConfirm,
  verifyPatientCancel,
  verifyReservation,
  verifyTherapistRelease,
} from './reservation.js';
import { announceBytes, NOW, slotId, therapist, therapistKem, trust } from './test/fixtures.js';

const announce = verifyAnnounce(announceBytes(), { nowMs: NOW, trust }).announce;
const policy = { nowMs: NOW, difficultyBits: 6, lookup: (id: string) => (id === announce.therapistId ? announce : undefined) };
const reserve = (message = 'Ich suche einen Platz.', contact = 'signal:@anon.42', difficultyBits = 6) =>
  createReservation({ announce, slotId: slotId(2), contact, message, difficultyBits, nowMs: NOW });
// A stamp of d bits also passes for an unrelated context with probability 2^-d: tamper
// tests mint 16-bit stamps (a false pass is a 1-in-65536 event), and the binding itself
// is checked exactly below.
const STRONG = 16;
const strongPolicy = { ...policy, difficultyBits: STRONG };

describe('reservation flow', () => {
  it('patient -> server -> therapist -> server -> patient', async () => {
    const r = await reserve();
    const held = verifyReservation(r.bytes, policy);
    expect(held.slotIdHex).toBe(toHex(slotId(2)));
    expect(held.mailboxIdHex).toBe(toHex(mailboxIdFromCapability(r.mailboxCapability)));

    const opened = await openReservation(held.bytes, therapistKem.secretKey);
    expect(opened).toMatchObject({ contact: 'signal:@anon.42', message: 'Ich suche einen Platz.' });
    expect(opened.replyKey).toEqual(r.replyKeyPair.publicKey);

    const confirm = await buildConfirm(therapist, opened, 'confirmed', 'Bis Dienstag!', NOW + MINUTE_MS);
    const seen = verifyConfirm(confirm, NOW + MINUTE_MS);
    expect(seen).toMatchObject({ decision: 'confirmed', slotIdHex: held.slotIdHex, mailboxIdHex: held.mailboxIdHex });

    const reply = await openConfirm(confirm, r, NOW + 2 * MINUTE_MS);
    expect(reply).toMatchObject({ decision: 'confirmed', message: 'Bis Dienstag!' });
  });

  it('a decline reaches the patient as a decline', async () => {
    const r = await reserve();
    const opened = await openReservation(r.bytes, therapistKem.secretKey);
    const decline = await buildConfirm(therapist, opened, 'declined', 'Leider schon vergeben.', NOW);
    expect(verifyConfirm(decline, NOW).decision).toBe('declined');
    expect((await openConfirm(decline, r, NOW)).decision).toBe('declined');
  });

  it('every sealed reservation has the same size, whatever the message length', async () => {
    const short = await reserve('', '');
    const long = await reserve('x'.repeat(2000), 'y'.repeat(256));
    const s = fromBinary(SlotReserveSchema, short.bytes).sealed.length;
    const l = fromBinary(SlotReserveSchema, long.bytes).sealed.length;
    expect(s).toBe(SEALED_RESERVATION_BYTES);
    expect(l).toBe(s);
    expect(RESERVATION_PAD_BYTES).toBeGreaterThan(1216 + 2000 + 256 + 16 + 16);
  });

  it('mailbox capabilities are 256 random bits, distinct per reservation', async () => {
    const [a, b] = [await reserve(), await reserve()];
    expect(a.mailboxCapability.length).toBe(32);
    expect(toHex(a.mailboxCapability)).not.toBe(toHex(b.mailboxCapability));
    expect(toHex(a.replyKeyPair.publicKey)).not.toBe(toHex(b.replyKeyPair.publicKey));
  });

  it('moving a sealed request to another slot or mailbox breaks it', async () => {
    const r = await reserve(undefined, undefined, STRONG);
    const m = fromBinary(SlotReserveSchema, r.bytes);
    const otherSlot = toBinary(SlotReserveSchema, { ...m, slotId: slotId(1) });
    expect(() => verifyReservation(otherSlot, strongPolicy)).toThrow(expect.objectContaining({ code: 'BAD_STAMP' }));
    await expect(openReservation(otherSlot, therapistKem.secretKey)).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    const otherMailbox = toBinary(SlotReserveSchema, { ...m, mailboxId: new Uint8Array(32).fill(1) });
    await expect(openReservation(otherMailbox, therapistKem.secretKey)).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });

  it('the stamp context binds therapist, slot, mailbox, window and the sealed bytes', () => {
    const base = [therapist.publicKey, slotId(1), new Uint8Array(32), 7, new Uint8Array(10)] as const;
    const ctx = toHex(stampContext(...base));
    expect(toHex(stampContext(base[0], slotId(2), base[2], base[3], base[4]))).not.toBe(ctx);
    expect(toHex(stampContext(base[0], base[1], new Uint8Array(32).fill(1), base[3], base[4]))).not.toBe(ctx);
    expect(toHex(stampContext(base[0], base[1], base[2], 8, base[4]))).not.toBe(ctx);
    expect(toHex(stampContext(base[0], base[1], base[2], base[3], new Uint8Array(11)))).not.toBe(ctx);
  });

  it('a tampered sealed payload or stamp is refused', async () => {
    const r = await reserve(undefined, undefined, STRONG);
    const m = fromBinary(SlotReserveSchema, r.bytes);
    const sealed = m.sealed.slice();
    sealed[2000]! ^= 1;
    expect(() => verifyReservation(toBinary(SlotReserveSchema, { ...m, sealed }), strongPolicy)).toThrow(expect.objectContaining({ code: 'BAD_STAMP' }));
    await expect(openReservation(toBinary(SlotReserveSchema, { ...m, sealed }), therapistKem.secretKey)).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect(() => verifyReservation(toBinary(SlotReserveSchema, { ...m, sealed: m.sealed.subarray(1) }), policy)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
  });

  it('a tampered confirm is refused by server and patient', async () => {
    const r = await reserve();
    const confirm = await buildConfirm(therapist, await openReservation(r.bytes, therapistKem.secretKey), 'confirmed', 'ok', NOW);
    const bad = confirm.slice();
    bad[bad.length - 80]! ^= 1;
    expect(() => verifyConfirm(bad, NOW)).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    await expect(openConfirm(bad, r, NOW)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(() => verifyConfirm(confirm, NOW + 25 * 60 * MINUTE_MS)).toThrow(expect.objectContaining({ code: 'EXPIRED' }));
  });

  it('the patient cancels with the capability; a wrong capability is refused', async () => {
    const r = await reserve();
    const cancel = buildPatientCancel(r, NOW);
    expect(verifyPatientCancel(cancel, NOW)).toMatchObject({ kind: 'patient', mailboxIdHex: toHex(r.mailboxId) });
    const forged = buildPatientCancel({ ...r, mailboxCapability: new Uint8Array(32) }, NOW);
    // Same mailbox id claimed with another capability.
    const claimed = toBinary(SlotReleaseSchema, { ...fromBinary(SlotReleaseSchema, forged), mailboxId: r.mailboxId });
    expect(() => verifyPatientCancel(claimed, NOW)).toThrow(expect.objectContaining({ code: 'RESERVATION_MISMATCH' }));
  });

  it('the therapist releases a slot with a signed release', () => {
    const rel = buildTherapistRelease(therapist, slotId(2), NOW);
    expect(verifyTherapistRelease(rel, NOW)).toMatchObject({ kind: 'therapist', therapistId: announce.therapistId, mailboxIdHex: undefined });
  });
});

describe('slot hold state machine', () => {
  const free: SlotState = { kind: 'free' };

  it('free -> held -> booked -> released', () => {
    const h = slotTransition(free, { kind: 'reserve', mailboxId: 'm1', nowMs: NOW });
    expect(h).toMatchObject({ kind: 'ok', change: 'held', state: { kind: 'held', heldUntilMs: NOW + DEFAULT_HOLD_TTL_MS } });
    const b = slotTransition(h.state, { kind: 'confirm', mailboxId: 'm1', nowMs: NOW + MINUTE_MS });
    expect(b).toMatchObject({ kind: 'ok', change: 'booked', state: { kind: 'booked', mailboxId: 'm1' } });
    expect(slotTransition(b.state, { kind: 'confirm', mailboxId: 'm1', nowMs: NOW + 2 * MINUTE_MS })).toMatchObject({ kind: 'ok', change: 'none' });
    expect(slotTransition(b.state, { kind: 'release', nowMs: NOW })).toMatchObject({ kind: 'ok', change: 'freed', state: free });
  });

  it('exactly one of many concurrent reservations holds the slot', () => {
    let state: SlotState = free;
    const outcomes = Array.from({ length: 50 }, (_, i) => {
      const t = slotTransition(state, { kind: 'reserve', mailboxId: `m${i}`, nowMs: NOW });
      state = t.state;
      return t.kind;
    });
    expect(outcomes.filter((k) => k === 'ok')).toHaveLength(1);
  });

  it('an expired hold frees the slot for the next patient and cannot be confirmed', () => {
    const h = slotTransition(free, { kind: 'reserve', mailboxId: 'm1', nowMs: NOW, ttlMs: 10 * MINUTE_MS });
    const later = NOW + 10 * MINUTE_MS;
    expect(slotTransition(h.state, { kind: 'tick', nowMs: later })).toMatchObject({ change: 'expired', state: free });
    expect(slotTransition(h.state, { kind: 'confirm', mailboxId: 'm1', nowMs: later })).toMatchObject({ kind: 'refused', error: { code: 'NOT_HELD' } });
    expect(slotTransition(h.state, { kind: 'reserve', mailboxId: 'm2', nowMs: later })).toMatchObject({ kind: 'ok', change: 'held' });
  });

  it('decline and patient cancel free the slot', () => {
    const h = slotTransition(free, { kind: 'reserve', mailboxId: 'm1', nowMs: NOW });
    expect(slotTransition(h.state, { kind: 'decline', mailboxId: 'm1', nowMs: NOW })).toMatchObject({ change: 'freed', state: free });
    expect(slotTransition(h.state, { kind: 'cancel', mailboxId: 'm1', nowMs: NOW })).toMatchObject({ change: 'freed', state: free });
  });
});
