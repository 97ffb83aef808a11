import { meshAddress, toHex, utf8 } from '@qpc/crypto';
import { MeshCapability } from '@qpc/proto';
import { describe, expect, it } from 'vitest';
import { createMeshEnvelope, createNodeAnnounce, forwardNodeAnnounce, MeshRouter } from './index.js';
import { keysFor, NOW } from './test/keys.js';

const self = keysFor('router-self');
const far = keysFor('router-far');
const sender = keysFor('router-sender');
const selfHex = toHex(meshAddress(self.publicKey));
const farHex = toHex(meshAddress(far.publicKey));

function envelopeTo(to: Uint8Array, opts: { maxHops?: number; text?: string } = {}): Uint8Array {
  return createMeshEnvelope({ sender, recipient: meshAddress(to), payload: utf8(opts.text ?? 'x'), nowMs: NOW, ttlMs: 3600_000, maxHops: opts.maxHops ?? 8 });
}

function routerWithFarRoute(maxSeen?: number): MeshRouter {
  const r = new MeshRouter(selfHex, maxSeen === undefined ? {} : { maxSeen });
  const announce = forwardNodeAnnounce(createNodeAnnounce({ node: far, capabilities: MeshCapability.RELAY, sequence: 1, nowMs: NOW, ttlMs: 3600_000 }));
  expect(r.applyAnnounce(announce, { nowMs: NOW, from: 'peer-b' }).accepted).toBe(true);
  return r;
}

const connected = (p: string) => p === 'peer-b';

describe('MeshRouter', () => {
  it('forwards along the route one hop further, delivers its own mail, stores the rest', () => {
    const r = routerWithFarRoute();
    const fwd = r.decide(envelopeTo(far.publicKey), NOW, connected);
    expect(fwd).toMatchObject({ kind: 'forward', nextHop: 'peer-b' });
    expect(r.decide(envelopeTo(self.publicKey), NOW, connected).kind).toBe('deliver');
    expect(r.decide(envelopeTo(keysFor('nobody').publicKey), NOW, connected).kind).toBe('store');
    // A route whose next hop is not connected is no route.
    expect(r.decide(envelopeTo(far.publicKey, { text: 'y' }), NOW, () => false).kind).toBe('store');
  });

  it('drops copies it has seen, whatever their hop count', () => {
    const r = routerWithFarRoute();
    const env = envelopeTo(far.publicKey);
    const first = r.decide(env, NOW, connected);
    expect(first.kind).toBe('forward');
    const again = first.kind === 'forward' ? first.bytes : env;
    expect(r.decide(again, NOW, connected)).toMatchObject({ kind: 'drop', reason: 'duplicate' });
  });

  it('drops at the hop limit and for bad envelopes, with the reason', () => {
    const r = routerWithFarRoute();
    expect(r.decide(envelopeTo(far.publicKey, { maxHops: 1 }), NOW, connected).kind).toBe('forward');
    const atLimit = r.decide(envelopeTo(far.publicKey, { maxHops: 1, text: 'z' }), NOW, connected);
    expect(atLimit.kind).toBe('forward');
    const bytes = atLimit.kind === 'forward' ? atLimit.bytes : new Uint8Array();
    expect(new MeshRouter(selfHex).decide(bytes, NOW, connected).kind).toBe('store');
    const r2 = routerWithFarRoute();
    expect(r2.decide(bytes, NOW, connected)).toMatchObject({ kind: 'drop', reason: 'hop-limit' });
    expect(r.decide(envelopeTo(far.publicKey), NOW + 2 * 3600_000, connected)).toMatchObject({ kind: 'drop', reason: 'expired' });
    expect(r.decide(new Uint8Array([1, 2, 3]), NOW, connected)).toMatchObject({ kind: 'drop', reason: 'malformed' });
  });

  it('remembers at most maxSeen content ids, forgetting the oldest', () => {
    const r = routerWithFarRoute(2);
    const envs = ['a', 'b', 'c'].map((text) => envelopeTo(far.publicKey, { text }));
    for (const e of envs) expect(r.decide(e, NOW, connected).kind).toBe('forward');
    expect(r.decide(envs[2]!, NOW, connected)).toMatchObject({ kind: 'drop', reason: 'duplicate' });
    // The oldest was forgotten to stay within the bound.
    expect(r.decide(envs[0]!, NOW, connected).kind).toBe('forward');
  });

  it('hands a new neighbour every route not learnt from it, one hop further', () => {
    const r = routerWithFarRoute();
    expect(r.announcesFor('peer-b', NOW)).toEqual([]);
    const handed = r.announcesFor('peer-c', NOW);
    expect(handed).toHaveLength(1);
    const other = new MeshRouter(toHex(meshAddress(keysFor('router-c').publicKey)));
    expect(other.applyAnnounce(handed[0]!, { nowMs: NOW, from: 'self' }).route?.hops).toBe(3);
    r.prune(NOW, 'peer-b');
    expect(r.route(farHex, NOW)).toBeUndefined();
    expect(r.announcesFor('peer-c', NOW)).toEqual([]);
  });
});
