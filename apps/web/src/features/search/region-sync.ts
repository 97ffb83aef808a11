import { createTrustStore, isFappError, openEnvelope, validateAnnounceBody, verifyAnnounce, type Announce, type MatchCandidate, type TrustStore } from '@qpc/fapp';
import { fromHex } from '@qpc/crypto';
import { FappKind } from '@qpc/proto';
import { fetchRegionPage } from '../fapp/api';

export interface AuthorityKey {
  name: string;
  publicKeyHex: string;
}

/** A verified announce with what the result card shows about its licence. */
export interface Candidate extends MatchCandidate {
  announce: Announce;
  verified: boolean;
  /** The authority that attested the licence, when verified. */
  authority: string | null;
  /** The signed announce as received: the reservation worker checks it again. */
  bytes: Uint8Array;
}

export interface RegionSnapshot {
  region: string;
  candidates: Candidate[];
  /** `therapistId/slotIdHex` of held or booked slots. */
  unavailable: Set<string>;
  /** Announces that failed verification on this device and are not shown. */
  rejected: number;
  syncedAtMs: number;
}

export function trustStoreOf(authorities: readonly AuthorityKey[]): TrustStore {
  return createTrustStore(authorities.map((a) => ({ name: a.name, publicKey: fromHex(a.publicKeyHex) })));
}

/**
 * Checks one announce on this device. An attestation from an authority this page does not
 * know is shown as "not verified" (the therapist's own signature still holds); any other
 * failure drops the announce.
 */
export function checkAnnounce(bytes: Uint8Array, trust: TrustStore, nowMs: number): Candidate | null {
  try {
    const v = verifyAnnounce(bytes, { nowMs, trust });
    return { announce: v.announce, verified: v.verified, authority: v.status.kind === 'verified' ? v.status.authority.name : null, bytes };
  } catch (e) {
    if (!isFappError(e)) throw e;
    if (e.code !== 'UNKNOWN_ATTESTATION') return null;
    try {
      const env = openEnvelope(bytes, FappKind.SLOT_ANNOUNCE);
      return { announce: validateAnnounceBody(env.body, env.signerKey, nowMs), verified: false, authority: null, bytes };
    } catch (inner) {
      if (isFappError(inner)) return null;
      throw inner;
    }
  }
}

/** Loads every page of a region and verifies each announce here, in the browser. */
export async function syncRegion(region: string, trust: TrustStore, signal?: AbortSignal): Promise<RegionSnapshot> {
  const candidates: Candidate[] = [];
  const unavailable = new Set<string>();
  let rejected = 0;
  let cursor: string | null = null;
  const nowMs = Date.now();
  do {
    const page = await fetchRegionPage(region, cursor, signal);
    for (const bytes of page.announces) {
      const c = checkAnnounce(bytes, trust, nowMs);
      if (c) candidates.push(c);
      else rejected++;
    }
    for (const u of page.unavailable) unavailable.add(`${u.therapistId}/${u.slotId}`);
    cursor = page.nextCursor;
  } while (cursor);
  return { region, candidates, unavailable, rejected, syncedAtMs: nowMs };
}
