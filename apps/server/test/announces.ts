import { generateKemKeyPair, type KemKeyPair, type SigningKeyPair } from '@qpc/crypto';
import { type AnnounceInput, buildAnnounce, createTrustStore, verifyAnnounce } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { announceWrite, type AnnounceWrite } from '../src/fapp/fapp.repository.js';

/**
 * A plain therapist profile (Verhaltenstherapie for adults, Praxis, GKV, 10115, German) with the
 * given KEM key, slots and sequence: the announce input the server tests build on.
 */
export function plainAnnounceInput(kemPublicKey: Uint8Array, slots: AnnounceInput['slots'], sequence: number): AnnounceInput {
  return {
    kemPublicKey,
    fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE],
    altersgruppen: [Altersgruppe.ERWACHSENE],
    modalitaeten: [Modalitaet.PRAXIS],
    kostentraeger: [Kostentraeger.GKV],
    plz: '10115',
    languages: ['de'],
    slots,
    sequence,
  };
}

const HOUR_MS = 3600_000;
let kem: KemKeyPair | undefined;

/**
 * A therapist's plain announce `sequence`, verified (unattested) and ready for the repository's
 * write, with one 50-minute Sprechstunde per id in `slotIds`: slot n has id bytes all n and starts
 * n hours after the full hour following `nowMs`.
 */
export function plainAnnounceWrite(therapist: SigningKeyPair, sequence: number, slotIds: readonly number[], nowMs: number): AnnounceWrite {
  kem ??= generateKemKeyPair();
  const first = Math.ceil(nowMs / HOUR_MS) * HOUR_MS;
  const slots = slotIds.map((n) => ({ id: new Uint8Array(16).fill(n), startMs: first + n * HOUR_MS, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE }));
  const bytes = buildAnnounce(therapist, plainAnnounceInput(kem.publicKey, slots, sequence), nowMs);
  return announceWrite(verifyAnnounce(bytes, { nowMs, trust: createTrustStore([]) }));
}
