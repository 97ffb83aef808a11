import { sha256, toHex, utf8 } from '@qpc/crypto';
import { applyRevocationList, issueRevocationList, verifyAnnounce, type TrustStore } from '@qpc/fapp';
import { buildDemoDataset } from '@qpc/seed';
import { afterAll, describe, expect, it } from 'vitest';
import { createMeshNode, type MeshNode } from './index.js';

// A node whose trust store is a function (as the server's in-process node has it): a revocation
// applies to the next announce at once, and recheckTrust() clears what the node already holds.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const now = () => T0 + 60_000;
let node: MeshNode | undefined;

afterAll(async () => {
  await node?.stop();
});

describe('trust store that changes', () => {
  it('revocations apply to new announces at once and recheckTrust drops held ones, tombstoned', async () => {
    const data = buildDemoDataset({ therapists: 20, now: T0, seed: 'mesh-trust-e2e' });
    const [a, b] = data.therapists.filter((t) => t.attestation);
    let trust: TrustStore = data.authority.trust;
    node = await createMeshNode({ identitySeed: sha256(utf8('mesh-trust-e2e')), trust: () => trust, now, dht: false });
    expect(node.ingest(a!.announce, 'local').kind).toBe('accepted');
    expect(node.recheckTrust()).toEqual([]);

    const ids = [a!, b!].map((t) => {
      const s = verifyAnnounce(t.announce, { nowMs: now(), trust }).status;
      if (s.kind !== 'verified') throw new Error('expected attested therapists');
      return s.attestation.attestationId;
    });
    trust = applyRevocationList(trust, issueRevocationList(data.authority.keys, { sequence: 1, revokedAttestationIds: ids }, now()), now()).trust;

    expect(node.ingest(b!.announce, 'gossip')).toMatchObject({ kind: 'rejected', code: 'REVOKED_ATTESTATION' });
    const aId = toHex(a!.signing.publicKey);
    expect(node.recheckTrust()).toEqual([aId]);
    expect(node.announces()).toEqual([]);
    expect(node.store.tombstones.get(aId)?.sequence).toBe(a!.input.sequence);
    // The same announce again: still refused (the attestation is revoked), nothing comes back.
    expect(node.ingest(a!.announce, 'sync')).toMatchObject({ kind: 'rejected', code: 'REVOKED_ATTESTATION' });
  });
});
