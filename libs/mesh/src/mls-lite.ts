import { concatBytes, constantTimeEqual, cryptoProvider, hkdfSha256, sign, utf8, verify, type SigningKeyPair } from '@qpc/crypto';
import { meshFail } from './errors.js';
import { LORA_MAX_MESSAGE_BYTES } from './lora.js';

/**
 * MLS-Lite: group encryption for constrained links (the simulated LoRa link), where a full
 * MLS handshake does not fit the airtime budget. Sans-IO: state in, state out.
 *
 * Every member holds the same pre-shared 32-byte group key and a sender index. Per epoch:
 *   epoch_key = HKDF-SHA256(ikm = group key, salt = "qpc-mesh-v1/mls-lite", info = group id || epoch, 32)
 * Message on the wire (big-endian):
 *   flags (1) || group id (2) || epoch (2) || sender index (1) || counter (4) || AEAD(epoch_key, nonce, aad = header, inner)
 *   nonce = 0 (3) || sender index (1) || 0 (4) || counter (4), unique as long as each sender counts up
 *   inner = [signature (64) if flags & SIGNED] || payload
 *   signature = Ed25519 by the sender over "qpc-mesh-v1/mls-lite" 0x00 || header || payload
 * A receiver keeps one sliding replay window of 64 counters per sender and epoch; the window
 * moves only after a message authenticated. The window state must be persisted with the
 * group state: a receiver restarted with an empty window accepts old messages again.
 *
 * What it does not give (said plainly): no forward secrecy and no post-compromise security.
 * Whoever holds the group key reads every epoch; epochs only renew the nonce space and let a
 * group start counters afresh. Without signatures any member can write as any sender index.
 */
export const MLS_LITE_VERSION = 1;
export const MLS_LITE_KEY_BYTES = 32;
export const MLS_LITE_HEADER_BYTES = 10;
export const MLS_LITE_TAG_BYTES = 16;
export const MLS_LITE_SIGNATURE_BYTES = 64;
/** Bytes a message adds to its payload: 26 unsigned, 90 signed. */
export const MLS_LITE_OVERHEAD_BYTES = MLS_LITE_HEADER_BYTES + MLS_LITE_TAG_BYTES;
export const MLS_LITE_SIGNED_OVERHEAD_BYTES = MLS_LITE_OVERHEAD_BYTES + MLS_LITE_SIGNATURE_BYTES;
export const MLS_LITE_REPLAY_WINDOW = 64;
export const MLS_LITE_MAX_COUNTER = 0xffff_ffff;
export const MLS_LITE_MAX_EPOCH = 0xffff;
export const MLS_LITE_MAX_MEMBERS = 256;
/** Largest payload: what the simulated LoRa link carries in one message, minus our overhead. */
export const MLS_LITE_MAX_PAYLOAD_BYTES = LORA_MAX_MESSAGE_BYTES - MLS_LITE_SIGNED_OVERHEAD_BYTES;

const FLAG_VERSION_MASK = 0x0f;
const FLAG_SIGNED = 0x10;
const WINDOW_MASK = (1n << BigInt(MLS_LITE_REPLAY_WINDOW)) - 1n;

interface ReplayWindow {
  /** Highest counter accepted. */
  readonly top: number;
  /** Bit i set: counter top - i was accepted. */
  readonly seen: bigint;
}

export interface MlsLiteState {
  readonly groupId: number;
  readonly epoch: number;
  readonly ownIndex: number;
  /** Next counter this member sends with. */
  readonly sendCounter: number;
  /** Public keys by sender index. When set, every received message must carry a valid signature. */
  readonly memberKeys: readonly Uint8Array[] | undefined;
  /** Secret: the pre-shared group key and the current epoch key (JS cannot promise to wipe copies). */
  readonly groupKey: Uint8Array;
  readonly epochKey: Uint8Array;
  readonly windows: ReadonlyMap<number, ReplayWindow>;
}

export interface MlsLiteOptions {
  groupKey: Uint8Array;
  /** Short group id, 0..65535: a label, not a secret. */
  groupId: number;
  ownIndex: number;
  epoch?: number;
  /** Ed25519 public keys by sender index; when given, unsigned or badly signed messages are refused. */
  memberKeys?: readonly Uint8Array[];
}

export interface MlsLiteMessage {
  senderIndex: number;
  epoch: number;
  counter: number;
  signed: boolean;
  payload: Uint8Array;
}

function checkUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) meshFail('MALFORMED', `${what} must be an integer 0..${max}`);
}

export function mlsLiteEpochKey(groupKey: Uint8Array, groupId: number, epoch: number): Uint8Array {
  if (!(groupKey instanceof Uint8Array) || groupKey.length !== MLS_LITE_KEY_BYTES) meshFail('INVALID_KEY', `group key must be ${MLS_LITE_KEY_BYTES} bytes`);
  const info = Uint8Array.of(groupId >> 8, groupId & 0xff, epoch >> 8, epoch & 0xff);
  return hkdfSha256(groupKey, utf8('qpc-mesh-v1/mls-lite'), info, MLS_LITE_KEY_BYTES);
}

export function createMlsLiteGroup(opts: MlsLiteOptions): MlsLiteState {
  checkUint(opts.groupId, 0xffff, 'group id');
  checkUint(opts.ownIndex, MLS_LITE_MAX_MEMBERS - 1, 'sender index');
  const epoch = opts.epoch ?? 0;
  checkUint(epoch, MLS_LITE_MAX_EPOCH, 'epoch');
  if (opts.memberKeys !== undefined) {
    if (opts.memberKeys.length > MLS_LITE_MAX_MEMBERS) meshFail('TOO_LARGE', `at most ${MLS_LITE_MAX_MEMBERS} members`);
    if (opts.memberKeys.some((k) => k.length !== 32)) meshFail('INVALID_KEY', 'member keys are 32-byte Ed25519 public keys');
  }
  const groupKey = opts.groupKey.slice();
  return {
    groupId: opts.groupId,
    epoch,
    ownIndex: opts.ownIndex,
    sendCounter: 0,
    memberKeys: opts.memberKeys?.map((k) => k.slice()),
    groupKey,
    epochKey: mlsLiteEpochKey(groupKey, opts.groupId, epoch),
    windows: new Map(),
  };
}

/** Moves the group to a later epoch: fresh counters and windows. Every member must do the same. */
export function advanceMlsLiteEpoch(state: MlsLiteState, epoch: number): MlsLiteState {
  checkUint(epoch, MLS_LITE_MAX_EPOCH, 'epoch');
  if (epoch <= state.epoch) meshFail('STALE_SEQUENCE', `epoch ${epoch} is not after ${state.epoch}`);
  return { ...state, epoch, sendCounter: 0, epochKey: mlsLiteEpochKey(state.groupKey, state.groupId, epoch), windows: new Map() };
}

function encodeHeader(flags: number, groupId: number, epoch: number, sender: number, counter: number): Uint8Array {
  const h = new Uint8Array(MLS_LITE_HEADER_BYTES);
  const v = new DataView(h.buffer);
  h[0] = flags;
  v.setUint16(1, groupId);
  v.setUint16(3, epoch);
  h[5] = sender;
  v.setUint32(6, counter);
  return h;
}

function nonceFor(sender: number, counter: number): Uint8Array {
  const n = new Uint8Array(12);
  n[3] = sender;
  new DataView(n.buffer).setUint32(8, counter);
  return n;
}

function signingInput(header: Uint8Array, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8('qpc-mesh-v1/mls-lite\u0000'), header, payload);
}

/** Encrypts (and, with `signer`, signs) one message; returns the next state and the wire bytes. */
export function sealMlsLite(state: MlsLiteState, payload: Uint8Array, signer?: SigningKeyPair): { state: MlsLiteState; message: Uint8Array } {
  if (payload.length > MLS_LITE_MAX_PAYLOAD_BYTES) meshFail('TOO_LARGE', `payload above ${MLS_LITE_MAX_PAYLOAD_BYTES} bytes`);
  // Counter exhaustion would reuse a nonce: the group must move to the next epoch first.
  if (state.sendCounter > MLS_LITE_MAX_COUNTER) meshFail('QUEUE_FULL', 'send counter exhausted; advance the epoch');
  if (state.memberKeys) {
    // Fail at the sender rather than have every receiver refuse the message.
    const own = state.memberKeys[state.ownIndex];
    if (!signer || !own || !constantTimeEqual(signer.publicKey, own)) meshFail('INVALID_KEY', 'this group requires a signature by our own listed member key');
  }
  const counter = state.sendCounter;
  const flags = MLS_LITE_VERSION | (signer ? FLAG_SIGNED : 0);
  const header = encodeHeader(flags, state.groupId, state.epoch, state.ownIndex, counter);
  const inner = signer ? concatBytes(sign(signer.secretKey, signingInput(header, payload)), payload) : payload;
  const sealed = cryptoProvider.chacha20Poly1305Encrypt(state.epochKey, nonceFor(state.ownIndex, counter), inner, header);
  return { state: { ...state, sendCounter: counter + 1 }, message: concatBytes(header, sealed) };
}

/** Where `counter` stands against a sender's window; throws REPLAYED / STALE_SEQUENCE. */
function checkWindow(w: ReplayWindow | undefined, counter: number): void {
  if (!w || counter > w.top) return;
  const age = w.top - counter;
  if (age >= MLS_LITE_REPLAY_WINDOW) meshFail('STALE_SEQUENCE', `counter ${counter} is older than the replay window (top ${w.top})`);
  if ((w.seen >> BigInt(age)) & 1n) meshFail('REPLAYED', `counter ${counter} was already received`);
}

function markWindow(w: ReplayWindow | undefined, counter: number): ReplayWindow {
  if (!w) return { top: counter, seen: 1n };
  if (counter > w.top) {
    const shift = counter - w.top;
    const seen = shift >= MLS_LITE_REPLAY_WINDOW ? 1n : ((w.seen << BigInt(shift)) | 1n) & WINDOW_MASK;
    return { top: counter, seen };
  }
  return { top: w.top, seen: w.seen | (1n << BigInt(w.top - counter)) };
}

/**
 * Authenticates and decrypts one message. Every failure is a MeshError: MALFORMED (framing,
 * other group), STALE_SEQUENCE (older epoch, counter below the window), REPLAYED (seen
 * counter, or our own message reflected), BAD_SIGNATURE (AEAD or signature).
 */
export function openMlsLite(state: MlsLiteState, bytes: Uint8Array): { state: MlsLiteState; message: MlsLiteMessage } {
  if (!(bytes instanceof Uint8Array)) meshFail('MALFORMED', 'expected bytes');
  if (bytes.length < MLS_LITE_OVERHEAD_BYTES) meshFail('MALFORMED', 'message shorter than header and tag');
  if (bytes.length > MLS_LITE_MAX_PAYLOAD_BYTES + MLS_LITE_SIGNED_OVERHEAD_BYTES) meshFail('TOO_LARGE', 'message above the size limit');
  const header = bytes.subarray(0, MLS_LITE_HEADER_BYTES);
  const v = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const flags = header[0]!;
  if ((flags & FLAG_VERSION_MASK) !== MLS_LITE_VERSION) meshFail('MALFORMED', `unknown MLS-Lite version ${flags & FLAG_VERSION_MASK}`);
  if ((flags & ~(FLAG_VERSION_MASK | FLAG_SIGNED)) !== 0) meshFail('MALFORMED', 'unknown flag bits');
  const signed = (flags & FLAG_SIGNED) !== 0;
  const groupId = v.getUint16(1);
  const epoch = v.getUint16(3);
  const sender = header[5]!;
  const counter = v.getUint32(6);
  if (groupId !== state.groupId) meshFail('MALFORMED', 'message for another group');
  if (epoch < state.epoch) meshFail('STALE_SEQUENCE', `epoch ${epoch} is before the current ${state.epoch}`);
  if (epoch > state.epoch) meshFail('STALE_SEQUENCE', `epoch ${epoch} is ahead of the current ${state.epoch}; advance first`);
  if (sender === state.ownIndex) meshFail('REPLAYED', 'own message reflected back');
  if (state.memberKeys && sender >= state.memberKeys.length) meshFail('MALFORMED', `sender index ${sender} is not a member`);
  if (state.memberKeys && !signed) meshFail('BAD_SIGNATURE', 'this group requires signed messages');
  if (signed && bytes.length < MLS_LITE_SIGNED_OVERHEAD_BYTES) meshFail('MALFORMED', 'signed message shorter than its signature');
  const window = state.windows.get(sender);
  checkWindow(window, counter);
  let inner: Uint8Array;
  try {
    inner = cryptoProvider.chacha20Poly1305Decrypt(state.epochKey, nonceFor(sender, counter), bytes.subarray(MLS_LITE_HEADER_BYTES), header);
  } catch (e) {
    return meshFail('BAD_SIGNATURE', 'message does not authenticate under this group key', e);
  }
  let payload = inner;
  if (signed) {
    const signature = inner.subarray(0, MLS_LITE_SIGNATURE_BYTES);
    payload = inner.slice(MLS_LITE_SIGNATURE_BYTES);
    const key = state.memberKeys?.[sender];
    // Without a member key list the signature cannot be bound to anyone: refuse rather than accept unchecked.
    if (!key) meshFail('BAD_SIGNATURE', `no public key for sender ${sender}`);
    let ok: boolean;
    try {
      ok = verify(key, signingInput(header, payload), signature);
    } catch {
      ok = false;
    }
    if (!ok) meshFail('BAD_SIGNATURE', 'sender signature does not verify');
  }
  const windows = new Map(state.windows);
  windows.set(sender, markWindow(window, counter));
  return { state: { ...state, windows }, message: { senderIndex: sender, epoch, counter, signed, payload } };
}
