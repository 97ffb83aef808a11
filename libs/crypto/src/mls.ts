import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import {
  acceptAll,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackage,
  generateKeyPackageWithKey,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup as tsJoinGroup,
  mlsExporter,
  processMessage as tsProcessMessage,
  ciphersuites,
  type AuthenticationService,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientConfig,
  type ClientState,
  type KeyPackage,
  type LeafIndex,
  type MLSMessage,
  type PrivateKeyPackage,
  type Proposal,
} from 'ts-mls';
import { provider } from '#provider';
import { defaultClientConfig } from 'ts-mls/clientConfig.js';
import { CodecError, CryptoError as TsMlsCryptoError, CryptoVerificationError, MlsError, ValidationError } from 'ts-mls/mlsError.js';
import { concatBytes, constantTimeEqual, expectBytes, fromHex, randomBytes, utf8, zeroize } from './bytes.js';
import { CryptoError, type CryptoErrorCode } from './errors.js';
import { generateSigningKeyPair, verify as verifySignature, type SigningKeyPair } from './identity.js';

// MLS (RFC 9420) over ts-mls. The wrapper's job: bytes in, bytes out; one error type with
// stable codes; a pending-commit model so an epoch race (two commits on one epoch) can be
// recovered; secrets that a step consumed are wiped once they can no longer be needed.

/** Default: MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 (suite 1). */
export const MLS_DEFAULT_SUITE: CiphersuiteName = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
/** Post-quantum hybrid: MLS_256_XWING_AES256GCM_SHA512_Ed25519 (suite 83). */
export const MLS_XWING_SUITE: CiphersuiteName = 'MLS_256_XWING_AES256GCM_SHA512_Ed25519';
export type MlsSuite = CiphersuiteName;

// ts-mls signs and verifies Ed25519 through WebCrypto and imports the key on every call (a
// PKCS#8 import per signature, a raw import per verification). On Node our provider does the
// same RFC 8032 operation through node:crypto with cached key objects, so the Ed25519 suites
// get it as their signature implementation there. In the browser ts-mls keeps its own
// (WebCrypto where the browser has Ed25519), which is faster than pure JS.
const PKCS8_ED25519 = fromHex('302e020100300506032b657004220420');
const seeds = new WeakMap<Uint8Array, Uint8Array>();
function ed25519Seed(signKey: Uint8Array): Uint8Array {
  if (signKey.length === 32) return signKey;
  // Keys made by ts-mls's own keygen (e.g. in a state exported before this change) are PKCS#8.
  let seed = seeds.get(signKey);
  if (!seed) {
    if (signKey.length !== 48 || !constantTimeEqual(signKey.subarray(0, 16), PKCS8_ED25519)) {
      throw new CryptoError('INVALID_KEY', 'unsupported Ed25519 signing key encoding');
    }
    // A view, not a copy: wiping the PKCS#8 array wipes the seed, and the provider's key cache
    // notices.
    seed = signKey.subarray(16);
    seeds.set(signKey, seed);
  }
  return seed;
}

const nativeEd25519: CiphersuiteImpl['signature'] = {
  sign: (signKey, message) => Promise.resolve(provider.ed25519Sign(ed25519Seed(signKey), message)),
  verify: (publicKey, message, signature) => Promise.resolve(verifySignature(publicKey, message, signature)),
  keygen: () => {
    const kp = generateSigningKeyPair();
    return Promise.resolve({ signKey: kp.secretKey, publicKey: kp.publicKey });
  },
};

const impls = new Map<CiphersuiteName, Promise<CiphersuiteImpl>>();
const ready = new Map<CiphersuiteName, CiphersuiteImpl>();
/** The ts-mls ciphersuite implementation, created once per suite. */
export function mlsCiphersuite(suite: MlsSuite = MLS_DEFAULT_SUITE): Promise<CiphersuiteImpl> {
  let p = impls.get(suite);
  if (!p) {
    p = getCiphersuiteImpl(getCiphersuiteFromName(suite)).then((raw) => {
      const cs = provider.name === 'node' && suite.endsWith('_Ed25519') ? { ...raw, signature: nativeEd25519 } : raw;
      ready.set(suite, cs);
      return cs;
    });
    impls.set(suite, p);
  }
  return p;
}

/** The per-message paths take the suite object without an extra await once it exists. */
function ciphersuiteNow(suite: MlsSuite): CiphersuiteImpl | Promise<CiphersuiteImpl> {
  return ready.get(suite) ?? mlsCiphersuite(suite);
}

export interface MlsOptions {
  /** Checks a member's credential against its signature key (default: accept all). */
  authService?: AuthenticationService;
}

function clientConfig(opts?: MlsOptions): ClientConfig {
  return opts?.authService ? { ...defaultClientConfig, authService: opts.authService } : defaultClientConfig;
}

/** Maps anything ts-mls throws to a CryptoError with a stable code. */
export function toCryptoError(e: unknown, fallback: CryptoErrorCode = 'MLS_FAILURE'): CryptoError {
  if (e instanceof CryptoError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const m = msg.toLowerCase();
  let code: CryptoErrorCode = fallback;
  if (m.includes('epoch too old') || m.includes('former epoch')) code = 'STALE_EPOCH';
  else if (m.includes('desired gen in the past')) code = 'REPLAYED_MESSAGE';
  else if (m.includes('removed from group')) code = 'NOT_A_MEMBER';
  else if (m.includes('ciphersuite mismatch') || m.includes('invalid ciphersuite')) code = 'WRONG_CIPHERSUITE';
  else if (m.includes('keypackage')) code = 'KEY_PACKAGE_INVALID';
  else if (m.includes('own leaf when processing welcome') || m.includes('no matching secret')) code = 'WELCOME_NOT_FOR_US';
  else if (m.includes('signature') || m.includes('membership') || m.includes('confirmation tag')) code = 'BAD_SIGNATURE';
  else if (e instanceof CryptoVerificationError) code = 'BAD_SIGNATURE';
  else if (e instanceof CodecError || m.includes('could not decode')) code = 'MALFORMED';
  else if (e instanceof TsMlsCryptoError) code = 'DECRYPT_FAILED';
  else if (e instanceof ValidationError) code = fallback;
  else if (!(e instanceof MlsError) && e instanceof Error && /decrypt|tag|authenticat|cipher/i.test(msg)) code = 'DECRYPT_FAILED';
  return new CryptoError(code, msg, { cause: e });
}

async function mls<T>(fallback: CryptoErrorCode, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toCryptoError(e, fallback);
  }
}

// ts-mls's own zeroOutUint8Array fills each buffer from getRandomValues and then XORs it with
// itself: a WebCrypto call per buffer, several per message. A plain fill(0) wipes the same bytes
// (a typed-array store is never optimised away) for a fraction of the cost.
function wipe(consumed: Uint8Array[]): void {
  for (const b of consumed) b.fill(0);
}

function encode(m: MLSMessage): Uint8Array {
  return encodeMlsMessage(m);
}

/** Decodes one complete MLSMessage; CryptoError('MALFORMED') on anything else. */
export function decodeMlsMessageBytes(bytes: Uint8Array): MLSMessage {
  expectBytes(bytes, undefined, 'MLS message', 'MALFORMED');
  let r: [MLSMessage, number] | undefined;
  try {
    r = decodeMlsMessage(bytes, 0);
  } catch (e) {
    throw new CryptoError('MALFORMED', 'undecodable MLS message', { cause: e });
  }
  if (!r || r[1] !== bytes.length) throw new CryptoError('MALFORMED', 'undecodable MLS message');
  return r[0];
}

// ---------------------------------------------------------------------------------------
// Key packages

export interface MlsKeyPackageBundle {
  readonly suite: MlsSuite;
  readonly keyPackage: KeyPackage;
  /** Private init/encryption/signature keys. Keep secret; wipe with wipeKeyPackage() after joining. */
  readonly privateKeys: PrivateKeyPackage;
  /** The MLSMessage(mls_key_package) to publish. */
  readonly encoded: Uint8Array;
}

/**
 * A key package for `identity` (a basic credential). Pass the device's Ed25519 identity as
 * `signingKey` so the MLS leaf signs with it; otherwise ts-mls generates a fresh key.
 */
export async function createKeyPackage(
  identity: Uint8Array,
  opts: { suite?: MlsSuite; signingKey?: SigningKeyPair } = {},
): Promise<MlsKeyPackageBundle> {
  expectBytes(identity, undefined, 'identity');
  const suite = opts.suite ?? MLS_DEFAULT_SUITE;
  const cs = await mls('INVALID_ARGUMENT', () => mlsCiphersuite(suite));
  const credential = { credentialType: 'basic' as const, identity: identity.slice() };
  const kp = await mls('MLS_FAILURE', () =>
    opts.signingKey
      ? generateKeyPackageWithKey(credential, defaultCapabilities(), defaultLifetime, [], { signKey: opts.signingKey.secretKey.slice(), publicKey: opts.signingKey.publicKey }, cs)
      : generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], cs),
  );
  const encoded = encode({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: kp.publicPackage });
  return { suite, keyPackage: kp.publicPackage, privateKeys: kp.privatePackage, encoded };
}

/** Decodes and checks a published key package (signature verified when it is used in a commit). */
export function decodeKeyPackage(bytes: Uint8Array, expectedSuite?: MlsSuite): KeyPackage {
  const m = decodeMlsMessageBytes(bytes);
  if (m.wireformat !== 'mls_key_package') throw new CryptoError('UNEXPECTED_MESSAGE', `expected a key package, got ${m.wireformat}`);
  if (expectedSuite && m.keyPackage.cipherSuite !== expectedSuite) throw new CryptoError('WRONG_CIPHERSUITE');
  return m.keyPackage;
}

export function wipeKeyPackage(bundle: MlsKeyPackageBundle): void {
  zeroize(bundle.privateKeys.initPrivateKey, bundle.privateKeys.hpkePrivateKey);
}

// ---------------------------------------------------------------------------------------
// Groups

interface PendingCommit {
  readonly base: ClientState;
  readonly commit: Uint8Array;
  readonly consumed: Uint8Array[];
}

/**
 * One member's view of a group. Immutable: every operation returns a new MlsGroup; drop the old
 * one. After a commit of ours the group holds it as *pending* until the delivery service
 * accepts it (confirmCommit, or our own commit coming back through processMessage) or another
 * commit on the same epoch wins (processMessage then falls back and applies the winner).
 */
export interface MlsGroup {
  readonly suite: MlsSuite;
  readonly state: ClientState;
  readonly pending?: PendingCommit;
}

export interface MlsMemberInfo {
  leafIndex: number;
  identity: Uint8Array;
  signaturePublicKey: Uint8Array;
}

export function groupId(g: MlsGroup): Uint8Array {
  return g.state.groupContext.groupId;
}
export function groupEpoch(g: MlsGroup): bigint {
  return g.state.groupContext.epoch;
}
export function ownLeafIndex(g: MlsGroup): number {
  return g.state.privatePath.leafIndex;
}
/**
 * RFC 9420 §8.7 epoch authenticator: members who compare it out of band (or in a later epoch)
 * know they share the same group state.
 */
export function epochAuthenticator(g: MlsGroup): Uint8Array {
  return g.state.keySchedule.epochAuthenticator.slice();
}
export function isActiveMember(g: MlsGroup): boolean {
  return g.state.groupActiveState.kind === 'active';
}
export function groupMembers(g: MlsGroup): MlsMemberInfo[] {
  const out: MlsMemberInfo[] = [];
  g.state.ratchetTree.forEach((node, i) => {
    if (node?.nodeType === 'leaf' && node.leaf.credential.credentialType === 'basic') {
      out.push({ leafIndex: i / 2, identity: node.leaf.credential.identity, signaturePublicKey: node.leaf.signaturePublicKey });
    }
  });
  return out;
}

export async function createMlsGroup(bundle: MlsKeyPackageBundle, opts: MlsOptions & { groupId?: Uint8Array } = {}): Promise<MlsGroup> {
  const cs = await mlsCiphersuite(bundle.suite);
  const id = opts.groupId ?? randomBytes(16);
  expectBytes(id, undefined, 'group id');
  const state = await mls('MLS_FAILURE', () => createGroup(id, bundle.keyPackage, bundle.privateKeys, [], cs, clientConfig(opts)));
  return { suite: bundle.suite, state };
}

export interface MlsCommitResult {
  /** The new epoch, pending until confirmed. */
  group: MlsGroup;
  /** MLSMessage(PrivateMessage, commit) for the existing members. */
  commit: Uint8Array;
  /** MLSMessage(Welcome) for added members (ratchet tree included). */
  welcome?: Uint8Array;
}

function requireNoPending(g: MlsGroup): void {
  if (g.pending) throw new CryptoError('PENDING_COMMIT', 'confirm or discard the pending commit first');
}

function requireActive(g: MlsGroup): void {
  if (g.state.groupActiveState.kind !== 'active') throw new CryptoError('NOT_A_MEMBER', 'no longer a member of this group');
}

async function commit(g: MlsGroup, proposals: Proposal[]): Promise<MlsCommitResult> {
  requireNoPending(g);
  requireActive(g);
  const cs = await mlsCiphersuite(g.suite);
  const r = await mls('MLS_FAILURE', () => createCommit({ state: g.state, cipherSuite: cs }, { extraProposals: proposals, ratchetTreeExtension: true }));
  const commitBytes = encode(r.commit);
  return {
    // The consumed secrets include the base epoch's init secret: wiping them now would break the
    // fallback in an epoch race, so they are wiped when the commit is confirmed.
    group: { suite: g.suite, state: r.newState, pending: { base: g.state, commit: commitBytes, consumed: r.consumed } },
    commit: commitBytes,
    ...(r.welcome ? { welcome: encode({ version: 'mls10', wireformat: 'mls_welcome', welcome: r.welcome }) } : {}),
  };
}

/** Adds members by their published key packages. */
export async function addMembers(g: MlsGroup, keyPackages: Uint8Array[]): Promise<MlsCommitResult> {
  if (keyPackages.length === 0) throw new CryptoError('INVALID_ARGUMENT', 'no key packages');
  const proposals: Proposal[] = keyPackages.map((b) => ({ proposalType: 'add', add: { keyPackage: decodeKeyPackage(b, g.suite) } }));
  return commit(g, proposals);
}

/** Removes members by leaf index (see groupMembers). */
export async function removeMembers(g: MlsGroup, leafIndices: number[]): Promise<MlsCommitResult> {
  if (leafIndices.length === 0) throw new CryptoError('INVALID_ARGUMENT', 'nothing to remove');
  const present = new Set(groupMembers(g).map((m) => m.leafIndex));
  for (const i of leafIndices) {
    if (!present.has(i)) throw new CryptoError('UNKNOWN_MEMBER', `no member at leaf ${i}`);
    if (i === ownLeafIndex(g)) throw new CryptoError('INVALID_ARGUMENT', 'a member cannot remove itself by commit');
  }
  return commit(g, leafIndices.map((i) => ({ proposalType: 'remove', remove: { removed: i } })));
}

/** Key rotation: an empty commit with a fresh update path (new leaf key, new epoch secrets). */
export function updateKeys(g: MlsGroup): Promise<MlsCommitResult> {
  return commit(g, []);
}

/** The delivery service accepted our pending commit: make it final and wipe what it consumed. */
export function confirmCommit(g: MlsGroup): MlsGroup {
  if (!g.pending) return g;
  wipe(g.pending.consumed);
  return { suite: g.suite, state: g.state };
}

/** Our pending commit lost (or was never sent): return to the epoch before it. */
export function discardPendingCommit(g: MlsGroup): MlsGroup {
  if (!g.pending) return g;
  return { suite: g.suite, state: g.pending.base };
}

/** Joins from a Welcome (ratchet tree taken from the Welcome's extension). */
export async function joinFromWelcome(welcome: Uint8Array, bundle: MlsKeyPackageBundle, opts: MlsOptions = {}): Promise<MlsGroup> {
  const m = decodeMlsMessageBytes(welcome);
  if (m.wireformat !== 'mls_welcome') throw new CryptoError('UNEXPECTED_MESSAGE', `expected a welcome, got ${m.wireformat}`);
  if (m.welcome.cipherSuite !== bundle.suite) throw new CryptoError('WRONG_CIPHERSUITE');
  const cs = await mlsCiphersuite(bundle.suite);
  const state = await mls('WELCOME_NOT_FOR_US', () =>
    tsJoinGroup(m.welcome, bundle.keyPackage, bundle.privateKeys, emptyPskIndex, cs, undefined, undefined, clientConfig(opts)),
  );
  return { suite: bundle.suite, state };
}

/** Encrypts an application message (PrivateMessage). `aad` is sent in clear but authenticated. */
export async function encryptMessage(g: MlsGroup, plaintext: Uint8Array, opts: { aad?: Uint8Array } = {}): Promise<{ group: MlsGroup; message: Uint8Array }> {
  requireNoPending(g);
  requireActive(g);
  expectBytes(plaintext, undefined, 'plaintext');
  const cs = await ciphersuiteNow(g.suite);
  let r: Awaited<ReturnType<typeof createApplicationMessage>>;
  try {
    r = await createApplicationMessage(g.state, plaintext, cs, opts.aad);
  } catch (e) {
    throw toCryptoError(e, 'MLS_FAILURE');
  }
  wipe(r.consumed);
  return {
    group: { suite: g.suite, state: r.newState },
    message: encode({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: r.privateMessage }),
  };
}

export type MlsProcessResult =
  | { kind: 'application'; group: MlsGroup; plaintext: Uint8Array; senderLeafIndex: number | undefined; authenticatedData: Uint8Array }
  | {
      kind: 'commit';
      group: MlsGroup;
      /** This member was removed by the commit; the group can no longer be used to send. */
      removed: boolean;
      /** Another commit won the epoch race: our pending commit was dropped. */
      discardedPendingCommit: boolean;
      /** Our own pending commit came back from the delivery service and is now confirmed. */
      ownCommit: boolean;
    }
  | { kind: 'proposal'; group: MlsGroup };

/**
 * Processes one incoming MLSMessage (private or public). Errors: STALE_EPOCH / FUTURE_EPOCH,
 * WRONG_GROUP, NOT_A_MEMBER, BAD_SIGNATURE, DECRYPT_FAILED, REPLAYED_MESSAGE, MALFORMED.
 */
export async function processMessage(g: MlsGroup, bytes: Uint8Array): Promise<MlsProcessResult> {
  const m = decodeMlsMessageBytes(bytes);
  if (m.wireformat !== 'mls_private_message' && m.wireformat !== 'mls_public_message') {
    throw new CryptoError('UNEXPECTED_MESSAGE', `cannot process ${m.wireformat} in a group`);
  }
  const head = peekDecoded(m);
  if (!constantTimeEqual(head.groupId!, groupId(g))) throw new CryptoError('WRONG_GROUP');

  let state = g.state;
  let discarded = false;
  if (g.pending) {
    if (constantTimeEqual(bytes, g.pending.commit)) {
      return { kind: 'commit', group: confirmCommit(g), removed: false, discardedPendingCommit: false, ownCommit: true };
    }
    if (head.epoch === g.pending.base.groupContext.epoch) {
      state = g.pending.base;
      discarded = head.contentType === 'commit';
    }
  }
  if (state.groupActiveState.kind === 'removedFromGroup') throw new CryptoError('NOT_A_MEMBER');
  const epoch = state.groupContext.epoch;
  if (head.epoch! > epoch) throw new CryptoError('FUTURE_EPOCH', `message for epoch ${head.epoch}, group at ${epoch}`);
  if (head.epoch! < epoch && head.contentType !== 'application') throw new CryptoError('STALE_EPOCH', `handshake for epoch ${head.epoch}, group at ${epoch}`);

  const cs = await ciphersuiteNow(g.suite);
  let r: Awaited<ReturnType<typeof tsProcessMessage>>;
  try {
    r = await tsProcessMessage(m, state, emptyPskIndex, acceptAll, cs);
  } catch (e) {
    throw toCryptoError(e, 'DECRYPT_FAILED');
  }
  wipe(r.consumed);
  if (r.kind === 'applicationMessage') {
    const pending = g.pending && state === g.pending.base ? { ...g.pending, base: r.newState } : g.pending;
    const next: MlsGroup = state === g.state ? { suite: g.suite, state: r.newState, ...(g.pending ? { pending: g.pending } : {}) } : { suite: g.suite, state: g.state, ...(pending ? { pending } : {}) };
    return {
      kind: 'application',
      group: next,
      plaintext: r.message,
      senderLeafIndex: undefined,
      authenticatedData: m.wireformat === 'mls_private_message' ? m.privateMessage.authenticatedData : m.publicMessage.content.authenticatedData,
    };
  }
  if (head.contentType === 'commit') {
    return {
      kind: 'commit',
      group: { suite: g.suite, state: r.newState },
      removed: r.newState.groupActiveState.kind === 'removedFromGroup',
      discardedPendingCommit: discarded,
      ownCommit: false,
    };
  }
  return { kind: 'proposal', group: { suite: g.suite, state: r.newState, ...(g.pending && !discarded ? { pending: g.pending } : {}) } };
}

/** RFC 9420 §8.5 exporter: a secret bound to this epoch. */
export async function exportSecret(g: MlsGroup, label: string, context: Uint8Array, length: number): Promise<Uint8Array> {
  const cs = await mlsCiphersuite(g.suite);
  return mls('MLS_FAILURE', () => mlsExporter(g.state.keySchedule.exporterSecret, label, context, length, cs));
}

// ---------------------------------------------------------------------------------------
// Peeking without keys (the server routes on this)

export type MlsWireFormat = 'mls_public_message' | 'mls_private_message' | 'mls_welcome' | 'mls_group_info' | 'mls_key_package';
export type MlsContentType = 'application' | 'proposal' | 'commit';

export interface MlsPeek {
  wireFormat: MlsWireFormat;
  /** Absent for Welcome and KeyPackage (a Welcome's group id is encrypted). */
  groupId: Uint8Array | undefined;
  epoch: bigint | undefined;
  /** Only for framed messages (public/private). */
  contentType: MlsContentType | undefined;
  cipherSuite: MlsSuite | undefined;
}

function peekDecoded(m: MLSMessage): MlsPeek {
  switch (m.wireformat) {
    case 'mls_private_message':
      return { wireFormat: m.wireformat, groupId: m.privateMessage.groupId, epoch: m.privateMessage.epoch, contentType: m.privateMessage.contentType as MlsContentType, cipherSuite: undefined };
    case 'mls_public_message':
      return { wireFormat: m.wireformat, groupId: m.publicMessage.content.groupId, epoch: m.publicMessage.content.epoch, contentType: m.publicMessage.content.contentType as MlsContentType, cipherSuite: undefined };
    case 'mls_group_info':
      return { wireFormat: m.wireformat, groupId: m.groupInfo.groupContext.groupId, epoch: m.groupInfo.groupContext.epoch, contentType: undefined, cipherSuite: m.groupInfo.groupContext.cipherSuite };
    case 'mls_welcome':
      return { wireFormat: m.wireformat, groupId: undefined, epoch: undefined, contentType: undefined, cipherSuite: m.welcome.cipherSuite };
    case 'mls_key_package':
      return { wireFormat: m.wireformat, groupId: undefined, epoch: undefined, contentType: undefined, cipherSuite: m.keyPackage.cipherSuite };
  }
}

/** Reads routing metadata from an encoded MLSMessage without any keys. CryptoError('MALFORMED') otherwise. */
export function peekMlsMessage(bytes: Uint8Array): MlsPeek {
  return peekDecoded(decodeMlsMessageBytes(bytes));
}

// ---------------------------------------------------------------------------------------
// Group state at rest

/**
 * Encrypted group state: `"QPCG" || 0x01 (version) || suite id (u16 BE) || nonce (24) ||
 * XChaCha20-Poly1305(storageKey, nonce, encodeGroupState(state), aad = the 31 header bytes)`.
 * A pending commit is not exported: the confirmed (base) state is.
 */
const STATE_MAGIC = utf8('QPCG');
const STATE_VERSION = 1;
const STATE_HEADER = 4 + 1 + 2 + 24;

export function exportGroupState(g: MlsGroup, storageKey: Uint8Array): Uint8Array {
  expectBytes(storageKey, 32, 'storage key', 'INVALID_KEY');
  const state = g.pending ? g.pending.base : g.state;
  const header = new Uint8Array(STATE_HEADER);
  header.set(STATE_MAGIC);
  header[4] = STATE_VERSION;
  new DataView(header.buffer).setUint16(5, ciphersuites[g.suite]);
  header.set(randomBytes(24), 7);
  const plain = encodeGroupState(state);
  try {
    return concatBytes(header, xchacha20poly1305(storageKey, header.subarray(7), header).encrypt(plain));
  } finally {
    zeroize(plain);
  }
}

export function restoreGroupState(blob: Uint8Array, storageKey: Uint8Array, opts: MlsOptions = {}): MlsGroup {
  expectBytes(storageKey, 32, 'storage key', 'INVALID_KEY');
  if (!(blob instanceof Uint8Array) || blob.length < STATE_HEADER + 16) throw new CryptoError('MALFORMED', 'group state too short');
  if (!constantTimeEqual(blob.subarray(0, 4), STATE_MAGIC)) throw new CryptoError('MALFORMED', 'not a group state');
  if (blob[4] !== STATE_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', `group state version ${blob[4]}`);
  const suiteId = new DataView(blob.buffer, blob.byteOffset).getUint16(5);
  const suite = (Object.keys(ciphersuites) as CiphersuiteName[]).find((n) => ciphersuites[n] === suiteId);
  if (!suite) throw new CryptoError('WRONG_CIPHERSUITE', `unknown suite ${suiteId}`);
  const header = blob.subarray(0, STATE_HEADER);
  let plain: Uint8Array;
  try {
    plain = xchacha20poly1305(storageKey, header.subarray(7), header).decrypt(blob.subarray(STATE_HEADER));
  } catch (e) {
    throw new CryptoError('DECRYPT_FAILED', 'group state does not open with this key', { cause: e });
  }
  // No wipe of `plain` here: ts-mls decodes without copying, so the restored state's secrets
  // live inside this buffer. It becomes garbage when the state does.
  let r: [unknown, number] | undefined;
  try {
    r = decodeGroupState(plain, 0);
  } catch (e) {
    throw new CryptoError('MALFORMED', 'undecodable group state', { cause: e });
  }
  if (!r || r[1] !== plain.length) throw new CryptoError('MALFORMED', 'undecodable group state');
  // decodeGroupState does not carry the client config: put it back.
  const state = { ...(r[0] as Omit<ClientState, 'clientConfig'>), clientConfig: clientConfig(opts) } as ClientState;
  if (state.groupContext.cipherSuite !== suite) throw new CryptoError('WRONG_CIPHERSUITE');
  return { suite, state };
}

export type { LeafIndex };
