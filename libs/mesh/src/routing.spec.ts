import { meshAddress, toHex } from '@qpc/crypto';
import { MeshCapability } from '@qpc/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyNodeAnnounce,
  createNodeAnnounce,
  emptyRoutingTable,
  forwardNodeAnnounce,
  lookupRoute,
  MeshError,
  pruneRoutes,
  routesWithCapability,
  verifyNodeAnnounce,
  type RoutingTable,
} from './index.js';
import { keysFor, NOW } from './test/keys.js';

const therapistNode = keysFor('node-therapist');
const relayNode = keysFor('node-relay');
const hex = (k: Uint8Array) => toHex(meshAddress(k));

function ann(sequence: number, opts: { nowMs?: number; caps?: number; hops?: number } = {}) {
  let b = createNodeAnnounce({ node: therapistNode, capabilities: opts.caps ?? MeshCapability.THERAPIST | MeshCapability.RELAY, sequence, nowMs: opts.nowMs ?? NOW, ttlMs: 3600_000 });
  for (let i = 0; i < (opts.hops ?? 0); i++) b = forwardNodeAnnounce(b);
  return b;
}

function apply(t: RoutingTable, bytes: Uint8Array, from: string, nowMs = NOW) {
  return applyNodeAnnounce(t, bytes, { nowMs, from });
}

describe('routing table from node announces', () => {
  it('verifies announces and exposes capabilities', () => {
    const v = verifyNodeAnnounce(ann(1, { hops: 2 }), NOW);
    expect(v.addressHex).toBe(hex(therapistNode.publicKey));
    expect(v.hopCount).toBe(2);
    expect(v.capabilities & MeshCapability.THERAPIST).toBeTruthy();
  });

  it('prefers higher sequences, then fewer hops; ignores equal or longer paths', () => {
    let t = emptyRoutingTable();
    let r = apply(t, ann(1, { hops: 2 }), 'peerA');
    expect(r.kind).toBe('accepted');
    t = r.table;
    expect(lookupRoute(t, hex(therapistNode.publicKey), NOW)).toMatchObject({ hops: 3, nextHop: 'peerA' });
    expect(apply(t, ann(1, { hops: 2 }), 'peerB').kind).toBe('duplicate');
    r = apply(t, ann(1, { hops: 0 }), 'peerB');
    expect(r.kind).toBe('accepted');
    t = r.table;
    expect(lookupRoute(t, hex(therapistNode.publicKey), NOW)).toMatchObject({ hops: 1, nextHop: 'peerB' });
    r = apply(t, ann(2, { hops: 4, nowMs: NOW + 20_000 }), 'peerA', NOW + 20_000);
    expect(r.kind).toBe('accepted');
    t = r.table;
    const stale = apply(t, ann(1), 'peerB', NOW + 20_000);
    expect(stale.kind === 'rejected' && stale.error.code).toBe('STALE_SEQUENCE');
  });

  it('rate-limits an origin that announces too often', () => {
    const t = apply(emptyRoutingTable(), ann(1), 'peerA').table;
    const r = apply(t, ann(2, { nowMs: NOW + 1000 }), 'peerA', NOW + 1000);
    expect(r.kind === 'rejected' && r.error.code).toBe('RATE_LIMITED');
  });

  it('prunes expired routes and routes through a lost neighbour; never routes to itself', () => {
    let t = apply(emptyRoutingTable(), ann(1), 'peerA').table;
    const relay = createNodeAnnounce({ node: relayNode, capabilities: MeshCapability.RELAY, sequence: 1, nowMs: NOW, ttlMs: 600_000 });
    t = apply(t, relay, 'peerB').table;
    expect(routesWithCapability(t, MeshCapability.RELAY, NOW).map((r) => r.nextHop)).toEqual(['peerA', 'peerB']);
    expect(routesWithCapability(t, MeshCapability.THERAPIST, NOW)).toHaveLength(1);
    expect(pruneRoutes(t, NOW + 600_000).routes.size).toBe(1);
    expect(pruneRoutes(t, NOW, 'peerA').routes.size).toBe(1);
    expect(applyNodeAnnounce(t, relay, { nowMs: NOW, from: 'x', selfHex: hex(relayNode.publicKey) }).kind).toBe('duplicate');
  });

  it('rejects forged, expired, unknown-capability and over-travelled announces', () => {
    const b = ann(1);
    b[b.length - 5]! ^= 1;
    const codes = [
      apply(emptyRoutingTable(), b, 'p'),
      apply(emptyRoutingTable(), ann(1), 'p', NOW + 3600_000),
      apply(emptyRoutingTable(), ann(1, { hops: 16 }).map((x, i, a) => (i === a.length - 1 ? 17 : x)), 'p'),
    ].map((r) => (r.kind === 'rejected' ? r.error.code : r.kind));
    expect(codes).toEqual(['BAD_SIGNATURE', 'TTL_EXPIRED', 'HOP_LIMIT']);
    expect(() => createNodeAnnounce({ node: relayNode, capabilities: 64, sequence: 1, nowMs: NOW, ttlMs: 1000 })).toThrow(MeshError);
    expect(() => forwardNodeAnnounce(ann(1, { hops: 16 }))).toThrow(/hop_count/);
  });

  it('decoder: random bytes only ever throw MeshError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          verifyNodeAnnounce(b, NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(MeshError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
