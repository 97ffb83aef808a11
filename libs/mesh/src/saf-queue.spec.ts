import { meshAddress, toHex } from '@qpc/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMeshEnvelope, DEFAULT_SAF_LIMITS, MeshError, SafQueue, type SafLimits } from './index.js';
import { keysFor, NOW } from './test/keys.js';

const alice = keysFor('alice');
const bob = keysFor('bob');
const carol = keysFor('carol');
const bobHex = toHex(meshAddress(bob.publicKey));

function envTo(recipient: Uint8Array, n: number, extra: Partial<Parameters<typeof createMeshEnvelope>[0]> = {}) {
  return createMeshEnvelope({ sender: alice, recipient: meshAddress(recipient), payload: new Uint8Array(100).fill(n), nowMs: NOW, ttlMs: 24 * 3600_000, ...extra });
}

const small: SafLimits = { ...DEFAULT_SAF_LIMITS, maxPerRecipient: 3, maxBytesPerRecipient: 2000, maxTotalBytes: 5000 };

describe('store-and-forward queue', () => {
  it('queues per recipient, oldest first, until acknowledged', () => {
    const q = new SafQueue();
    const a = q.deposit(envTo(bob.publicKey, 1), NOW);
    const b = q.deposit(envTo(bob.publicKey, 2), NOW + 1);
    q.deposit(envTo(carol.publicKey, 3), NOW + 2);
    expect(a.kind).toBe('stored');
    expect(b.kind).toBe('stored');
    const p = q.pending(bobHex, NOW + 3);
    expect(p.map((e) => e.bytes[0] !== undefined)).toEqual([true, true]);
    expect(p[0]!.receivedAtMs).toBe(NOW);
    expect(q.stats()).toMatchObject({ recipients: 2, envelopes: 3 });
    expect(q.pending(bobHex, NOW + 3)).toHaveLength(2);
    expect(q.ack(bobHex, [p[0]!.contentIdHex])).toBe(1);
    expect(q.pending(bobHex, NOW + 3)).toHaveLength(1);
    expect(q.ack(toHex(meshAddress(carol.publicKey)), [p[1]!.contentIdHex])).toBe(0);
  });

  it('dedups by content id, also after delivery and across hop counts', () => {
    const q = new SafQueue();
    const bytes = envTo(bob.publicKey, 1);
    const r = q.deposit(bytes, NOW);
    expect(q.deposit(bytes, NOW).kind).toBe('duplicate');
    if (r.kind !== 'stored') throw new Error('not stored');
    q.ack(bobHex, [r.entry.contentIdHex]);
    expect(q.deposit(bytes, NOW + 10).kind).toBe('duplicate');
    expect(q.stats().envelopes).toBe(0);
  });

  it('enforces count, byte and total limits with QUEUE_FULL', () => {
    const q = new SafQueue(small);
    for (let i = 0; i < 3; i++) expect(q.deposit(envTo(bob.publicKey, i), NOW).kind).toBe('stored');
    const r = q.deposit(envTo(bob.publicKey, 9), NOW);
    expect(r.kind === 'rejected' && r.error.code).toBe('QUEUE_FULL');
    const big = envTo(carol.publicKey, 1, { payload: new Uint8Array(2100) });
    const r2 = q.deposit(big, NOW);
    expect(r2.kind === 'rejected' && r2.error.code).toBe('QUEUE_FULL');
  });

  it('drops envelopes at expiry or after the maximum age', () => {
    const q = new SafQueue({ ...DEFAULT_SAF_LIMITS, maxAgeMs: 3600_000 });
    q.deposit(envTo(bob.publicKey, 1, { ttlMs: 600_000 }), NOW);
    q.deposit(envTo(bob.publicKey, 2), NOW);
    expect(q.pending(bobHex, NOW + 600_000)).toHaveLength(1);
    expect(q.pending(bobHex, NOW + 3600_000)).toHaveLength(0);
    expect(q.stats()).toEqual({ recipients: 0, envelopes: 0, bytes: 0 });
    const r = q.deposit(envTo(bob.publicKey, 3, { ttlMs: 1000 }), NOW + 5000);
    expect(r.kind === 'rejected' && r.error.code).toBe('TTL_EXPIRED');
  });

  it('rejects forged envelopes', () => {
    const bytes = envTo(bob.publicKey, 1);
    bytes[bytes.length - 10]! ^= 0xff;
    const r = new SafQueue().deposit(bytes, NOW);
    expect(r.kind).toBe('rejected');
  });

  it('survives a snapshot and restore; expired entries are gone afterwards', () => {
    const q = new SafQueue();
    q.deposit(envTo(bob.publicKey, 1, { ttlMs: 1000 }), NOW);
    q.deposit(envTo(bob.publicKey, 2), NOW + 5);
    const r = SafQueue.restore(q.snapshot(), NOW + 2000);
    const p = r.pending(bobHex, NOW + 2000);
    expect(p).toHaveLength(1);
    expect(p[0]!.receivedAtMs).toBe(NOW + 5);
  });

  it('restore: random bytes only ever throw MeshError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          SafQueue.restore(b, NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(MeshError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
