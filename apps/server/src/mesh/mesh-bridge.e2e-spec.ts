import { meshAddress, sha256, toBase64Url, toHex, utf8 } from '@qpc/crypto';
import { createReservation, verifyAnnounce } from '@qpc/fapp';
import { createMeshEnvelope, createMeshNode, fappTopicForPlz, type MeshNode } from '@qpc/mesh';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { MeshBridgeService } from './mesh-bridge.service.js';

// The server with MESH_ENABLED (its own libp2p node on 127.0.0.1) and a separate clinic node
// that bootstraps to it: announces cross between the HTTP API and gossipsub in both directions.
const T0 = Date.UTC(2026, 2, 2, 8, 0);
const SIGNING_KEY = toHex(sha256(utf8('mesh-bridge-e2e/server')));
let data: DemoDataset;
let server: TestApp;
let bridge: MeshBridgeService;
let clinic: MeshNode;
let clock: TestClock;

const inRegion = () => data.therapists.filter((t) => t.plz.startsWith('10'));

async function searchIds(): Promise<string[]> {
  const res = await server.app.inject({ method: 'GET', url: '/api/v1/fapp/slots?plz=10&limit=500' });
  expect(res.statusCode).toBe(200);
  return (res.json() as { results: { therapistId: string }[] }).results.map((r) => r.therapistId);
}

beforeAll(async () => {
  data = buildDemoDataset({ therapists: 40, now: T0, seed: 'server-mesh-bridge-e2e' });
  clock = new TestClock(T0 + 60_000);
  server = await createTestApp(
    { FAPP_AUTHORITIES: `Demo=${toHex(data.authority.keys.publicKey)}`, SERVER_SIGNING_KEY: SIGNING_KEY, MESH_ENABLED: 'true', MESH_REGIONS: '10,20', FAPP_POW_BITS: '6' },
    { clock },
  );
  bridge = server.app.get(MeshBridgeService);
  const serverNode = bridge.node!;
  const addr = serverNode.multiaddrs().find((m) => m.includes('/tcp/'))!;
  clinic = await createMeshNode({
    identitySeed: sha256(utf8('mesh-bridge-e2e/clinic')),
    bootstrap: [addr],
    regions: ['10'],
    trust: data.authority.trust,
    now: () => clock.now(),
    heartbeatIntervalMs: 100,
    dht: false,
  });
  const topic = fappTopicForPlz('10');
  const linked = () => clinic.meshPeers(topic).includes(serverNode.peerId.toString()) && serverNode.meshPeers(topic).includes(clinic.peerId.toString());
  // Gossipsub grafts at heartbeats: re-check at each of the clinic's.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gossipsub mesh clinic - server did not form')), 15_000);
    const check = () => {
      if (!linked()) return;
      clearTimeout(timer);
      clinic.pubsub.removeEventListener('gossipsub:heartbeat', check);
      resolve();
    };
    clinic.pubsub.addEventListener('gossipsub:heartbeat', check);
    check();
  });
}, 25_000);

afterAll(async () => {
  await clinic?.stop();
  await server?.close();
});

describe('server mesh bridge (MESH_ENABLED)', () => {
  it('derives the node identity from the signing key with its own label, not the key itself', () => {
    const started = server.logs.find((l) => l.context === 'mesh' && String(l.msg).startsWith('mesh_started'));
    expect(started?.msg).toContain(`peerId=${bridge.node!.peerId.toString()}`);
    expect(started?.msg).toContain(`meshAddress=${bridge.node!.addressHex}`);
    expect(started?.msg).not.toContain('127.0.0.1');
    expect(toHex(bridge.node!.identity.secretKey)).not.toBe(SIGNING_KEY);
    expect(server.rawLogs()).not.toContain(SIGNING_KEY);
  });

  it('an announce posted to the HTTP API reaches the clinic node over the mesh', async () => {
    const t = inRegion()[0]!;
    const posted = await server.app.inject({
      method: 'POST',
      url: '/api/v1/fapp/announces',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ announce: toBase64Url(t.announce) }),
    });
    expect(posted.statusCode).toBeLessThan(300);
    const id = toHex(t.signing.publicKey);
    await expect.poll(() => clinic.announces('10').map((r) => r.therapistId), { timeout: 10_000 }).toContain(id);
    expect(bridge.counters.published).toBeGreaterThanOrEqual(1);
  });

  it('an announce published on the mesh appears in the server search, and is not published back', async () => {
    const t = inRegion()[1]!;
    const id = toHex(t.signing.publicKey);
    const published = bridge.counters.published;
    expect((await clinic.publishAnnounce(t.announce)).kind).toBe('accepted');
    await expect.poll(searchIds, { timeout: 10_000 }).toContain(id);
    expect(bridge.counters.ingested).toBeGreaterThanOrEqual(1);
    expect(bridge.counters.published).toBe(published);
  });

  it('a forged announce from the mesh is rejected by the validator and never stored', async () => {
    const t = inRegion()[2]!;
    const id = toHex(t.signing.publicKey);
    const forged = t.announce.slice();
    forged[forged.length - 1]! ^= 0x01;
    const rejected = bridge.node!.counters.rejected;
    // Straight onto the topic: the clinic's own store would refuse to publish it.
    await clinic.pubsub.publish(fappTopicForPlz('10'), forged);
    await expect.poll(() => bridge.node!.counters.rejected, { timeout: 10_000 }).toBeGreaterThan(rejected);
    expect(await searchIds()).not.toContain(id);
    expect(bridge.node!.store.byTherapist.has(id)).toBe(false);
  });

  it('batch ingest publishes each stored announce to the mesh', async () => {
    const [a, b] = [inRegion()[3]!, inRegion()[4]!];
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/v1/fapp/announces/batch',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ announces: [toBase64Url(a.announce), toBase64Url(b.announce)] }),
    });
    expect(res.statusCode).toBeLessThan(300);
    await expect
      .poll(() => clinic.announces('10').map((r) => r.therapistId), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([toHex(a.signing.publicKey), toHex(b.signing.publicKey)]));
  });
});

describe('a clinic node that joins later', () => {
  it('pulls what the server holds from the server node on connect', async () => {
    const held = [inRegion()[0]!, inRegion()[1]!].map((t) => toHex(t.signing.publicKey));
    const late = await createMeshNode({
      identitySeed: sha256(utf8('mesh-bridge-e2e/late')),
      bootstrap: [bridge.node!.multiaddrs().find((m) => m.includes('/tcp/'))!],
      regions: ['10'],
      syncOnConnect: true,
      trust: data.authority.trust,
      now: () => clock.now(),
      dht: false,
    });
    try {
      await expect.poll(() => late.announces('10').map((r) => r.therapistId), { timeout: 10_000 }).toEqual(expect.arrayContaining(held));
    } finally {
      await late.stop();
    }
  });
});

describe('reservations over the mesh', () => {
  it('a SlotReserve in an envelope addressed to the server node is held as if posted over HTTP', async () => {
    const th = inRegion()[0]!; // announced in the first test, so the server holds its announce
    const announce = verifyAnnounce(th.announce, { nowMs: clock.now(), trust: data.authority.trust }).announce;
    const r = await createReservation({ announce, slotId: announce.slots[0]!.id, contact: 'Signal: @anon', difficultyBits: 6, nowMs: clock.now() });
    const serverNode = bridge.node!;
    await expect.poll(() => clinic.routeTo(serverNode.addressHex)).toBeDefined();
    const envelope = createMeshEnvelope({ sender: clinic.identity, recipient: meshAddress(serverNode.identity.publicKey), payload: r.bytes, nowMs: clock.now(), ttlMs: 60_000 });
    expect((await clinic.send(envelope)).kind).not.toBe('dropped');
    await expect.poll(() => bridge.counters.reservations, { timeout: 10_000 }).toBe(1);
    const mb = await server.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox', headers: { 'x-mailbox-capability': toBase64Url(r.mailboxCapability) } });
    expect(mb.statusCode).toBe(200);
    expect(mb.json()).toMatchObject({ status: 'pending', therapistId: toHex(th.signing.publicKey) });

    // The same stamp again over the mesh: refused (counted), nothing crashes.
    const again = createMeshEnvelope({ sender: clinic.identity, recipient: meshAddress(serverNode.identity.publicKey), payload: r.bytes, nowMs: clock.now(), ttlMs: 60_000 });
    await clinic.send(again);
    await expect.poll(() => bridge.counters.reservationsRejected, { timeout: 10_000 }).toBe(1);
    expect(bridge.counters.reservations).toBe(1);
  });
});

describe('MESH_ENABLED unset', () => {
  it('starts no mesh node and has no bridge', async () => {
    const plain = await createTestApp({});
    try {
      expect(() => plain.app.get(MeshBridgeService)).toThrow();
      expect(plain.rawLogs()).not.toContain('mesh_started');
    } finally {
      await plain.close();
    }
  });
});
