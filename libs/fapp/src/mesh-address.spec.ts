import { toHex } from '@qpc/crypto';
import { describe, expect, it } from 'vitest';
import { buildAnnounce, verifyAnnounce } from './announce.js';
import type { FappError } from './errors.js';
import { MESH_ADDRESS_BYTES } from './limits.js';
import { announceInput, NOW, rawAnnounceInit, signRawAnnounce, therapist, trust } from './test/fixtures.js';

// SlotAnnounce.mesh_address (field 17): optional, exactly 16 bytes when present, signed with the rest.
describe('announce mesh address', () => {
  it('is absent unless the therapist names one', () => {
    const a = verifyAnnounce(buildAnnounce(therapist, announceInput(), NOW), { nowMs: NOW, trust }).announce;
    expect(a.meshAddress).toBeUndefined();
  });

  it('round-trips a 16-byte address', () => {
    const addr = new Uint8Array(MESH_ADDRESS_BYTES).fill(7);
    const a = verifyAnnounce(buildAnnounce(therapist, announceInput({ meshAddress: addr }), NOW), { nowMs: NOW, trust }).announce;
    expect(toHex(a.meshAddress!)).toBe(toHex(addr));
  });

  it.each([1, 15, 17, 32])('refuses %i bytes as MALFORMED (builder and receiver)', (n) => {
    const addr = new Uint8Array(n);
    expect(() => buildAnnounce(therapist, announceInput({ meshAddress: addr }), NOW)).toThrow(expect.objectContaining({ code: 'MALFORMED' }) as FappError);
    expect(() => verifyAnnounce(signRawAnnounce({ ...rawAnnounceInit(), meshAddress: addr }), { nowMs: NOW, trust })).toThrow(/mesh_address/);
  });
});
