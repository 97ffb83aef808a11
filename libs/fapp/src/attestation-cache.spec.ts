import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { FappKind, FappSignedSchema } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { applyRevocationList, issueRevocationList, type CachedAttestation, verifyAnnounce } from './index.js';
import { isFappError } from './errors.js';
import { MAX_HOPS } from './limits.js';
import { announceBytes, attestationBytes, authority, NOW, trust } from './test/fixtures.js';

describe('attestation cache', () => {
  it('gives the same result as a full check and is filled once per attestation', () => {
    const cache = new Map<string, CachedAttestation>();
    const bytes = announceBytes({ attestation: attestationBytes() });
    const full = verifyAnnounce(bytes, { nowMs: NOW, trust });
    const first = verifyAnnounce(bytes, { nowMs: NOW, trust, attestationCache: cache });
    const second = verifyAnnounce(bytes, { nowMs: NOW, trust, attestationCache: cache });
    expect(cache.size).toBe(1);
    expect(first.status).toEqual(full.status);
    expect(second.status).toEqual(full.status);
  });

  it('still applies revocation and expiry to a cached attestation', () => {
    const cache = new Map<string, CachedAttestation>();
    const att = attestationBytes({ validUntilMs: NOW + 60_000 });
    const bytes = announceBytes({ attestation: att });
    const v = verifyAnnounce(bytes, { nowMs: NOW, trust, attestationCache: cache });
    if (v.status.kind !== 'verified') throw new Error('expected verified');
    const revoked = applyRevocationList(trust, issueRevocationList(authority, { sequence: 1, revokedAttestationIds: [v.status.attestation.attestationId] }, NOW), NOW).trust;
    expect(() => verifyAnnounce(bytes, { nowMs: NOW, trust: revoked, attestationCache: cache })).toThrow(expect.objectContaining({ code: 'REVOKED_ATTESTATION' }));
    expect(() => verifyAnnounce(bytes, { nowMs: NOW + 120_000, trust, attestationCache: cache })).toThrow(expect.objectContaining({ code: 'ATTESTATION_EXPIRED' }));
  });

  it('never serves a cached result for a forged body under a cached signature', () => {
    const cache = new Map<string, CachedAttestation>();
    const att = attestationBytes();
    verifyAnnounce(announceBytes({ attestation: att }), { nowMs: NOW, trust, attestationCache: cache });
    const env = fromBinary(FappSignedSchema, att);
    const forged = toBinary(FappSignedSchema, create(FappSignedSchema, { ...env, body: Uint8Array.from([...env.body, 0x08, 0x01]) }));
    try {
      verifyAnnounce(announceBytes({ attestation: forged }), { nowMs: NOW, trust, attestationCache: cache });
      expect.unreachable();
    } catch (e) {
      expect(isFappError(e, 'BAD_SIGNATURE')).toBe(true);
    }
    expect(cache.size).toBe(1);
  });

  it('serves a cached attestation only to an envelope of the attestation kind with the same signer, body and signature', () => {
    const cache = new Map<string, CachedAttestation>();
    const att = attestationBytes();
    verifyAnnounce(announceBytes({ attestation: att }), { nowMs: NOW, trust, attestationCache: cache });
    const env = fromBinary(FappSignedSchema, att);
    const asOtherKind = toBinary(FappSignedSchema, create(FappSignedSchema, { ...env, kind: FappKind.SLOT_RELEASE }));
    expect(() => verifyAnnounce(announceBytes({ attestation: asOtherKind }), { nowMs: NOW, trust, attestationCache: cache })).toThrow(expect.objectContaining({ code: 'WRONG_KIND' }));
    const tooManyHops = toBinary(FappSignedSchema, create(FappSignedSchema, { ...env, hopCount: MAX_HOPS + 1 }));
    expect(() => verifyAnnounce(announceBytes({ attestation: tooManyHops }), { nowMs: NOW, trust, attestationCache: cache })).toThrow(expect.objectContaining({ code: 'HOP_LIMIT' }));
    expect(cache.size).toBe(1);
  });

  it('keeps no view into the announce it came in', () => {
    const cache = new Map<string, CachedAttestation>();
    const bytes = announceBytes({ attestation: attestationBytes() });
    verifyAnnounce(bytes, { nowMs: NOW, trust, attestationCache: cache });
    const [c] = [...cache.values()];
    for (const b of [c!.body, c!.attestation.authorityKey, c!.attestation.therapistKey, c!.attestation.attestationId]) expect(b.buffer).not.toBe(bytes.buffer);
    expect(c!.body.buffer.byteLength).toBe(c!.body.byteLength);
  });
});

