import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomBytes, toHex } from '@qpc/crypto';
import {
  CHALLENGE_BYTES,
  decodeMessage,
  effectiveSlotState,
  FappError,
  mailboxIdFromCapability,
  slotTransition,
  type SlotState,
  STAMP_WINDOWS_ACCEPTED,
  stampWindow,
  verifyChallenge,
  verifyConfirm,
  verifyPatientCancel,
  verifyReservation,
  verifyTherapistRelease,
} from '@qpc/fapp';
import { SlotReserveSchema } from '@qpc/proto';
import { Clock } from '../common/clock.js';
import type { RateLimit } from '../common/rate-limit.js';
import { RateLimits } from '../common/rate-limits.js';
import { ServerError } from '../common/server-error.js';
import { ServerConfig } from '../config/config.js';
import { FappRepository, type HoldRow } from './fapp.repository.js';
import { FappService } from './fapp.service.js';
import { FappSearchIndex } from './search-index.js';

const CHALLENGE_TTL_MS = 2 * 60_000;
const GC_INTERVAL_MS = 30_000;
/** How often expired announces are deleted: it reads the whole announce table (`FappRepository.retireAnnounces`). */
export const ANNOUNCE_RETIRE_INTERVAL_MS = 3600_000;

/** A reservation the service now holds (from HTTP or the mesh bridge). */
export interface ReservedEvent {
  /** The SlotReserve bytes as received (content sealed to the therapist). */
  bytes: Uint8Array;
  therapistId: string;
  mailboxId: string;
  heldUntilMs: number;
  /** The therapist's mesh node from the current announce, if it names one. */
  meshAddress: Uint8Array | undefined;
}

/** A therapist's answer that booked or freed a held slot (a repeated confirm changes nothing and is not reported). */
export interface AnsweredEvent {
  /** The signed SlotConfirm bytes (reply sealed to the patient). */
  bytes: Uint8Array;
  therapistId: string;
  mailboxId: string;
  decision: 'confirmed' | 'declined';
}

type Listener<E> = (e: E) => void;

function holdState(h: HoldRow | null): SlotState {
  if (!h) return { kind: 'free' };
  return h.state === 'booked' ? { kind: 'booked', mailboxId: h.mailbox_id } : { kind: 'held', mailboxId: h.mailbox_id, heldUntilMs: h.held_until!.getTime() };
}

/**
 * Anonymous reservations: holds (exactly one per slot, by database constraint), the
 * patient's mailbox, and the therapist's answers. Nothing here identifies the patient.
 */
@Injectable()
export class ReservationService implements OnModuleInit, OnModuleDestroy {
  private readonly globalLimit: RateLimit;
  private readonly slotLimit: RateLimit;
  private gcTimer: NodeJS.Timeout | undefined;
  private retiredAtMs: number | undefined;
  private readonly reservedListeners = new Set<Listener<ReservedEvent>>();
  private readonly answeredListeners = new Set<Listener<AnsweredEvent>>();
  private readonly log = new Logger('fapp');

  constructor(
    @Inject(FappRepository) private readonly repo: FappRepository,
    @Inject(FappService) private readonly announces: FappService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(FappSearchIndex) private readonly index: FappSearchIndex,
    @Inject(RateLimits) limits: RateLimits,
  ) {
    this.globalLimit = limits.create('reserve', config.FAPP_RESERVE_RATE_PER_MIN, 60_000, { maxKeys: 1 });
    this.slotLimit = limits.create('slot', config.FAPP_SLOT_RATE_PER_MIN, 60_000);
  }

  onModuleInit() {
    this.gcTimer = setInterval(() => void this.collectGarbage().catch(() => undefined), GC_INTERVAL_MS);
    this.gcTimer.unref();
  }

  onModuleDestroy() {
    clearInterval(this.gcTimer);
  }

  /**
   * Called after a reservation is held (committed), from HTTP or the mesh bridge. Returns a
   * function that removes the listener. A listener's exception never fails the reservation.
   */
  onReserved(fn: Listener<ReservedEvent>): () => void {
    this.reservedListeners.add(fn);
    return () => this.reservedListeners.delete(fn);
  }

  /** Called after an answer booked or freed a slot (committed); returns the remover. */
  onAnswered(fn: Listener<AnsweredEvent>): () => void {
    this.answeredListeners.add(fn);
    return () => this.answeredListeners.delete(fn);
  }

  private emit<E>(listeners: Set<Listener<E>>, e: E): void {
    for (const fn of listeners) {
      try {
        fn(e);
      } catch (err) {
        this.log.error(err);
      }
    }
  }

  /**
   * Housekeeping, every GC_INTERVAL_MS: expired holds, stamps, challenges and mailboxes; and, at the
   * first call and then once per ANNOUNCE_RETIRE_INTERVAL_MS, announces expired 30 days ago. A round
   * that fails before its retirement is done leaves it to the next round.
   */
  async collectGarbage(): Promise<{ expiredHolds: number; retiredAnnounces: number }> {
    const nowMs = this.clock.now();
    // Decided before anything is awaited, so that of two rounds at once only one retires.
    const previous = this.retiredAtMs;
    const retire = previous === undefined || nowMs - previous >= ANNOUNCE_RETIRE_INTERVAL_MS;
    if (retire) this.retiredAtMs = nowMs;
    try {
      const { expiredHolds } = await this.repo.collectGarbage(nowMs, stampWindow(nowMs) - (STAMP_WINDOWS_ACCEPTED - 1));
      const retiredAnnounces = retire ? await this.repo.retireAnnounces(nowMs) : 0;
      return { expiredHolds, retiredAnnounces };
    } catch (err) {
      if (retire && this.retiredAtMs === nowMs) this.retiredAtMs = previous;
      throw err;
    }
  }

  async reserve(bytes: Uint8Array): Promise<{ mailboxId: string; heldUntil: string }> {
    const nowMs = this.clock.now();
    if (!(await this.globalLimit.take('all', nowMs))) throw new ServerError('fapp.rate_limited', 429, 'Too many reservations right now; try again in a minute.');
    const announce = await this.announces.currentAnnounce(reserveTherapistId(bytes));
    const r = verifyReservation(bytes, {
      nowMs,
      difficultyBits: this.config.FAPP_POW_BITS,
      lookup: (id) => (id === announce?.therapistId ? announce : undefined),
    });
    if (!(await this.slotLimit.take(`${r.therapistId}/${r.slotIdHex}`, nowMs))) {
      throw new ServerError('fapp.rate_limited', 429, 'Too many reservations for this slot; try again in a minute.');
    }
    if (!(await this.repo.rememberStamp(r.stampId, r.stampWindow))) throw new FappError('STAMP_REUSED', 'stamp was already used');

    const heldUntil = new Date(nowMs + this.config.FAPP_HOLD_TTL_MS);
    await this.repo.transaction(async (m) => {
      const { taken } = await this.repo.takeHold(m, { therapistId: r.therapistId, slotId: r.slotIdHex, mailboxId: r.mailboxIdHex, heldUntil, reservation: r.bytes }, nowMs);
      if (!taken) {
        const current = effectiveSlotState(holdState(await this.repo.holdFor(m, r.therapistId, r.slotIdHex)), nowMs);
        throw current.kind === 'booked' ? new FappError('SLOT_BOOKED', 'slot is booked') : new FappError('SLOT_HELD', 'slot is held for another reservation');
      }
      if (!(await this.repo.createMailbox(m, r.mailboxIdHex, r.therapistId, r.slotIdHex, r.slot.startMs, nowMs))) {
        throw new ServerError('fapp.mailbox_in_use', 409, 'This mailbox already belongs to a reservation; make a new reservation.');
      }
    });
    this.index.changed([r.therapistId]);
    this.emit(this.reservedListeners, { bytes: r.bytes, therapistId: r.therapistId, mailboxId: r.mailboxIdHex, heldUntilMs: heldUntil.getTime(), meshAddress: announce?.meshAddress });
    return { mailboxId: r.mailboxIdHex, heldUntil: heldUntil.toISOString() };
  }

  async mailbox(capability: Uint8Array) {
    const id = toHex(mailboxIdFromCapability(capability));
    const mb = await this.repo.mailbox(id);
    if (!mb) throw new ServerError('fapp.unknown_mailbox', 404, 'No reservation belongs to this link.');
    const heldUntil = mb.status === 'pending' && mb.held_until ? mb.held_until : null;
    const status = mb.status === 'pending' && (!heldUntil || heldUntil.getTime() <= this.clock.now()) ? 'expired' : mb.status;
    return {
      status,
      therapistId: mb.therapist_id,
      slotId: mb.slot_id,
      heldUntil: status === 'pending' ? heldUntil!.toISOString() : null,
      reply: mb.reply ? mb.reply.toString('base64url') : null,
    };
  }

  /** The patient withdraws their own reservation (proved by the mailbox capability). */
  async cancel(bytes: Uint8Array): Promise<void> {
    const c = verifyPatientCancel(bytes, this.clock.now());
    await this.repo.transaction(async (m) => {
      const hold = await this.repo.holdFor(m, c.therapistId, c.slotIdHex, true);
      const t = slotTransition(holdState(hold), { kind: 'cancel', mailboxId: c.mailboxIdHex, nowMs: this.clock.now() });
      if (t.kind === 'refused') throw t.error;
      await this.repo.deleteHold(m, c.therapistId, c.slotIdHex);
      await this.repo.setMailbox(m, c.mailboxIdHex, 'cancelled');
    });
    this.index.changed([c.therapistId]);
  }

  async challenge(): Promise<{ challenge: string; expiresAt: string }> {
    const challenge = toHex(randomBytes(CHALLENGE_BYTES));
    const expiresAt = new Date(this.clock.now() + CHALLENGE_TTL_MS);
    await this.repo.insertChallenge(challenge, expiresAt);
    return { challenge, expiresAt: expiresAt.toISOString() };
  }

  /** The therapist's current holds and bookings, with the sealed reservations, after a signed challenge. */
  async therapistReservations(therapistKey: Uint8Array, challenge: Uint8Array, signature: Uint8Array) {
    verifyChallenge(therapistKey, challenge, signature);
    if (!(await this.repo.consumeChallenge(toHex(challenge), this.clock.now()))) {
      throw new ServerError('fapp.unknown_challenge', 401, 'The challenge is unknown, used or expired; ask for a new one.');
    }
    const holds = await this.repo.holdsOf(toHex(therapistKey), this.clock.now());
    return {
      reservations: holds.map((h) => ({
        slotId: h.slot_id,
        mailboxId: h.mailbox_id,
        state: h.state,
        heldUntil: h.held_until?.toISOString() ?? null,
        reservation: h.reservation.toString('base64url'),
      })),
    };
  }

  /** The therapist confirms or declines; the sealed reply goes to the patient's mailbox. */
  async answer(bytes: Uint8Array): Promise<{ decision: 'confirmed' | 'declined' }> {
    const nowMs = this.clock.now();
    const c = verifyConfirm(bytes, nowMs);
    const change = await this.repo.transaction(async (m) => {
      const hold = await this.repo.holdFor(m, c.therapistId, c.slotIdHex, true);
      const t = slotTransition(holdState(hold), { kind: c.decision === 'confirmed' ? 'confirm' : 'decline', mailboxId: c.mailboxIdHex, nowMs });
      if (t.kind === 'refused') throw t.error;
      if (c.decision === 'confirmed') await this.repo.confirmHold(m, c.therapistId, c.slotIdHex);
      else await this.repo.deleteHold(m, c.therapistId, c.slotIdHex);
      await this.repo.setMailbox(m, c.mailboxIdHex, c.decision, c.bytes);
      return t.change;
    });
    this.index.changed([c.therapistId]);
    if (change !== 'none') this.emit(this.answeredListeners, { bytes: c.bytes, therapistId: c.therapistId, mailboxId: c.mailboxIdHex, decision: c.decision });
    return { decision: c.decision };
  }

  /** The therapist frees a held or booked slot. */
  async release(bytes: Uint8Array): Promise<void> {
    const nowMs = this.clock.now();
    const r = verifyTherapistRelease(bytes, nowMs);
    await this.repo.transaction(async (m) => {
      const hold = await this.repo.holdFor(m, r.therapistId, r.slotIdHex, true);
      if (!hold) throw new FappError('NOT_HELD', 'slot is neither held nor booked');
      if (r.mailboxIdHex && r.mailboxIdHex !== hold.mailbox_id) throw new FappError('HOLD_MISMATCH', 'slot is held for another reservation');
      await this.repo.deleteHold(m, r.therapistId, r.slotIdHex);
      await this.repo.setMailbox(m, hold.mailbox_id, 'released');
    });
    this.index.changed([r.therapistId]);
  }
}

/** The therapist a SlotReserve names (malformed bytes fail here with the library's error). */
function reserveTherapistId(bytes: Uint8Array): string {
  return toHex(decodeMessage(SlotReserveSchema, bytes).therapistKey);
}
