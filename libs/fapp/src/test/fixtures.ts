// Test-only fixtures: deterministic keys derived from fixed labels, never used outside tests.
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { generateKemKeyPair, sha256, signingKeyPairFromSeed, utf8, type KemKeyPair, type SigningKeyPair } from '@qpc/crypto';
import {
  Altersgruppe,
  Fachrichtung,
  FappKind,
  Kostentraeger,
  Modalitaet,
  SlotAnnounceSchema,
  Terminart,
} from '@qpc/proto';
import { createTrustStore, issueAttestation, type TrustStore } from '../attestation.js';
import { buildAnnounce, type AnnounceInput, type SlotInput } from '../announce.js';
import { encodeEnvelope, signEnvelope } from '../envelope.js';
import { DAY_MS, HOUR_MS } from '../limits.js';

/** Monday 2026-03-02 09:00 UTC. */
export const NOW = Date.UTC(2026, 2, 2, 9, 0);

export function keysFor(label: string): SigningKeyPair {
  return signingKeyPairFromSeed(sha256(utf8(`fapp-test/${label}`)));
}

const kemCache = new Map<string, KemKeyPair>();
export function kemFor(label: string): KemKeyPair {
  let k = kemCache.get(label);
  if (!k) {
    k = generateKemKeyPair(sha256(utf8(`fapp-test-kem/${label}`)));
    kemCache.set(label, k);
  }
  return k;
}

export const authority = keysFor('authority');
export const therapist = keysFor('therapist');
export const therapistKem = kemFor('therapist');
export const trust: TrustStore = createTrustStore([{ name: 'Test-Kammer', publicKey: authority.publicKey }]);

export function slotId(n: number): Uint8Array {
  const id = new Uint8Array(16);
  id[15] = n;
  id[14] = n >> 8;
  return id;
}

export function slotAt(n: number, startMs: number, extra: Partial<SlotInput> = {}): SlotInput {
  return { id: slotId(n), startMs, durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE, ...extra };
}

export function attestationBytes(opts: { key?: Uint8Array; signer?: SigningKeyPair; fachrichtungen?: Fachrichtung[]; validUntilMs?: number; nowMs?: number; id?: number } = {}): Uint8Array {
  const id = new Uint8Array(16);
  id[0] = opts.id ?? 1;
  return issueAttestation(
    opts.signer ?? authority,
    {
      therapistKey: opts.key ?? therapist.publicKey,
      licenceNumber: 'PP-123456',
      fachrichtungen: opts.fachrichtungen ?? [Fachrichtung.VERHALTENSTHERAPIE, Fachrichtung.SYSTEMISCH],
      validUntilMs: opts.validUntilMs ?? NOW + 365 * DAY_MS,
      salt: new Uint8Array(32).fill(5),
      attestationId: id,
    },
    opts.nowMs ?? NOW - DAY_MS,
  ).bytes;
}

export function announceInput(overrides: Partial<AnnounceInput> = {}): AnnounceInput {
  return {
    kemPublicKey: therapistKem.publicKey,
    attestation: attestationBytes(),
    fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE],
    altersgruppen: [Altersgruppe.ERWACHSENE],
    modalitaeten: [Modalitaet.PRAXIS, Modalitaet.VIDEO],
    kostentraeger: [Kostentraeger.GKV, Kostentraeger.SELBSTZAHLER],
    plz: '10115',
    languages: ['de', 'en', 'gsg'],
    barrierFree: true,
    displayName: 'Dipl.-Psych. Test',
    slots: [slotAt(1, NOW + 2 * HOUR_MS), slotAt(2, NOW + 3 * HOUR_MS), slotAt(3, NOW + DAY_MS, { terminart: Terminart.GRUPPE, groupSize: 6, durationMinutes: 100 })],
    sequence: 1,
    ...overrides,
  };
}

export function announceBytes(overrides: Partial<AnnounceInput> = {}, signer: SigningKeyPair = therapist, nowMs = NOW): Uint8Array {
  return buildAnnounce(signer, announceInput(overrides), nowMs);
}

/** A valid announce body as a protobuf init, for crafting bodies buildAnnounce would refuse. */
export function rawAnnounceInit(): MessageInitShape<typeof SlotAnnounceSchema> {
  return {
    therapistKey: therapist.publicKey,
    kemKey: therapistKem.publicKey,
    fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE],
    altersgruppen: [Altersgruppe.ERWACHSENE],
    modalitaeten: [Modalitaet.PRAXIS],
    kostentraeger: [Kostentraeger.GKV],
    plz: '10115',
    languages: ['de'],
    slots: [{ id: slotId(1), startMs: BigInt(NOW + HOUR_MS), durationMinutes: 50, terminart: Terminart.SPRECHSTUNDE }],
    sequence: 1n,
    issuedAtMs: BigInt(NOW),
    expiresAtMs: BigInt(NOW + 7 * DAY_MS),
  };
}

/** Signs an arbitrary announce body (bypassing buildAnnounce's checks). */
export function signRawAnnounce(init: MessageInitShape<typeof SlotAnnounceSchema>, signer: SigningKeyPair = therapist): Uint8Array {
  const body = toBinary(SlotAnnounceSchema, create(SlotAnnounceSchema, init));
  return encodeEnvelope(signEnvelope(FappKind.SLOT_ANNOUNCE, body, signer));
}
