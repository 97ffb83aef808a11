import { meshAddress, randomBytes, sha256, toBase64Url, toHex, utf8 } from '@qpc/crypto';
import { buildAnnounce, buildConfirm, createReservation, issueRevocationList, openConfirm, openReservation, signChallenge, verifyAnnounce, type Announce } from '@qpc/fapp';
import {
  createFappMeshEnvelope,
  createMeshNode,
  decodeFappMeshMessage,
  fappTopicForPlz,
  replyAddressOf,
  reservationReplyIdentity,
  type MeshNode,
  type OpenedEnvelope,
} from '@qpc/mesh';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { MeshBridgeService } from './mesh-bridge.service.js';
import { MeshReplyRepository } from './mesh-reply.repository.js';

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

async function post(url: string, body: unknown) {
  return server.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
}

async function mailbox(capability: Uint8Array) {
  const res = await server.app.inject({ method: 'GET', url: '/api/v1/fapp/mailbox', headers: { 'x-mailbox-capability': toBase64Url(capability) } });
  expect(res.statusCode).toBe(200);
  return res.json() as { status: string; therapistId: string; reply: string | null };
}

/** Bytes contain a text in clear. */
const contains = (bytes: Uint8Array, text: string) => Buffer.from(bytes).includes(Buffer.from(text));

describe('reservations over the mesh: a mesh patient, a therapist who answers over HTTP', () => {
  it('holds the reservation, and the answer reaches the patient over the mesh (sealed, once)', async () => {
    const th = inRegion()[0]!; // announced over HTTP in the first test; this therapist uses the server
    const announce = verifyAnnounce(th.announce, { nowMs: clock.now(), trust: data.authority.trust }).announce;
    const r = await createReservation({ announce, slotId: announce.slots[0]!.id, contact: 'Signal: @mesh-patient', message: 'Erstgespraech bitte', difficultyBits: 6, nowMs: clock.now() });
    // The patient signs the envelope with a key derived from the mailbox capability: no identity, nothing to link.
    const replyId = reservationReplyIdentity(r.mailboxCapability);
    const serverNode = bridge.node!;
    await expect.poll(() => clinic.routeTo(serverNode.addressHex)).toBeDefined();
    const before = { ...bridge.counters };
    const reserve = () => createFappMeshEnvelope({ sender: replyId, recipient: meshAddress(serverNode.identity.publicKey), message: { kind: 'reserve', bytes: r.bytes }, nowMs: clock.now(), ttlMs: 60_000 });
    expect((await clinic.send(reserve())).kind).toBe('forwarded');
    await expect.poll(() => bridge.counters.reservations).toBe(before.reservations + 1);
    expect(await mailbox(r.mailboxCapability)).toMatchObject({ status: 'pending', therapistId: toHex(th.signing.publicKey) });
    // The announce names no mesh node: nothing is forwarded anywhere.
    expect(bridge.counters.reservationsForwarded).toBe(before.reservationsForwarded);

    // The same SlotReserve again in a new envelope: refused (stamp reused), counted, nothing crashes.
    await clinic.send(reserve());
    await expect.poll(() => bridge.counters.reservationsRejected).toBe(before.reservationsRejected + 1);

    // The therapist reads the reservation over HTTP (signed challenge) and answers over HTTP.
    const ch = (await post('/api/v1/fapp/therapist/challenge', {})).json() as { challenge: string };
    const listed = await post('/api/v1/fapp/therapist/reservations', { therapistKey: toBase64Url(th.signing.publicKey), challenge: ch.challenge, signature: toBase64Url(signChallenge(th.signing, Buffer.from(ch.challenge, 'hex'))) });
    const held = (listed.json() as { reservations: { mailboxId: string; reservation: string }[] }).reservations.find((x) => x.mailboxId === toHex(r.mailboxId))!;
    const opened = await openReservation(new Uint8Array(Buffer.from(held.reservation, 'base64url')), th.kem.secretKey);
    expect(opened.contact).toBe('Signal: @mesh-patient');
    const confirm = await buildConfirm(th.signing, opened, 'confirmed', 'Dienstag 10 Uhr passt', clock.now());
    expect((await post('/api/v1/fapp/therapist/answers', { answer: toBase64Url(confirm) })).statusCode).toBe(200);
    await expect.poll(() => bridge.counters.answersSent).toBe(before.answersSent + 1);
    // A repeated answer changes nothing and sends nothing.
    expect((await post('/api/v1/fapp/therapist/answers', { answer: toBase64Url(confirm) })).statusCode).toBe(200);

    // The patient's device, a light client with a throwaway peer id, fetches with the reply key.
    const device = await createMeshNode({ identitySeed: randomBytes(32), routing: false, trust: data.authority.trust, now: () => clock.now(), dht: false });
    try {
      const addr = serverNode.multiaddrs().find((m) => m.includes('/tcp/'))!;
      const mail = await device.fetchMail(addr, replyId);
      expect(mail).toHaveLength(1);
      const m = decodeFappMeshMessage(mail[0]!.payload);
      expect(m.kind).toBe('confirm');
      expect(contains(m.bytes, 'Dienstag 10 Uhr')).toBe(false);
      const reply = await openConfirm(m.bytes, r, clock.now());
      expect(reply).toMatchObject({ decision: 'confirmed', message: 'Dienstag 10 Uhr passt' });
      expect(await device.fetchMail(addr, replyId)).toHaveLength(0);
    } finally {
      await device.stop();
    }
    expect(bridge.counters.answersSent).toBe(before.answersSent + 1);
    expect(await mailbox(r.mailboxCapability)).toMatchObject({ status: 'confirmed' });
    // The server saw only ciphertext: neither the patient's contact nor the reply text is in its logs.
    expect(server.rawLogs()).not.toContain('mesh-patient');
    expect(server.rawLogs()).not.toContain('Dienstag');
  });
});

describe('reservations over the mesh: a web patient, a therapist on the mesh', () => {
  let therapistNode: MeshNode;
  const received: OpenedEnvelope[] = [];
  afterAll(async () => {
    await therapistNode?.stop();
  });

  it('passes the reservation on to the therapist node the announce names, and its answer lands in the web mailbox', async () => {
    const th = inRegion()[5]!;
    const serverNode = bridge.node!;
    therapistNode = await createMeshNode({
      identitySeed: sha256(utf8('mesh-bridge-e2e/therapist')),
      bootstrap: [serverNode.multiaddrs().find((m) => m.includes('/tcp/'))!],
      regions: ['10'],
      trust: data.authority.trust,
      now: () => clock.now(),
      heartbeatIntervalMs: 100,
      dht: false,
      onEnvelope: (e) => received.push(e),
    });
    // The therapist announces over the mesh only, naming its own node.
    const input = { ...th.input, sequence: th.input.sequence + 1, meshAddress: therapistNode.address, slots: th.input.slots.filter((x) => x.startMs > clock.now()) };
    const signed = buildAnnounce(th.signing, input, clock.now());
    const id = toHex(th.signing.publicKey);
    await expect.poll(() => therapistNode.meshPeers(fappTopicForPlz('10')).length).toBeGreaterThan(0);
    expect((await therapistNode.publishAnnounce(signed)).kind).toBe('accepted');
    await expect.poll(async () => (await server.app.inject({ method: 'GET', url: `/api/v1/fapp/announces/${id}` })).json().announce).toBe(toBase64Url(signed));
    await expect.poll(() => serverNode.routeTo(therapistNode.addressHex)).toBeDefined();

    // A web patient reserves over HTTP from the announce the server serves.
    const served = (await server.app.inject({ method: 'GET', url: `/api/v1/fapp/announces/${id}` })).json() as { announce: string };
    const announce: Announce = verifyAnnounce(new Uint8Array(Buffer.from(served.announce, 'base64url')), { nowMs: clock.now(), trust: data.authority.trust }).announce;
    expect(toHex(announce.meshAddress!)).toBe(therapistNode.addressHex);
    const r = await createReservation({ announce, slotId: announce.slots[0]!.id, contact: 'mail: web-patient@example.org', difficultyBits: 6, nowMs: clock.now() });
    const before = { ...bridge.counters };
    const res = await post('/api/v1/fapp/reservations', { reservation: toBase64Url(r.bytes) });
    expect(res.statusCode).toBe(201);

    // The therapist's node receives the SlotReserve unchanged (sealed to the therapist) and opens it.
    await expect.poll(() => received.length).toBe(1);
    expect(bridge.counters.reservationsForwarded).toBe(before.reservationsForwarded + 1);
    const e = received[0]!;
    expect(toHex(e.senderKey)).toBe(toHex(serverNode.identity.publicKey));
    const m = decodeFappMeshMessage(e.payload);
    expect(m).toMatchObject({ kind: 'reserve' });
    expect(toHex(m.bytes)).toBe(toHex(r.bytes));
    expect(contains(m.bytes, 'web-patient')).toBe(false);
    const opened = await openReservation(m.bytes, th.kem.secretKey);
    expect(opened.contact).toBe('mail: web-patient@example.org');

    // The same reservation posted again is refused and not passed on a second time.
    expect((await post('/api/v1/fapp/reservations', { reservation: toBase64Url(r.bytes) })).statusCode).toBe(409);

    // The therapist answers over the mesh, to the node that sent the reservation.
    const confirm = await buildConfirm(th.signing, opened, 'confirmed', 'Gern, Mittwoch', clock.now());
    const answer = () => createFappMeshEnvelope({ sender: therapistNode.identity, recipient: replyAddressOf(e.senderKey), message: { kind: 'confirm', bytes: confirm }, nowMs: clock.now(), ttlMs: 3600_000 });
    expect((await therapistNode.send(answer())).kind).toBe('forwarded');
    await expect.poll(async () => (await mailbox(r.mailboxCapability)).status).toBe('confirmed');
    const mb = await mailbox(r.mailboxCapability);
    const reply = await openConfirm(new Uint8Array(Buffer.from(mb.reply!, 'base64url')), r, clock.now());
    expect(reply).toMatchObject({ decision: 'confirmed', message: 'Gern, Mittwoch' });
    expect(bridge.counters.answers).toBe(before.answers + 1);

    // The answer replayed in a new envelope: idempotent (still confirmed, no error); nothing goes
    // to a mesh reply address (the patient used the web).
    expect((await therapistNode.send(answer())).kind).toBe('forwarded');
    await expect.poll(() => bridge.counters.answers).toBe(before.answers + 2);
    expect(bridge.counters.answersRejected).toBe(before.answersRejected);
    expect(bridge.counters.answersSent).toBe(before.answersSent);
    expect(received).toHaveLength(1);
    expect((await mailbox(r.mailboxCapability)).status).toBe('confirmed');
    // A payload that is no FappMeshMessage is refused and counted, nothing else happens.
    const junk = createFappMeshEnvelope({ sender: therapistNode.identity, recipient: replyAddressOf(e.senderKey), message: { kind: 'confirm', bytes: Uint8Array.of(1, 2, 3) }, nowMs: clock.now(), ttlMs: 60_000 });
    await therapistNode.send(junk);
    await expect.poll(() => bridge.counters.answersRejected).toBe(before.answersRejected + 1);
    expect(server.rawLogs()).not.toContain('web-patient');
    expect(server.rawLogs()).not.toContain('Mittwoch');
  });
});

describe('mesh reply keys (fapp_mesh_reply)', () => {
  it('keep the first key per mailbox, are taken once, and are gone once the hold has ended', async () => {
    const repo = server.app.get(MeshReplyRepository);
    const now = new Date(clock.now());
    const later = new Date(clock.now() + 60_000);
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const mailbox = toHex(randomBytes(32));
    expect(await repo.remember(mailbox, a, later)).toBe(true);
    expect(await repo.remember(mailbox, b, later)).toBe(false);
    await repo.forget(mailbox, b); // not its key: nothing happens
    expect(toHex((await repo.take(mailbox, now))!)).toBe(toHex(a));
    expect(await repo.take(mailbox, now)).toBeUndefined();

    // At the hold's end (expires_at) the key is no longer handed out, and garbage collection removes it.
    const ended = toHex(randomBytes(32));
    expect(await repo.remember(ended, a, later)).toBe(true);
    expect(await repo.take(ended, later)).toBeUndefined();
    expect(await repo.remember(ended, a, later)).toBe(true);
    expect(await repo.collectGarbage(now)).toBe(0);
    expect(await repo.collectGarbage(later)).toBeGreaterThanOrEqual(1);
    expect(await repo.remember(ended, b, later)).toBe(true);
  });
});

describe('revocations reach the in-process node', () => {
  it('after a revocation list is posted, the node drops what it held of the revoked therapists and rejects them from the mesh', async () => {
    const [held, late] = [inRegion().filter((t) => t.attestation)[6]!, inRegion().filter((t) => t.attestation)[7]!];
    const attestationId = (t: typeof held) => {
      const status = verifyAnnounce(t.announce, { nowMs: clock.now(), trust: data.authority.trust }).status;
      if (status.kind !== 'verified') throw new Error('expected an attested therapist');
      return status.attestation.attestationId;
    };
    const node = bridge.node!;
    const [heldId, lateId] = [toHex(held.signing.publicKey), toHex(late.signing.publicKey)];
    // Before the revocation the node accepts and holds one of them.
    expect((await clinic.publishAnnounce(held.announce)).kind).toBe('accepted');
    await expect.poll(() => node.store.byTherapist.has(heldId)).toBe(true);

    const list = issueRevocationList(data.authority.keys, { sequence: 1, revokedAttestationIds: [attestationId(held), attestationId(late)] }, clock.now());
    expect((await post('/api/v1/fapp/revocations', { list: toBase64Url(list) })).statusCode).toBe(200);
    // What the node held leaves its store (no longer served to queries and region sync).
    expect(node.store.byTherapist.has(heldId)).toBe(false);
    expect(server.rawLogs()).toContain('mesh_trust_changed removed=1');

    const rejected = node.counters.rejected;
    const serverRejected = bridge.counters.rejected;
    // The clinic does not know of the revocation: it accepts and gossips the other announce.
    expect((await clinic.publishAnnounce(late.announce)).kind).toBe('accepted');
    await expect.poll(() => node.counters.rejected).toBeGreaterThan(rejected);
    expect(node.store.byTherapist.has(lateId)).toBe(false);
    // Refused by the node's validator, so the server's own ingest never saw it.
    expect(bridge.counters.rejected).toBe(serverRejected);
    expect(await searchIds()).not.toContain(lateId);
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
