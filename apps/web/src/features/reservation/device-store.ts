// Reservations the patient asked this browser to remember ("auf diesem Gerät merken").
// Nothing is stored unless they tick the box; each entry is the full answer-link fragment.
import { toBase64Url } from '@qpc/crypto';
import { decodeFragment, encodeFullFragment, type ReservationSecrets } from './fragment';

const KEY = 'qpc.reservations.v1';

interface Entry {
  fragment: string;
  savedAt: number;
}

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null; // storage disabled by the browser
  }
}

function read(): Entry[] {
  const raw = storage()?.getItem(KEY);
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed.filter((e): e is Entry => typeof e?.fragment === 'string' && typeof e?.savedAt === 'number') : [];
  } catch {
    return [];
  }
}

function write(entries: Entry[]): boolean {
  const s = storage();
  if (!s) return false;
  try {
    if (entries.length === 0) s.removeItem(KEY);
    else s.setItem(KEY, JSON.stringify(entries));
    return true;
  } catch {
    return false;
  }
}

function secretsOf(e: Entry): ReservationSecrets | null {
  try {
    const d = decodeFragment(e.fragment);
    return d.kind === 'full' ? d.secrets : null;
  } catch {
    return null;
  }
}

/** Returns false when the browser refuses storage (the link must then carry everything). */
export function rememberReservation(secrets: ReservationSecrets, nowMs: number): boolean {
  const id = toBase64Url(secrets.capability);
  const rest = read().filter((e) => secretsOf(e) && toBase64Url(secretsOf(e)!.capability) !== id);
  return write([...rest, { fragment: encodeFullFragment(secrets), savedAt: nowMs }]);
}

export function findRememberedReservation(capability: Uint8Array): ReservationSecrets | null {
  const id = toBase64Url(capability);
  for (const e of read()) {
    const s = secretsOf(e);
    if (s && toBase64Url(s.capability) === id) return s;
  }
  return null;
}

export function listRememberedReservations(): ReservationSecrets[] {
  return read()
    .map(secretsOf)
    .filter((s): s is ReservationSecrets => s !== null);
}

export function forgetReservation(capability: Uint8Array): void {
  const id = toBase64Url(capability);
  write(read().filter((e) => toBase64Url(secretsOf(e)?.capability ?? new Uint8Array(0)) !== id));
}
