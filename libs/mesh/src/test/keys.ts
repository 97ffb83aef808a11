// Test-only keys derived from fixed labels; never used outside tests.
import { generateKemKeyPair, sha256, signingKeyPairFromSeed, utf8, type KemKeyPair, type SigningKeyPair } from '@qpc/crypto';

export function keysFor(label: string): SigningKeyPair {
  return signingKeyPairFromSeed(sha256(utf8(`mesh-test/${label}`)));
}

export function kemFor(label: string): KemKeyPair {
  return generateKemKeyPair(sha256(utf8(`mesh-test-kem/${label}`)));
}

/** Monday 2026-03-02 09:00 UTC. */
export const NOW = Date.UTC(2026, 2, 2, 9, 0);
