// Everything secret the portal holds, and how it is derived, sealed and opened. Runs in the
// browser only: the password and the OPAQUE export key never leave the page, the server
// stores the sealed backup and cannot open it.
import {
  fromBase64Url,
  generateKemKeyPair,
  generateSigningKeyPair,
  hkdfSha256,
  kemPublicKey,
  open,
  seal,
  signingKeyPairFromSeed,
  toBase64Url,
  utf8,
  fromUtf8,
  type SigningKeyPair,
} from '@qpc/crypto';
import { type PlannedSlot } from './slots';

const BACKUP_INFO = utf8('qpc-portal-backup-v1');

export interface PortalProfile {
  fachrichtungen: number[];
  altersgruppen: number[];
  modalitaeten: number[];
  kostentraeger: number[];
  plz: string;
  languages: string[];
  barrierFree: boolean;
  profileUrl: string;
  displayName: string;
}

/** What the encrypted backup holds: keys, the last announce sequence, profile, attestation, slots. */
export interface PortalState {
  v: 1;
  /** Ed25519 seed of the therapist key (signs announces, answers, releases). */
  signingSeed: string;
  /** X-Wing seed of the reservation key (opens sealed reservations). */
  kemSeed: string;
  sequence: number;
  profile: PortalProfile;
  /** FappSigned licence attestation, base64url. */
  attestation: string | null;
  slots: PlannedSlot[];
}

export interface TherapistKeys {
  signing: SigningKeyPair;
  kem: { publicKey: Uint8Array; secretKey: Uint8Array };
}

export const EMPTY_PROFILE: PortalProfile = {
  fachrichtungen: [],
  altersgruppen: [],
  modalitaeten: [],
  kostentraeger: [],
  plz: '',
  languages: ['de'],
  barrierFree: false,
  profileUrl: '',
  displayName: '',
};

export function newPortalState(): PortalState {
  const signing = generateSigningKeyPair();
  const kem = generateKemKeyPair();
  return { v: 1, signingSeed: toBase64Url(signing.secretKey), kemSeed: toBase64Url(kem.secretKey), sequence: 0, profile: EMPTY_PROFILE, attestation: null, slots: [] };
}

export function keysOf(state: PortalState): TherapistKeys {
  const kemSeed = fromBase64Url(state.kemSeed);
  return { signing: signingKeyPairFromSeed(fromBase64Url(state.signingSeed)), kem: { publicKey: kemPublicKey(kemSeed), secretKey: kemSeed } };
}

/**
 * Secrets derived from the OPAQUE export key: the X-Wing key the backup is sealed to, and the
 * Ed25519 key of the portal's device (the same in every browser, so signing in elsewhere
 * resumes the one device instead of registering a new one each time).
 */
export interface AccountSecrets {
  backupSecretKey: Uint8Array;
  deviceSigning: SigningKeyPair;
}

export function accountSecrets(exportKey: string, username: string): AccountSecrets {
  const ikm = fromBase64Url(exportKey);
  const salt = utf8(`qpc-portal-v1:${username}`);
  return {
    backupSecretKey: hkdfSha256(ikm, salt, utf8('qpc-portal-backup-key-v1'), 32),
    deviceSigning: signingKeyPairFromSeed(hkdfSha256(ikm, salt, utf8('qpc-portal-device-key-v1'), 32)),
  };
}

// The version is bound as associated data: the server cannot replay an older backup under a newer version.
const aadOf = (version: number) => utf8(`qpc-portal-backup-v1:${version}`);

export async function sealState(secrets: AccountSecrets, state: PortalState, version: number): Promise<Uint8Array> {
  return seal(kemPublicKey(secrets.backupSecretKey), utf8(JSON.stringify(state)), { info: BACKUP_INFO, aad: aadOf(version) });
}

export async function openState(secrets: AccountSecrets, sealed: Uint8Array, version: number): Promise<PortalState> {
  const plain = await open(secrets.backupSecretKey, sealed, { info: BACKUP_INFO, aad: aadOf(version) });
  const state = JSON.parse(fromUtf8(plain)) as PortalState;
  if (state.v !== 1) throw new Error('unknown backup version');
  return { ...state, profile: { ...EMPTY_PROFILE, ...state.profile } };
}

/** Never below the last one plus one, and never below the clock's seconds: a lost backup cannot stall publishing. */
export function nextSequence(previous: number, nowMs: number): number {
  return Math.max(previous + 1, Math.floor(nowMs / 1000));
}
