import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { meshAddress, open, seal } from '@qpc/crypto';
import { MeshEnvelopeSchema } from '@qpc/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMeshEnvelope, forwardMeshEnvelope, isAddressedTo, MAX_ENVELOPE_BYTES, MAX_PAYLOAD_BYTES, MeshError, openMeshEnvelope } from './index.js';
import { kemFor, keysFor, NOW } from './test/keys.js';

const alice = keysFor('alice');
const bob = keysFor('bob');
const bobAddr = meshAddress(bob.publicKey);

function env(extra: Partial<Parameters<typeof createMeshEnvelope>[0]> = {}) {
  return createMeshEnvelope({ sender: alice, recipient: bobAddr, payload: new Uint8Array([1, 2, 3]), nowMs: NOW, ttlMs: 3600_000, ...extra });
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MeshError) return e.code;
    throw e;
  }
  return 'none';
}

describe('mesh envelope', () => {
  it('round-trips a sealed payload to its recipient', async () => {
    const kem = kemFor('bob');
    const sealed = await seal(kem.publicKey, new TextEncoder().encode('Termin bestätigt'));
    const o = openMeshEnvelope(env({ payload: sealed }), NOW + 1000);
    expect(isAddressedTo(o, bob.publicKey)).toBe(true);
    expect(isAddressedTo(o, alice.publicKey)).toBe(false);
    expect(new TextDecoder().decode(await open(kem.secretKey, o.payload))).toBe('Termin bestätigt');
    expect(o.contentId).toHaveLength(16);
  });

  it('keeps the content id and signature across hops, up to max_hops', () => {
    let bytes = env({ maxHops: 2 });
    const first = openMeshEnvelope(bytes, NOW);
    bytes = forwardMeshEnvelope(first);
    bytes = forwardMeshEnvelope(openMeshEnvelope(bytes, NOW));
    const third = openMeshEnvelope(bytes, NOW);
    expect(third.hopCount).toBe(2);
    expect(third.contentIdHex).toBe(first.contentIdHex);
    expect(code(() => forwardMeshEnvelope(third))).toBe('HOP_LIMIT');
    const forged = toBinary(MeshEnvelopeSchema, { ...fromBinary(MeshEnvelopeSchema, bytes), hopCount: 3 });
    expect(code(() => openMeshEnvelope(forged, NOW))).toBe('HOP_LIMIT');
  });

  it('rejects expiry, tampering, oversize and bad parameters with stable codes', () => {
    expect(code(() => openMeshEnvelope(env(), NOW + 3600_000))).toBe('TTL_EXPIRED');
    expect(code(() => openMeshEnvelope(env({ nowMs: NOW + 3600_000 }), NOW))).toBe('MALFORMED');
    const e = fromBinary(MeshEnvelopeSchema, env());
    const body = e.body.slice();
    body[body.length - 1]! ^= 1;
    expect(code(() => openMeshEnvelope(toBinary(MeshEnvelopeSchema, create(MeshEnvelopeSchema, { ...e, body })), NOW))).toBe('BAD_SIGNATURE');
    expect(code(() => openMeshEnvelope(new Uint8Array(MAX_ENVELOPE_BYTES + 1), NOW))).toBe('TOO_LARGE');
    expect(code(() => env({ payload: new Uint8Array(MAX_PAYLOAD_BYTES + 1) }))).toBe('TOO_LARGE');
    expect(code(() => env({ ttlMs: 15 * 24 * 3600_000 }))).toBe('MALFORMED');
    expect(code(() => env({ recipient: new Uint8Array(15) }))).toBe('MALFORMED');
    expect(code(() => env({ maxHops: 17 }))).toBe('MALFORMED');
  });

  it('decoder: random bytes only ever throw MeshError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          openMeshEnvelope(bytes, NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(MeshError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('decoder: mutations of a valid envelope only ever throw MeshError', () => {
    const good = env();
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = good.slice();
        b[i]! ^= x;
        try {
          openMeshEnvelope(b, NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(MeshError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
