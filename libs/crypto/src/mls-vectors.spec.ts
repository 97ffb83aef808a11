import {
  ciphersuites,
  createApplicationMessage,
  createCommit,
  createGroup,
  createGroupInfoWithExternalPub,
  createProposal,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type MLSMessage,
  type Proposal,
} from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import {
  decodeKeyPackage,
  decodeMlsMessageBytes,
  epochAuthenticator,
  groupEpoch,
  groupId,
  joinFromWelcome,
  MLS_DEFAULT_SUITE,
  MLS_XWING_SUITE,
  type MlsGroup,
  type MlsPeek,
  type MlsWireFormat,
  peekMlsMessage,
  processMessage,
} from './mls.js';
import vectors from './test/fixtures/mls-messages.json' with { type: 'json' };
import passive from './test/fixtures/mls-passive-client-commit.json' with { type: 'json' };

// Official MLS interop vectors (messages.json): every framed message goes through the
// wrapper's decoder and keyless peek, and re-encodes to the same bytes.
const GROUP = 'c1669bbc8763d989c4afc4ccbdfb615a';
const cases: { name: keyof typeof vectors; wire: MlsWireFormat; group?: string; epoch?: bigint; content?: string }[] = [
  { name: 'mls_welcome', wire: 'mls_welcome' },
  { name: 'mls_group_info', wire: 'mls_group_info', group: GROUP, epoch: 0n },
  { name: 'mls_key_package', wire: 'mls_key_package' },
  { name: 'public_message_application', wire: 'mls_public_message', group: GROUP, epoch: 1n, content: 'application' },
  { name: 'public_message_proposal', wire: 'mls_public_message', group: GROUP, epoch: 0n, content: 'proposal' },
  { name: 'public_message_commit', wire: 'mls_public_message', group: GROUP, epoch: 0n, content: 'commit' },
  { name: 'private_message', wire: 'mls_private_message', group: GROUP, epoch: 1n, content: 'application' },
];

describe('MLS interop vectors through the wrapper', () => {
  it.each(cases)('$name: peek, decode, re-encode', (c) => {
    const bytes = fromHex(vectors[c.name]);
    const peek = peekMlsMessage(bytes);
    expect(peek.wireFormat).toBe(c.wire);
    if (c.group) expect(toHex(peek.groupId!)).toBe(c.group);
    if (c.epoch !== undefined) expect(peek.epoch).toBe(c.epoch);
    if (c.content) expect(peek.contentType).toBe(c.content);
    expect(encodeMlsMessage(decodeMlsMessageBytes(bytes))).toEqual(bytes);
  });

  it('key package decodes with its credential; trailing or missing bytes are MALFORMED', () => {
    const bytes = fromHex(vectors.mls_key_package);
    const kp = decodeKeyPackage(bytes);
    expect(kp.cipherSuite).toBe('MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519');
    expect(kp.leafNode.credential).toEqual({ credentialType: 'basic', identity: new TextEncoder().encode('Alice') });
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => peekMlsMessage(longer)).toThrow(CryptoError);
    expect(() => peekMlsMessage(bytes.subarray(0, bytes.length - 1))).toThrow(CryptoError);
  });
});

// Official passive-client vector (passive-client-handling-commit.json, entry 0): an independent
// implementation's Welcome and two commits, joined and processed through the wrapper alone; the
// epoch authenticator after each step must match the published one.
describe('MLS passive-client vector through the wrapper', () => {
  const v = passive;
  async function join(): Promise<MlsGroup> {
    const encoded = fromHex(v.key_package);
    const keyPackage = decodeKeyPackage(encoded);
    const privateKeys = { initPrivateKey: fromHex(v.init_priv), hpkePrivateKey: fromHex(v.encryption_priv), signaturePrivateKey: fromHex(v.signature_priv) };
    return joinFromWelcome(fromHex(v.welcome), { suite: keyPackage.cipherSuite, keyPackage, privateKeys, encoded });
  }

  it('joins from the Welcome and follows both commits to the published epoch authenticators', async () => {
    expect(v.cipher_suite).toBe(1);
    expect(v.ratchet_tree).toBeNull();
    let g = await join();
    expect(toHex(epochAuthenticator(g))).toBe(v.initial_epoch_authenticator);
    for (const e of v.epochs) {
      expect(e.proposals).toEqual([]);
      const bytes = fromHex(e.commit);
      const head = peekMlsMessage(bytes);
      expect(head).toMatchObject({ wireFormat: 'mls_public_message', contentType: 'commit', epoch: groupEpoch(g) });
      expect(head.groupId).toEqual(groupId(g));
      const r = await processMessage(g, bytes);
      expect(r.kind).toBe('commit');
      g = r.group;
      expect(toHex(epochAuthenticator(g))).toBe(e.epoch_authenticator);
    }
    expect(groupEpoch(g)).toBe(2n + BigInt(v.epochs.length));
  });

  it('a commit with one flipped bit is BAD_SIGNATURE (WRONG_GROUP in the group id), and the group stays usable', async () => {
    const g = await join();
    const bytes = fromHex(v.epochs[0]!.commit);
    const flip = (at: number) => {
      const bad = bytes.slice();
      bad[at]! ^= 0x01;
      return bad;
    };
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof CryptoError ? e.code : `not a CryptoError: ${String(e)}`),
      );
    // membership tag (last 32 bytes), confirmation tag, signature, the update path in the middle
    for (const at of [bytes.length - 10, bytes.length - 43, bytes.length - 96, Math.floor(bytes.length / 2)]) {
      expect(await codeOf(processMessage(g, flip(at)))).toBe('BAD_SIGNATURE');
    }
    expect(await codeOf(processMessage(g, flip(5)))).toBe('WRONG_GROUP');
    const r = await processMessage(g, bytes);
    expect(toHex(epochAuthenticator(r.group))).toBe(v.epochs[0]!.epoch_authenticator);
  });
});

// RFC 9420 structures produced by raw ts-mls (not by the wrapper), in every wire format and for
// both suites we use: the wrapper's keyless peek must read them, its decoder must give back
// bytes that re-encode identically, and a member driven by the wrapper must interoperate.
describe.each([MLS_DEFAULT_SUITE, MLS_XWING_SUITE])('raw ts-mls messages through the wrapper (%s)', (suite) => {
  it('key package, welcome, group info, public/private proposal and commit, application message', async () => {
    // ts-mls's own suite object, not the wrapper's (which signs through the native provider)
    const cs = await getCiphersuiteImpl(getCiphersuiteFromName(suite));
    const suiteId = ciphersuites[suite];
    const kp = (name: string) => generateKeyPackage({ credentialType: 'basic', identity: utf8(name) }, defaultCapabilities(), defaultLifetime, [], cs);
    const alice = await kp('alice');
    const bob = await kp('bob');
    const carol = await kp('carol');
    const dave = await kp('dave');
    const gid = utf8(`raw-${suiteId}`);
    let a = await createGroup(gid, alice.publicPackage, alice.privatePackage, [], cs);
    const seen = new Set<string>();

    const check = (m: MLSMessage, want: Partial<MlsPeek>): Uint8Array => {
      const bytes = encodeMlsMessage(m);
      const head = peekMlsMessage(bytes);
      expect(head).toMatchObject(want);
      expect(head.wireFormat).toBe(m.wireformat);
      expect(encodeMlsMessage(decodeMlsMessageBytes(bytes))).toEqual(bytes);
      seen.add(`${head.wireFormat}/${head.contentType ?? '-'}`);
      return bytes;
    };

    const bobKp = check({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: bob.publicPackage }, { cipherSuite: suite, groupId: undefined, epoch: undefined });
    expect(decodeKeyPackage(bobKp, suite).leafNode.credential).toEqual({ credentialType: 'basic', identity: utf8('bob') });

    // epoch 0 -> 1: a public add commit and its Welcome
    const add: Proposal = { proposalType: 'add', add: { keyPackage: bob.publicPackage } };
    const c1 = await createCommit({ state: a, cipherSuite: cs }, { extraProposals: [add], ratchetTreeExtension: true, wireAsPublicMessage: true });
    check(c1.commit, { groupId: gid, epoch: 0n, contentType: 'commit' });
    const welcome = check({ version: 'mls10', wireformat: 'mls_welcome', welcome: c1.welcome! }, { cipherSuite: suite, groupId: undefined });
    a = c1.newState;
    let b = await joinFromWelcome(welcome, { suite, keyPackage: bob.publicPackage, privateKeys: bob.privatePackage, encoded: bobKp });
    expect(epochAuthenticator(b)).toEqual(a.keySchedule.epochAuthenticator);

    const gi = await createGroupInfoWithExternalPub(a, [], cs);
    check({ version: 'mls10', wireformat: 'mls_group_info', groupInfo: gi }, { groupId: gid, epoch: 1n, cipherSuite: suite, contentType: undefined });

    // application message (always private)
    const app = await createApplicationMessage(a, utf8('hello from raw ts-mls'), cs);
    a = app.newState;
    const appBytes = check({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: app.privateMessage }, { groupId: gid, epoch: 1n, contentType: 'application' });
    const got = await processMessage(b, appBytes);
    if (got.kind !== 'application') throw new Error(got.kind);
    expect(got.plaintext).toEqual(utf8('hello from raw ts-mls'));
    b = got.group;

    // proposals as public and as private messages
    for (const [isPublic, who] of [[true, carol], [false, dave]] as const) {
      const p = await createProposal(a, isPublic, { proposalType: 'add', add: { keyPackage: who.publicPackage } }, cs);
      a = p.newState;
      const bytes = check(p.message, { wireFormat: isPublic ? 'mls_public_message' : 'mls_private_message', groupId: gid, epoch: 1n, contentType: 'proposal' });
      const r = await processMessage(b, bytes);
      expect(r.kind).toBe('proposal');
      b = r.group;
    }

    // epoch 1 -> 2: a private commit (default), by reference to the pending proposals
    const c2 = await createCommit({ state: a, cipherSuite: cs }, { ratchetTreeExtension: true });
    const c2bytes = check(c2.commit, { wireFormat: 'mls_private_message', groupId: gid, epoch: 1n, contentType: 'commit' });
    a = c2.newState;
    const r2 = await processMessage(b, c2bytes);
    expect(r2.kind).toBe('commit');
    b = r2.group;
    expect(groupEpoch(b)).toBe(2n);
    expect(epochAuthenticator(b)).toEqual(a.keySchedule.epochAuthenticator);

    expect([...seen].sort()).toEqual([
      'mls_group_info/-',
      'mls_key_package/-',
      'mls_private_message/application',
      'mls_private_message/commit',
      'mls_private_message/proposal',
      'mls_public_message/commit',
      'mls_public_message/proposal',
      'mls_welcome/-',
    ]);
  });
});
