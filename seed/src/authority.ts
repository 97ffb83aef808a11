import { sha256, signingKeyPairFromSeed, utf8, type SigningKeyPair } from '@qpc/crypto';
import { createTrustStore, DAY_MS, issueAttestation, type Authority, type IssuedAttestation, type TrustStore } from '@qpc/fapp';
import type { Fachrichtung } from '@qpc/proto';

/**
 * DEMO licensing authority. Its key comes from a public, fixed seed: anyone can sign as
 * it. It exists for `npm start`, tests and the CLI demo, and must never be in a
 * production trust store.
 */
export const DEMO_AUTHORITY_NAME = 'DEMO-Psychotherapeutenkammer (nicht echt)';
export const DEMO_AUTHORITY_SEED_LABEL = 'quicprochat/demo-licensing-authority/v1 (public demo key, not a real Kammer)';

export interface DemoAuthority {
  name: string;
  keys: SigningKeyPair;
  authority: Authority;
  trust: TrustStore;
}

export function demoAuthority(): DemoAuthority {
  const keys = signingKeyPairFromSeed(sha256(utf8(DEMO_AUTHORITY_SEED_LABEL)));
  const authority: Authority = { name: DEMO_AUTHORITY_NAME, publicKey: keys.publicKey };
  return { name: DEMO_AUTHORITY_NAME, keys, authority, trust: createTrustStore([authority]) };
}

export interface DemoAttestationInput {
  therapistKey: Uint8Array;
  licenceNumber: string;
  fachrichtungen: Fachrichtung[];
  nowMs: number;
  /** Defaults to one year after nowMs. */
  validUntilMs?: number;
  salt?: Uint8Array;
  attestationId?: Uint8Array;
}

/** Issues a licence attestation from the demo authority (what `qpc fapp attest` wraps). */
export function issueDemoAttestation(input: DemoAttestationInput, authority: DemoAuthority = demoAuthority()): IssuedAttestation {
  const opts: Parameters<typeof issueAttestation>[1] = {
    therapistKey: input.therapistKey,
    licenceNumber: input.licenceNumber,
    fachrichtungen: input.fachrichtungen,
    validUntilMs: input.validUntilMs ?? input.nowMs + 365 * DAY_MS,
  };
  if (input.salt) opts.salt = input.salt;
  if (input.attestationId) opts.attestationId = input.attestationId;
  return issueAttestation(authority.keys, opts, input.nowMs);
}
