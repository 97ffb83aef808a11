import fc from 'fast-check';
import { getCiphersuiteFromName, getCiphersuiteImpl } from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { provider } from '#provider';
import { fromUtf8, randomBytes, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { generateSigningKeyPair, sign } from './identity.js';
import {
  addMembers,
  confirmCommit,
  createKeyPackage,
  createMlsGroup,
  decodeKeyPackage,
  encryptMessage,
  exportGroupState,
  exportSecret,
  groupEpoch,
  groupId,
  groupMembers,
  isActiveMember,
  joinFromWelcome,
  MLS_DEFAULT_SUITE,
  MLS_XWING_SUITE,
  mlsCiphersuite,
  type MlsGroup,
  type MlsSuite,
  ownLeafIndex,
  peekMlsMessage,
  processMessage,
  removeMembers,
  restoreGroupState,
  updateKeys,
} from './mls.js';

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
}

async function send(from: MlsGroup, text: string): Promise<{ from: MlsGroup; message: Uint8Array }> {
  const r = await encryptMessage(from, utf8(text));
  return { from: r.group, message: r.message };
}

async function receive(to: MlsGroup, message: Uint8Array): Promise<{ group: MlsGroup; text: string }> {
  const r = await processMessage(to, message);
  if (r.kind !== 'application') throw new Error(`expected application, got ${r.kind}`);
  return { group: r.group, text: fromUtf8(r.plaintext) };
}

async function commitIn(group: MlsGroup, commit: Uint8Array): Promise<MlsGroup> {
  const r = await processMessage(group, commit);
  if (r.kind !== 'commit') throw new Error('expected commit');
  return r.group;
}

/** Creator + n joiners, all in one epoch. */
async function makeGroup(names: string[], suite?: MlsSuite): Promise<MlsGroup[]> {
  const opts = suite ? { suite } : {};
  const [first, ...rest] = await Promise.all(names.map((n) => createKeyPackage(utf8(n), opts)));
  let creator = await createMlsGroup(first!);
  if (rest.length === 0) return [creator];
  const r = await addMembers(creator, rest.map((b) => b.encoded));
  creator = confirmCommit(r.group);
  const joined = await Promise.all(rest.map((b) => joinFromWelcome(r.welcome!, b)));
  return [creator, ...joined];
}

describe('MLS wrapper', () => {
  it('1:1 — key package with an Ed25519 identity, welcome, messages both ways, peek', async () => {
    const aliceId = generateSigningKeyPair();
    const alice = await createKeyPackage(utf8('alice'), { signingKey: aliceId });
    const bob = await createKeyPackage(utf8('bob'));
    expect(peekMlsMessage(bob.encoded)).toMatchObject({ wireFormat: 'mls_key_package', groupId: undefined });
    expect(decodeKeyPackage(bob.encoded).leafNode.credential).toEqual({ credentialType: 'basic', identity: utf8('bob') });

    let a = await createMlsGroup(alice, { groupId: utf8('g-1to1') });
    expect(groupMembers(a)[0]!.signaturePublicKey).toEqual(aliceId.publicKey);
    const add = await addMembers(a, [bob.encoded]);
    expect(peekMlsMessage(add.commit)).toEqual({ wireFormat: 'mls_private_message', groupId: utf8('g-1to1'), epoch: 0n, contentType: 'commit', cipherSuite: undefined });
    expect(peekMlsMessage(add.welcome!)).toMatchObject({ wireFormat: 'mls_welcome', cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' });
    a = confirmCommit(add.group);
    let b = await joinFromWelcome(add.welcome!, bob);
    expect(groupEpoch(b)).toBe(1n);
    expect(groupMembers(b).map((m) => fromUtf8(m.identity))).toEqual(['alice', 'bob']);

    const m1 = await send(a, 'Hallo Bob');
    a = m1.from;
    expect(peekMlsMessage(m1.message)).toMatchObject({ epoch: 1n, contentType: 'application' });
    const r1 = await receive(b, m1.message);
    b = r1.group;
    expect(r1.text).toBe('Hallo Bob');
    const m2 = await send(b, 'Hallo Alice');
    b = m2.from;
    expect((await receive(a, m2.message)).text).toBe('Hallo Alice');

    // replaying a message is refused
    expect(await code(processMessage(b, m1.message))).toBe('REPLAYED_MESSAGE');
    // exporter secrets agree
    expect(await exportSecret(a, 'test', utf8('ctx'), 32)).toEqual(await exportSecret(b, 'test', utf8('ctx'), 32));
  });

  it('3-party with removal; the removed member can no longer read or send', async () => {
    let [a, b, c] = (await makeGroup(['alice', 'bob', 'carol'])) as [MlsGroup, MlsGroup, MlsGroup];
    const carolLeaf = ownLeafIndex(c);
    const rm = await removeMembers(a, [carolLeaf]);
    a = confirmCommit(rm.group);
    b = await commitIn(b, rm.commit);
    const cr = await processMessage(c, rm.commit);
    expect(cr.kind === 'commit' && cr.removed).toBe(true);
    c = cr.group;
    expect(isActiveMember(c)).toBe(false);
    expect(groupMembers(a).map((m) => fromUtf8(m.identity))).toEqual(['alice', 'bob']);

    const m = await send(a, 'ohne Carol');
    expect((await receive(b, m.message)).text).toBe('ohne Carol');
    expect(await code(processMessage(c, m.message))).toBe('NOT_A_MEMBER');
    expect(await code(encryptMessage(c, utf8('x')))).toBe('NOT_A_MEMBER');
    expect(await code(removeMembers(a, [17]))).toBe('UNKNOWN_MEMBER');
  });

  it('update (key rotation) moves everyone to the next epoch; old-epoch handshakes are stale', async () => {
    let [a, b, c] = (await makeGroup(['alice', 'bob', 'carol'])) as [MlsGroup, MlsGroup, MlsGroup];
    const up = await updateKeys(b);
    b = confirmCommit(up.group);
    a = await commitIn(a, up.commit);
    c = await commitIn(c, up.commit);
    expect([groupEpoch(a), groupEpoch(b), groupEpoch(c)]).toEqual([2n, 2n, 2n]);
    expect(await code(processMessage(a, up.commit))).toBe('STALE_EPOCH');
    const m = await send(c, 'nach dem Update');
    expect((await receive(a, m.message)).text).toBe('nach dem Update');
    expect((await receive(b, m.message)).text).toBe('nach dem Update');
  });

  it('epoch race: two commits on one epoch, one wins, the loser recovers', async () => {
    let [a, b, c] = (await makeGroup(['alice', 'bob', 'carol'])) as [MlsGroup, MlsGroup, MlsGroup];
    const ca = await updateKeys(a);
    const cb = await updateKeys(b);
    a = ca.group;
    b = cb.group;
    expect(await code(encryptMessage(a, utf8('x')))).toBe('PENDING_COMMIT');
    // the delivery service orders Alice's commit first and rejects Bob's
    const ra = await processMessage(a, ca.commit);
    expect(ra).toMatchObject({ kind: 'commit', ownCommit: true });
    a = ra.group;
    const rb = await processMessage(b, ca.commit);
    expect(rb).toMatchObject({ kind: 'commit', discardedPendingCommit: true, ownCommit: false });
    b = rb.group;
    c = await commitIn(c, ca.commit);
    // Bob's losing commit is refused by whoever sees it
    expect(await code(processMessage(c, cb.commit))).toBe('STALE_EPOCH');
    expect(await code(processMessage(a, cb.commit))).toBe('STALE_EPOCH');
    // everyone is in the same epoch and talks
    expect(new Set([groupEpoch(a), groupEpoch(b), groupEpoch(c)])).toEqual(new Set([2n]));
    const m = await send(b, 'wieder da');
    expect((await receive(a, m.message)).text).toBe('wieder da');
    expect((await receive(c, m.message)).text).toBe('wieder da');
  });

  it('clear errors: wrong group, future epoch, tampered ciphertext, non-framed input', async () => {
    const [a, b] = (await makeGroup(['alice', 'bob'])) as [MlsGroup, MlsGroup];
    const [other] = (await makeGroup(['eve'])) as [MlsGroup];
    const m = await send(a, 'hi');
    expect(await code(processMessage(other, m.message))).toBe('WRONG_GROUP');
    const up = await updateKeys(a);
    const a2 = confirmCommit(up.group);
    const future = await send(a2, 'from the future');
    expect(await code(processMessage(b, future.message))).toBe('FUTURE_EPOCH');
    const t = m.message.slice();
    t[t.length - 3]! ^= 1;
    expect(await code(processMessage(b, t))).toBe('DECRYPT_FAILED');
    const kp = await createKeyPackage(utf8('x'));
    expect(await code(processMessage(b, kp.encoded))).toBe('UNEXPECTED_MESSAGE');
    expect(await code(joinFromWelcome(up.commit, kp))).toBe('UNEXPECTED_MESSAGE');
  });

  it('on Node, MLS Ed25519 signs through the native provider, byte for byte as ts-mls does', async () => {
    expect(provider.name).toBe('node');
    const ours = (await mlsCiphersuite()).signature;
    const raw = (await getCiphersuiteImpl(getCiphersuiteFromName(MLS_DEFAULT_SUITE))).signature;
    expect(ours).not.toBe(raw);
    const msg = randomBytes(100);
    // a seed from our keygen, and a PKCS#8 key from ts-mls's own keygen (as older states hold)
    const seedKey = await ours.keygen();
    expect(seedKey.signKey.length).toBe(32);
    const pkcs8Key = await raw.keygen();
    expect(pkcs8Key.signKey.length).toBe(48);
    for (const k of [seedKey, pkcs8Key]) {
      const sig = await ours.sign(k.signKey, msg);
      expect(sig).toEqual(await raw.sign(k.signKey, msg)); // Ed25519 is deterministic
      expect(sig).toEqual(sign(k.signKey.subarray(k.signKey.length - 32), msg));
      expect(await ours.verify(k.publicKey, msg, sig)).toBe(true);
      expect(await raw.verify(k.publicKey, msg, sig)).toBe(true);
      const bad = sig.slice();
      bad[0]! ^= 1;
      expect(await ours.verify(k.publicKey, msg, bad)).toBe(false);
    }
    // a wiped PKCS#8 key is never used with stale cached key material
    const before = await ours.sign(pkcs8Key.signKey, msg);
    pkcs8Key.signKey.fill(0, 16);
    expect(await ours.sign(pkcs8Key.signKey, msg)).not.toEqual(before);
    expect(await code(() => ours.sign(randomBytes(40), msg))).toBe('INVALID_KEY');
  });

  it('a commit keeps the secrets it consumed until confirmation, then they are zero', async () => {
    const [a] = (await makeGroup(['alice', 'bob'])) as [MlsGroup, MlsGroup];
    const up = await updateKeys(a);
    const consumed = up.group.pending!.consumed;
    expect(consumed.length).toBeGreaterThan(0);
    expect(consumed.some((c) => c.some((x) => x !== 0))).toBe(true);
    confirmCommit(up.group);
    for (const c of consumed) expect(c.every((x) => x === 0)).toBe(true);
  });

  it('a key package whose signature does not verify is KEY_PACKAGE_INVALID', async () => {
    const [a] = (await makeGroup(['alice'])) as [MlsGroup];
    const kp = (await createKeyPackage(utf8('mallory'))).encoded.slice();
    kp[kp.length - 5]! ^= 0x01; // inside the key package's signature
    expect(await code(addMembers(a, [kp]))).toBe('KEY_PACKAGE_INVALID');
  });

  it('a welcome for someone else is WELCOME_NOT_FOR_US', async () => {
    const [a] = (await makeGroup(['alice'])) as [MlsGroup];
    const bob = await createKeyPackage(utf8('bob'));
    const mallory = await createKeyPackage(utf8('mallory'));
    const add = await addMembers(a, [bob.encoded]);
    expect(await code(joinFromWelcome(add.welcome!, mallory))).toBe('WELCOME_NOT_FOR_US');
  });

  it('encrypted export / restore of group state; wrong key fails cleanly', async () => {
    let [a, b] = (await makeGroup(['alice', 'bob'])) as [MlsGroup, MlsGroup];
    const key = randomBytes(32);
    const blob = exportGroupState(b, key);
    expect(new TextDecoder().decode(blob.subarray(0, 4))).toBe('QPCG');
    b = restoreGroupState(blob, key);
    expect(groupId(b)).toEqual(groupId(a));
    const m = await send(a, 'nach dem Neustart');
    const r = await receive(b, m.message);
    expect(r.text).toBe('nach dem Neustart');
    const up = await updateKeys(r.group);
    a = await commitIn(a, up.commit);
    expect(groupEpoch(a)).toBe(2n);
    expect(await code(() => restoreGroupState(blob, randomBytes(32)))).toBe('DECRYPT_FAILED');
    const t = blob.slice();
    t[4] = 9;
    expect(await code(() => restoreGroupState(t, key))).toBe('UNSUPPORTED_VERSION');
  });

  it('X-Wing suite (83): group, welcome, messages', async () => {
    const [a, b] = (await makeGroup(['alice', 'bob'], MLS_XWING_SUITE)) as [MlsGroup, MlsGroup];
    expect(a.suite).toBe(MLS_XWING_SUITE);
    const m = await send(a, 'post-quantum');
    expect((await receive(b, m.message)).text).toBe('post-quantum');
    const bob2 = await createKeyPackage(utf8('bob2'));
    expect(await code(addMembers(a, [bob2.encoded]))).toBe('WRONG_CIPHERSUITE');
  });

  it('50-member group: one add commit, all join, a message reaches everyone, an update is processed', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `member-${i}`);
    const groups = await makeGroup(names);
    expect(groupMembers(groups[0]!)).toHaveLength(50);
    const m = await send(groups[7]!, 'an alle');
    for (let i = 0; i < 50; i++) {
      if (i === 7) continue;
      const r = await receive(groups[i]!, m.message);
      expect(r.text).toBe('an alle');
      groups[i] = r.group;
    }
    const up = await updateKeys(groups[0]!);
    groups[0] = confirmCommit(up.group);
    for (const i of [1, 25, 49]) groups[i] = await commitIn(groups[i]!, up.commit);
    const after = await send(groups[49]!, 'epoch 2');
    expect((await receive(groups[0]!, after.message)).text).toBe('epoch 2');
  });

  it('property: random bytes into the MLS decoders throw only CryptoError', async () => {
    const [a] = (await makeGroup(['alice'])) as [MlsGroup];
    const key = randomBytes(32);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (b) => {
        for (const f of [() => peekMlsMessage(b), () => decodeKeyPackage(b), () => processMessage(a, b), () => restoreGroupState(b, key)]) {
          expect(await code(f as () => unknown)).not.toBe('ok');
        }
      }),
      { numRuns: 150 },
    );
    // mutations of valid messages, too
    const kp = await createKeyPackage(utf8('bob'));
    const add = await addMembers(a, [kp.encoded]);
    const samples = [kp.encoded, add.commit, add.welcome!];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 1, max: 255 }), async (s, pos, x) => {
        const t = s.slice();
        t[pos % t.length]! ^= x;
        const cut = t.subarray(0, Math.max(0, t.length - (pos % 7)));
        for (const input of [t, cut]) {
          try {
            peekMlsMessage(input);
          } catch (e) {
            expect(e).toBeInstanceOf(CryptoError);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
