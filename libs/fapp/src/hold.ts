import { FappError } from './errors.js';
import { DEFAULT_HOLD_TTL_MS } from './limits.js';

/**
 * Booking state of one slot on the node that takes reservations (normally the server).
 * The server keeps it in its database and enforces "exactly one hold" with a constraint;
 * this is the rule it implements, as a pure function.
 */
export type SlotState =
  | { kind: 'free' }
  | { kind: 'held'; mailboxId: string; heldUntilMs: number }
  | { kind: 'booked'; mailboxId: string };

export type SlotEvent =
  /** A verified reservation arrives. */
  | { kind: 'reserve'; mailboxId: string; nowMs: number; ttlMs?: number }
  /** The therapist confirms the reservation of `mailboxId`. */
  | { kind: 'confirm'; mailboxId: string; nowMs: number }
  /** The therapist declines it. */
  | { kind: 'decline'; mailboxId: string; nowMs: number }
  /** The patient cancels their own hold (proved by the mailbox capability). */
  | { kind: 'cancel'; mailboxId: string; nowMs: number }
  /** The therapist frees a held or booked slot (signed SlotRelease). */
  | { kind: 'release'; nowMs: number }
  /** Time passes. */
  | { kind: 'tick'; nowMs: number };

export type SlotTransition =
  | { kind: 'ok'; state: SlotState; change: 'held' | 'booked' | 'freed' | 'expired' | 'none' }
  | { kind: 'refused'; state: SlotState; error: FappError };

/** A hold whose TTL has passed counts as free. */
export function effectiveSlotState(state: SlotState, nowMs: number): SlotState {
  return state.kind === 'held' && state.heldUntilMs <= nowMs ? { kind: 'free' } : state;
}

function refuse(state: SlotState, code: 'SLOT_HELD' | 'SLOT_BOOKED' | 'NOT_HELD' | 'HOLD_MISMATCH', message: string): SlotTransition {
  return { kind: 'refused', state, error: new FappError(code, message) };
}

/**
 * free --reserve--> held(ttl) --confirm--> booked
 * held --decline|cancel|expiry--> free;  held|booked --release--> free
 * reserve on held -> SLOT_HELD; on booked -> SLOT_BOOKED; confirm/decline/cancel of
 * another mailbox's hold -> HOLD_MISMATCH; of no (or an expired) hold -> NOT_HELD.
 */
export function slotTransition(state: SlotState, event: SlotEvent): SlotTransition {
  const expired = state.kind === 'held' && state.heldUntilMs <= event.nowMs;
  const s = effectiveSlotState(state, event.nowMs);
  switch (event.kind) {
    case 'tick':
      return { kind: 'ok', state: s, change: expired ? 'expired' : 'none' };
    case 'reserve': {
      if (s.kind === 'held') return refuse(s, 'SLOT_HELD', 'slot is held for another reservation');
      if (s.kind === 'booked') return refuse(s, 'SLOT_BOOKED', 'slot is booked');
      const ttl = event.ttlMs ?? DEFAULT_HOLD_TTL_MS;
      return { kind: 'ok', state: { kind: 'held', mailboxId: event.mailboxId, heldUntilMs: event.nowMs + ttl }, change: 'held' };
    }
    case 'confirm':
    case 'decline':
    case 'cancel': {
      if (s.kind === 'booked' && event.kind === 'confirm' && s.mailboxId === event.mailboxId) return { kind: 'ok', state: s, change: 'none' };
      if (s.kind !== 'held') return refuse(s, s.kind === 'booked' ? 'SLOT_BOOKED' : 'NOT_HELD', 'slot is not held');
      if (s.mailboxId !== event.mailboxId) return refuse(s, 'HOLD_MISMATCH', 'slot is held for another reservation');
      if (event.kind === 'confirm') return { kind: 'ok', state: { kind: 'booked', mailboxId: s.mailboxId }, change: 'booked' };
      return { kind: 'ok', state: { kind: 'free' }, change: 'freed' };
    }
    case 'release':
      return { kind: 'ok', state: { kind: 'free' }, change: s.kind === 'free' ? (expired ? 'expired' : 'none') : 'freed' };
  }
}
