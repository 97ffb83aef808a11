import * as opaque from '@serenity-kit/opaque';
import {
  addMembers,
  constantTimeEqual,
  createKeyPackage,
  createMlsGroup,
  decodeKeyPackage,
  discardPendingCommit,
  encryptMessage,
  exportGroupState,
  fromBase64Url,
  fromUtf8,
  generateSigningKeyPair,
  groupId as mlsGroupId,
  groupMembers,
  isActiveMember,
  removeMembers,
  joinFromWelcome,
  type MlsGroup,
  type MlsKeyPackageBundle,
  type MlsSuite,
  processMessage,
  restoreGroupState,
  safetyNumber,
  sha256,
  sign,
  type SigningKeyPair,
  signingKeyPairFromSeed,
  toBase64Url,
  toHex,
  updateKeys,
  utf8,
} from '@qpc/crypto';
import { decodeEnvelope, encodeEnvelope, type ConversationMeta, type Envelope, envelopeText, isConversationMeta, MAX_ENVELOPE_BYTES } from './envelope.js';
import { ApiError, StoreError } from './errors.js';
import { ApiClient, type FetchLike } from './http.js';
import { type AnswerFrame, SocketSender } from './socket-sender.js';
import { type LocalStore, SealedStore } from './store.js';
import { decodeKtLeaf, type Receipt, type SignedTreeHead, verifyLeafInclusion, verifyReceipt, verifyTreeHead } from './verify.js';

export type KeyStretching = 'rfc-draft-recommended' | 'memory-constrained';

/** The part of the WebSocket API the client uses (the browser's, or the `ws` package on Node). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror?: ((ev: unknown) => void) | null;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface QpcClientOptions {
  /** WebSocket implementation for push; defaults to globalThis.WebSocket. */
  WebSocket?: WebSocketFactory;
  baseUrl: string;
  fetch?: FetchLike;
  /** Must be the same at registration and login. Default: the library's recommendation. */
  keyStretching?: KeyStretching;
  /** The server's pinned Ed25519 key (receipts, tree heads). Fetched on first use if absent (trust on first use). */
  serverKey?: Uint8Array;
  /**
   * Local state (device identity, MLS groups, conversations, history, outbox, last sequence),
   * sealed under a key from the OPAQUE export key and restored on login. Without it, state
   * lives in memory only.
   */
  store?: LocalStore;
  /** Messages kept per conversation in the local history (default 1000). */
  historyLimit?: number;
}

export interface DeviceIdentity {
  deviceId: string;
  signing: SigningKeyPair;
}

export interface Session {
  accountId: string;
  deviceId: string;
  token: string;
}

export interface VerifiedDevice {
  deviceId: string;
  signingKey: Uint8Array;
}

export interface Conversation {
  /** The MLS group id (base64url). */
  id: string;
  /** For a DM the other person's username; for a group its chosen name. */
  name: string;
  kind: 'dm' | 'group';
  /** Usernames as last announced in the conversation. */
  members: string[];
  createdAt: string;
  /** False once this device was removed. */
  active: boolean;
}

export interface HistoryEntry {
  id: string;
  seq?: number;
  from: string;
  /** The sender's device is bound to `from` in the key transparency log (always true for own messages). */
  verified: boolean;
  type: string;
  text: string;
  body: unknown;
  sentAt: string;
  own: boolean;
}

export type IncomingEvent =
  | { kind: 'joined'; groupId: string; seq: number }
  | {
      kind: 'message';
      groupId: string;
      seq: number;
      /** The text of a `text` envelope, `[type]` for others. */
      text: string;
      type: string;
      body: unknown;
      id: string;
      sentAt: string;
      /** The sender's claimed username (empty for a payload without an envelope). */
      sender: string;
      /** The sending device belongs to `sender` by a KT-verified binding and is a member of the group. */
      verified: boolean;
      senderDeviceId?: string;
    }
  | { kind: 'conversation'; groupId: string; seq: number; conversation: Conversation }
  | { kind: 'commit'; groupId: string; seq: number; removed: boolean }
  | { kind: 'error'; groupId?: string; seq: number; code: string; message: string }
  | { kind: 'gap'; expected: number; got: number };

interface Delivery {
  deviceId: string;
  seq: number;
  receipt: Receipt;
}

interface QueuedMessage {
  seq: number;
  payload: string;
  senderDeviceId?: string;
  groupId?: string;
}

interface OutboxItem {
  groupId: string;
  clientMessageId: string;
  message: Uint8Array;
}

/** Stored forms (JSON inside the sealed store). */
interface StoredAccount {
  username: string;
  accountId: string;
  deviceId: string;
  signingSeed: string;
  token?: string;
  serverKey?: string;
}
interface StoredBundle {
  suite: MlsSuite;
  encoded: string;
  init: string;
  hpke: string;
  sig: string;
  lastResort?: boolean;
}

/** A KT or receipt check failed: the server (or the network) is not to be trusted for this answer. */
export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

export interface SubscribeOptions {
  reconnectMs?: number;
  /**
   * Connection state changes: connected after the server's `ready`, disconnected on every drop.
   * `final` is set when the server ended the session (4401) or revoked the device (4403): no reconnect follows.
   */
  onStatus?: (status: { connected: boolean; final?: 'session_ended' | 'device_revoked' }) => void;
}

const DEFAULT_HISTORY = 1000;

/**
 * The messenger client: OPAQUE account, one device identity, key package upkeep, KT-verified
 * device lookup, MLS conversations over the delivery service, receipt verification, an outbox,
 * push, and (with `store`) everything persisted sealed and restored on login.
 */
export class QpcClient {
  private api: ApiClient;
  private session: Session | undefined;
  private device: DeviceIdentity | undefined;
  private user: string | undefined;
  private serverKey: Uint8Array | undefined;
  private sealed: SealedStore | undefined;
  private groupKey: Uint8Array | undefined;
  private readonly bundles = new Map<string, MlsKeyPackageBundle>();
  private lastResortHash: string | undefined;
  private readonly groups = new Map<string, MlsGroup>();
  private readonly convs = new Map<string, Conversation>();
  private readonly histories = new Map<string, HistoryEntry[]>();
  private readonly ktCache = new Map<string, Set<string>>();
  private lastSeq = 0;
  private processing: Promise<unknown> = Promise.resolve();
  private outbox: OutboxItem[] = [];
  private readonly sent = new Map<string, Delivery[]>();
  private readonly dirty = new Set<string>();
  private saving: Promise<void> = Promise.resolve();
  private flushing: Promise<number> = Promise.resolve(0);
  /** While a push socket is ready: group messages go out on it as `send` frames, not as HTTP requests. */
  private socketSender: SocketSender | undefined;

  constructor(private readonly opts: QpcClientOptions) {
    this.api = new ApiClient({ baseUrl: opts.baseUrl, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
    this.serverKey = opts.serverKey;
  }

  get deviceId(): string | undefined {
    return this.session?.deviceId;
  }

  get identity(): DeviceIdentity | undefined {
    return this.device;
  }

  get username(): string | undefined {
    return this.user;
  }

  get accountId(): string | undefined {
    return this.session?.accountId;
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** The last delivery sequence this device processed. */
  get lastProcessedSeq(): number {
    return this.lastSeq;
  }

  private authed(): ApiClient {
    if (!this.session) throw new ApiError(401, 'auth.unauthenticated', 'not logged in');
    return this.api;
  }

  private use(session: Session): void {
    this.session = session;
    this.api = new ApiClient({ baseUrl: this.opts.baseUrl, token: session.token, ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}) });
    this.dirty.add('account');
  }

  private stretching() {
    return this.opts.keyStretching ? { keyStretching: this.opts.keyStretching } : {};
  }

  /** OPAQUE registration plus the first device; the password never leaves this function. */
  async register(username: string, password: string, deviceName = 'device'): Promise<Session> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const { registrationResponse } = await this.api.request<{ registrationResponse: string }>('POST', '/api/v1/accounts/registration/start', { username, registrationRequest });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({ password, clientRegistrationState, registrationResponse, ...this.stretching() });
    if (this.opts.store) {
      this.sealed = await SealedStore.open(this.opts.store, fromBase64Url(exportKey), username);
      this.groupKey = this.sealed.subKey('mls-group-state');
    }
    const signing = generateSigningKeyPair();
    const s = await this.api.request<Session>('POST', '/api/v1/accounts/registration/finish', { username, registrationRecord, device: { name: deviceName, signingKey: toBase64Url(signing.publicKey) } });
    this.user = username;
    this.device = { deviceId: s.deviceId, signing };
    this.use(s);
    await this.persist();
    return s;
  }

  /**
   * OPAQUE login. With `device` the session binds to that existing device (proven by its key);
   * with a store that holds this user's device, that one; else a new device is registered.
   * With a store, everything it holds (groups, conversations, outbox, last sequence) is restored.
   */
  async login(username: string, password: string, device?: DeviceIdentity, deviceName = 'device'): Promise<Session> {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const { loginId, loginResponse } = await this.api.request<{ loginId: string; loginResponse: string }>('POST', '/api/v1/sessions/start', { username, startLoginRequest });
    const fin = opaque.client.finishLogin({ clientLoginState, loginResponse, password, ...this.stretching() });
    if (!fin) throw new ApiError(401, 'auth.invalid_credentials', 'Login failed');
    let stored: StoredAccount | undefined;
    if (this.opts.store) {
      this.sealed = await SealedStore.open(this.opts.store, fromBase64Url(fin.exportKey), username);
      this.groupKey = this.sealed.subKey('mls-group-state');
      stored = await this.sealed.get<StoredAccount>('account');
      if (stored && stored.username !== username) throw new StoreError('store.corrupt', 'the local store belongs to another user');
      if (stored && !device) device = { deviceId: stored.deviceId, signing: signingKeyPairFromSeed(fromBase64Url(stored.signingSeed)) };
    }
    let s: Session;
    if (device) {
      const deviceSignature = toBase64Url(sign(device.signing.secretKey, utf8(`qpc-device-login-v1:${loginId}`)));
      s = await this.api.request<Session>('POST', '/api/v1/sessions/finish', { loginId, finishLoginRequest: fin.finishLoginRequest, deviceId: device.deviceId, deviceSignature });
      this.device = device;
    } else {
      const signing = generateSigningKeyPair();
      s = await this.api.request<Session>('POST', '/api/v1/sessions/finish', { loginId, finishLoginRequest: fin.finishLoginRequest, device: { name: deviceName, signingKey: toBase64Url(signing.publicKey) } });
      this.device = { deviceId: s.deviceId, signing };
    }
    this.user = username;
    if (stored && stored.deviceId === s.deviceId) await this.restore(stored);
    this.use(s);
    await this.persist();
    return s;
  }

  private async restore(acc: StoredAccount): Promise<void> {
    const st = this.sealed!;
    if (acc.serverKey && !this.serverKey) this.serverKey = fromBase64Url(acc.serverKey);
    this.lastSeq = (await st.get<{ lastSeq: number }>('sync'))?.lastSeq ?? 0;
    for (const b of (await st.get<StoredBundle[]>('bundles')) ?? []) {
      const encoded = fromBase64Url(b.encoded);
      const hash = toHex(sha256(encoded));
      if (b.lastResort) this.lastResortHash = hash;
      this.bundles.set(hash, {
        suite: b.suite,
        encoded,
        keyPackage: decodeKeyPackage(encoded),
        privateKeys: { initPrivateKey: fromBase64Url(b.init), hpkePrivateKey: fromBase64Url(b.hpke), signaturePrivateKey: fromBase64Url(b.sig) },
      });
    }
    for (const key of await st.list('groups/')) {
      const blob = await st.get<string>(key);
      if (!blob) continue;
      try {
        this.groups.set(key.slice('groups/'.length), restoreGroupState(fromBase64Url(blob), this.groupKey!));
      } catch (e) {
        throw new StoreError('store.corrupt', `the stored state of group ${key.slice(7)} cannot be restored: ${(e as Error).message}`, { cause: e });
      }
    }
    for (const c of (await st.get<Conversation[]>('conversations')) ?? []) this.convs.set(c.id, c);
    this.outbox = ((await st.get<{ groupId: string; clientMessageId: string; message: string }[]>('outbox')) ?? []).map((o) => ({ ...o, message: fromBase64Url(o.message) }));
  }

  /** Writes every changed record to the sealed store (no-op without one). Serialised. */
  private persist(): Promise<void> {
    const run = async () => {
      const st = this.sealed;
      if (!st) return void this.dirty.clear();
      const keys = [...this.dirty];
      this.dirty.clear();
      for (const k of keys) {
        if (k === 'account') {
          const acc: StoredAccount = { username: this.user!, accountId: this.session?.accountId ?? '', deviceId: this.device!.deviceId, signingSeed: toBase64Url(this.device!.signing.secretKey) };
          if (this.session) acc.token = this.session.token;
          if (this.serverKey) acc.serverKey = toBase64Url(this.serverKey);
          await st.put('account', acc);
        } else if (k === 'sync') await st.put('sync', { lastSeq: this.lastSeq });
        else if (k === 'bundles') {
          await st.put(
            'bundles',
            [...this.bundles].map(([hash, b]): StoredBundle => ({
              suite: b.suite,
              encoded: toBase64Url(b.encoded),
              init: toBase64Url(b.privateKeys.initPrivateKey),
              hpke: toBase64Url(b.privateKeys.hpkePrivateKey),
              sig: toBase64Url(b.privateKeys.signaturePrivateKey),
              ...(hash === this.lastResortHash ? { lastResort: true } : {}),
            })),
          );
        } else if (k === 'conversations') await st.put('conversations', [...this.convs.values()]);
        else if (k === 'outbox') await st.put('outbox', this.outbox.map((o) => ({ groupId: o.groupId, clientMessageId: o.clientMessageId, message: toBase64Url(o.message) })));
        else if (k.startsWith('groups/')) {
          const g = this.groups.get(k.slice(7));
          if (g) await st.put(k, toBase64Url(exportGroupState(g, this.groupKey!)));
          else await st.delete(k);
        } else if (k.startsWith('history/')) await st.put(k, this.histories.get(k.slice(8)) ?? []);
      }
    };
    this.saving = this.saving.then(run, run);
    return this.saving;
  }

  private setGroup(id: string, g: MlsGroup): void {
    this.groups.set(id, g);
    this.dirty.add(`groups/${id}`);
  }

  async logout(): Promise<void> {
    await this.authed().request('DELETE', '/api/v1/sessions/current');
    this.session = undefined;
  }

  /** Key package upkeep: tops the stock up to `target` when the server says it is low. */
  async replenishKeyPackages(target = 20): Promise<{ available: number; low: boolean }> {
    const status = await this.authed().request<{ available: number; lastResort: boolean; low: boolean }>('GET', '/api/v1/keys/packages/status');
    if (!status.low && status.lastResort) return status;
    const fresh: MlsKeyPackageBundle[] = [];
    for (let i = status.available; i < target; i++) fresh.push(await this.newKeyPackage());
    const lastResort = status.lastResort ? undefined : await this.newKeyPackage();
    if (lastResort) this.lastResortHash = toHex(sha256(lastResort.encoded));
    // The private halves are on disk before the server can hand the public ones out.
    await this.persist();
    return this.authed().request('POST', '/api/v1/keys/packages', {
      keyPackages: fresh.map((b) => toBase64Url(b.encoded)),
      ...(lastResort ? { lastResort: toBase64Url(lastResort.encoded) } : {}),
    });
  }

  private async newKeyPackage(keep = true): Promise<MlsKeyPackageBundle> {
    const b = await createKeyPackage(utf8(this.device!.deviceId), { signingKey: this.device!.signing });
    if (keep) {
      this.bundles.set(toHex(sha256(b.encoded)), b);
      this.dirty.add('bundles');
    }
    return b;
  }

  private async key(): Promise<Uint8Array> {
    if (!this.serverKey) {
      this.serverKey = fromBase64Url((await this.api.request<{ publicKey: string }>('GET', '/api/v1/transparency/key')).publicKey);
      this.dirty.add('account');
    }
    return this.serverKey;
  }

  /** A user's devices, each proven to be in the signed key transparency log. Unknown user: ApiError `accounts.not_found`. */
  async resolveDevices(username: string): Promise<{ accountId: string; head: SignedTreeHead; devices: VerifiedDevice[] }> {
    const r = await this.api.request<{ accountId: string; head: SignedTreeHead; devices: { deviceId: string; signingKey: string; leafIndex: number; leaf: string; proof: string[] }[] }>(
      'GET',
      `/api/v1/transparency/users/${encodeURIComponent(username)}/devices`,
    );
    if (!verifyTreeHead(await this.key(), r.head)) throw new VerificationError('tree head signature does not verify');
    const devices = r.devices.map((d) => {
      const leafBytes = fromBase64Url(d.leaf);
      const leaf = decodeKtLeaf(leafBytes);
      const signingKey = fromBase64Url(d.signingKey);
      if (leaf.kind !== 'add' || leaf.username !== username || leaf.deviceId !== d.deviceId || leaf.accountId !== r.accountId || !constantTimeEqual(leaf.signingKey, signingKey)) {
        throw new VerificationError(`KT leaf does not bind ${username}'s device ${d.deviceId}`);
      }
      if (!verifyLeafInclusion(leafBytes, d.leafIndex, r.head, d.proof)) throw new VerificationError(`device ${d.deviceId} is not in the log`);
      return { deviceId: d.deviceId, signingKey };
    });
    this.ktCache.set(username, new Set(devices.map((d) => d.deviceId)));
    return { accountId: r.accountId, head: r.head, devices };
  }

  async verifyReceipt(receipt: Receipt, payload: Uint8Array): Promise<boolean> {
    return verifyReceipt(await this.key(), receipt, payload);
  }

  /**
   * Contact verification: the user's devices proven in the KT log (signed head checked), and
   * for each a safety number over this device's key and theirs, to compare out of band.
   */
  async verifyContact(username: string): Promise<{ treeSize: number; devices: { deviceId: string; safetyNumber: string[] }[] }> {
    const r = await this.resolveDevices(username);
    const me = { publicKey: this.device!.signing.publicKey, stableId: utf8(this.user!) };
    return {
      treeSize: Number(r.head.treeSize),
      devices: r.devices.map((d) => ({ deviceId: d.deviceId, safetyNumber: safetyNumber(me, { publicKey: d.signingKey, stableId: utf8(username) }).groups })),
    };
  }

  /** The account's devices as the server lists them (revoked ones marked). */
  async listDevices(): Promise<{ deviceId: string; name: string; createdAt: string; revokedAt: string | null }[]> {
    return (await this.authed().request<{ devices: { deviceId: string; name: string; createdAt: string; revokedAt: string | null }[] }>('GET', '/api/v1/devices')).devices;
  }

  /** Revokes one of the account's devices (its tokens and queue go at once). */
  async revokeDevice(deviceId: string): Promise<void> {
    await this.authed().request('DELETE', `/api/v1/devices/${encodeURIComponent(deviceId)}`);
  }

  // ---------------------------------------------------------------------------------------
  // Conversations

  /** Creates an MLS group with this device as its first member; `meta` names it (announced to invitees). */
  createGroup(meta?: { name: string; kind?: 'dm' | 'group' }): Promise<string> {
    return this.serial(() => this.createGroupNow(meta));
  }

  private async createGroupNow(meta?: { name: string; kind?: 'dm' | 'group' }): Promise<string> {
    const g = await createMlsGroup(await this.newKeyPackage(false));
    const id = toBase64Url(mlsGroupId(g));
    await this.authed().request('POST', '/api/v1/groups', { groupId: id });
    this.setGroup(id, g);
    if (meta) {
      this.convs.set(id, { id, name: meta.name, kind: meta.kind ?? 'group', members: [this.user!], createdAt: new Date().toISOString(), active: true });
      this.dirty.add('conversations');
    }
    await this.persist();
    return id;
  }

  /** A 1:1 conversation with `username` (the existing one if there is one); also adds this user's other devices. */
  startDm(username: string): Promise<string> {
    return this.serial(() => this.startDmNow(username));
  }

  private async startDmNow(username: string): Promise<string> {
    const existing = [...this.convs.values()].find((c) => c.kind === 'dm' && c.active && c.name === username);
    if (existing) return existing.id;
    await this.resolveDevices(username);
    const id = await this.createGroupNow({ name: username, kind: 'dm' });
    await this.inviteNow(id, username);
    await this.inviteOwnDevices(id);
    return id;
  }

  /** A named group with this user (and their other devices). */
  createConversation(name: string): Promise<string> {
    return this.serial(async () => {
      const id = await this.createGroupNow({ name, kind: 'group' });
      await this.inviteOwnDevices(id);
      return id;
    });
  }

  private async inviteOwnDevices(id: string): Promise<void> {
    const { devices } = await this.resolveDevices(this.user!);
    if (devices.every((d) => d.deviceId === this.deviceId)) return;
    try {
      await this.inviteNow(id, this.user!);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'keys.none_available')) throw e;
    }
  }

  /** Conversations this device knows, newest first. */
  conversations(): Conversation[] {
    return [...this.convs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  conversation(id: string): Conversation | undefined {
    return this.convs.get(id);
  }

  /** The last `limit` messages of a conversation, oldest first. */
  async history(groupId: string, limit = 50): Promise<HistoryEntry[]> {
    return (await this.historyOf(groupId)).slice(-limit);
  }

  private async historyOf(groupId: string): Promise<HistoryEntry[]> {
    let h = this.histories.get(groupId);
    if (!h) {
      h = (await this.sealed?.get<HistoryEntry[]>(`history/${groupId}`)) ?? [];
      this.histories.set(groupId, h);
    }
    return h;
  }

  private async remember(groupId: string, e: HistoryEntry): Promise<void> {
    const h = await this.historyOf(groupId);
    h.push(e);
    const limit = this.opts.historyLimit ?? DEFAULT_HISTORY;
    if (h.length > limit) h.splice(0, h.length - limit);
    this.dirty.add(`history/${groupId}`);
  }

  private async announce(groupId: string): Promise<void> {
    const c = this.convs.get(groupId);
    if (!c) return;
    const meta: ConversationMeta = { name: c.kind === 'dm' ? '' : c.name, kind: c.kind, members: c.members };
    await this.sendEnvelopeNow(groupId, 'conversation', meta, crypto.randomUUID());
  }

  /**
   * Adds every device of `username` whose key package is signed by its KT-verified key (devices
   * already in the group are skipped). On 409 stale epoch the pending commit is dropped: sync()
   * and call again.
   */
  invite(groupId: string, username: string): Promise<Delivery[]> {
    return this.serial(() => this.inviteNow(groupId, username));
  }

  private async inviteNow(groupId: string, username: string): Promise<Delivery[]> {
    const verified = await this.resolveDevices(username);
    const g = this.group(groupId);
    const present = new Set(groupMembers(g).map((m) => fromUtf8(m.identity)));
    const claimed = await this.authed().request<{ devices: { deviceId: string; keyPackage: string | null }[] }>('POST', '/api/v1/keys/claim', { username });
    const kps: Uint8Array[] = [];
    const ids: string[] = [];
    for (const d of claimed.devices) {
      const known = verified.devices.find((v) => v.deviceId === d.deviceId);
      if (!d.keyPackage || !known || present.has(d.deviceId)) continue;
      const kp = fromBase64Url(d.keyPackage);
      if (!constantTimeEqual(decodeKeyPackage(kp).leafNode.signaturePublicKey, known.signingKey)) throw new VerificationError(`key package of ${d.deviceId} is not signed by its KT key`);
      kps.push(kp);
      ids.push(d.deviceId);
    }
    if (kps.length === 0) throw new ApiError(409, 'keys.none_available', `${username} has no device to add`);
    const c = await addMembers(g, kps);
    const r = await this.submitCommit(groupId, c.group, c.commit, { welcome: c.welcome!, addDevices: ids });
    const conv = this.convs.get(groupId);
    if (conv) {
      if (!conv.members.includes(username)) conv.members = [...conv.members, username];
      this.dirty.add('conversations');
      await this.announce(groupId);
    }
    await this.persist();
    return r;
  }

  /** Removes every device of `username` from the group (leaves found by their credential = device id). */
  removeUser(groupId: string, username: string): Promise<Delivery[]> {
    return this.serial(() => this.removeUserNow(groupId, username));
  }

  private async removeUserNow(groupId: string, username: string): Promise<Delivery[]> {
    const { devices } = await this.resolveDevices(username);
    const ids = new Set(devices.map((d) => d.deviceId));
    const g = this.group(groupId);
    const leaves = groupMembers(g).filter((m) => ids.has(fromUtf8(m.identity)));
    if (leaves.length === 0) throw new ApiError(404, 'groups.not_member', `${username} is not in this group`);
    const c = await removeMembers(g, leaves.map((l) => l.leafIndex));
    const r = await this.submitCommit(groupId, c.group, c.commit, { removeDevices: leaves.map((l) => fromUtf8(l.identity)) });
    const conv = this.convs.get(groupId);
    if (conv) {
      conv.members = conv.members.filter((m) => m !== username);
      this.dirty.add('conversations');
      await this.announce(groupId);
    }
    await this.persist();
    return r;
  }

  /** Key rotation: an empty commit with a fresh path. */
  rotateKeys(groupId: string): Promise<Delivery[]> {
    return this.serial(async () => {
      const c = await updateKeys(this.group(groupId));
      const r = await this.submitCommit(groupId, c.group, c.commit, {});
      await this.persist();
      return r;
    });
  }

  private async submitCommit(groupId: string, pending: MlsGroup, commit: Uint8Array, extra: { welcome?: Uint8Array; addDevices?: string[]; removeDevices?: string[] }): Promise<Delivery[]> {
    try {
      const r = await this.authed().request<{ deliveries: Delivery[] }>('POST', `/api/v1/groups/${groupId}/commits`, {
        clientMessageId: crypto.randomUUID(),
        commit: toBase64Url(commit),
        ...(extra.welcome ? { welcome: toBase64Url(extra.welcome) } : {}),
        ...(extra.addDevices ? { addDevices: extra.addDevices } : {}),
        ...(extra.removeDevices ? { removeDevices: extra.removeDevices } : {}),
      });
      this.setGroup(groupId, (await processMessage(pending, commit)).group);
      return r.deliveries;
    } catch (e) {
      this.setGroup(groupId, discardPendingCommit(pending));
      throw e;
    }
  }

  /**
   * Encrypts a text envelope and sends it. Offline (network failure) the message stays in the
   * outbox with its client message id and goes out on the next flushOutbox(): the server's
   * idempotency makes a resend of a message that did arrive harmless. Returns null deliveries
   * while queued.
   */
  sendText(groupId: string, text: string, clientMessageId: string = crypto.randomUUID()): Promise<{ clientMessageId: string; deliveries: Delivery[] | null }> {
    return this.sendEnvelope(groupId, 'text', text, clientMessageId);
  }

  /** Sends any payload type inside the envelope (`text` is what sendText uses). */
  sendEnvelope(groupId: string, type: string, body: unknown, clientMessageId: string = crypto.randomUUID()): Promise<{ clientMessageId: string; deliveries: Delivery[] | null }> {
    return this.serial(() => this.sendEnvelopeNow(groupId, type, body, clientMessageId));
  }

  private async sendEnvelopeNow(groupId: string, type: string, body: unknown, clientMessageId: string): Promise<{ clientMessageId: string; deliveries: Delivery[] | null }> {
    const env: Envelope = { v: 1, type, id: clientMessageId, sentAt: new Date().toISOString(), from: this.user ?? '', body };
    const bytes = encodeEnvelope(env);
    if (bytes.length > MAX_ENVELOPE_BYTES) throw new ApiError(413, 'delivery.too_large', `message is ${bytes.length} bytes, at most ${MAX_ENVELOPE_BYTES}`);
    const { group, message } = await encryptMessage(this.group(groupId), bytes);
    this.setGroup(groupId, group);
    this.outbox.push({ groupId, clientMessageId, message });
    this.dirty.add('outbox');
    if (type !== 'conversation') await this.remember(groupId, { id: clientMessageId, from: env.from, verified: true, type, text: envelopeText(env), body, sentAt: env.sentAt, own: true });
    // The advanced ratchet is stored before the ciphertext leaves, so a restart never reuses a key.
    await this.persist();
    await this.flushOutbox();
    return { clientMessageId, deliveries: this.sent.get(clientMessageId) ?? null };
  }

  /** Messages composed but not yet accepted by the server. */
  get pendingOutbox(): number {
    return this.outbox.length;
  }

  /** Sends the outbox in order; stops (keeping the rest) at the first network failure. One flush at a time. */
  flushOutbox(): Promise<number> {
    const p = this.flushing.then(
      () => this.flushNow(),
      () => this.flushNow(),
    );
    this.flushing = p.catch(() => 0);
    return p;
  }

  private async flushNow(): Promise<number> {
    let sent = 0;
    try {
      while (this.outbox.length > 0) {
        const o = this.outbox[0]!;
        let r: { deliveries: Delivery[] };
        try {
          const body = { clientMessageId: o.clientMessageId, message: toBase64Url(o.message) };
          r = this.socketSender
            ? await this.socketSender.request<{ deliveries: Delivery[] }>({ type: 'send', groupId: o.groupId, ...body })
            : await this.authed().request<{ deliveries: Delivery[] }>('POST', `/api/v1/groups/${o.groupId}/messages`, body);
        } catch (e) {
          if (e instanceof ApiError && e.code === 'network') return sent;
          this.outbox.shift();
          this.dirty.add('outbox');
          throw e;
        }
        this.outbox.shift();
        this.dirty.add('outbox');
        for (const d of r.deliveries) if (!(await this.verifyReceipt(d.receipt, o.message))) throw new VerificationError(`receipt for ${d.deviceId} does not verify`);
        this.sent.set(o.clientMessageId, r.deliveries);
        if (this.sent.size > 1000) this.sent.delete(this.sent.keys().next().value!);
        sent++;
      }
      return sent;
    } finally {
      await this.persist();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Receiving

  /**
   * Push: processes messages as the server sends them over /api/v1/ws, stores the result,
   * acks, and reconnects from the last processed sequence when the connection drops (not after
   * the server closed it for a bad session, 4401, or a revoked device, 4403). On every
   * (re)connect the outbox is flushed. While the socket is ready, the outbox goes out on it
   * (`send` frames, no HTTP request per message); a send whose answer the socket did not
   * deliver stays in the outbox for the next flush, under the same client message id.
   */
  subscribe(onEvents: (events: IncomingEvent[]) => void, opts: SubscribeOptions = {}): { close(): void; ready: Promise<void> } {
    const Ctor = this.opts.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!Ctor) throw new ApiError(0, 'network', 'no WebSocket implementation; pass options.WebSocket');
    const url = `${this.opts.baseUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/ws`;
    let stopped = false;
    let socket: WebSocketLike | undefined;
    let current: SocketSender | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let signalReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (signalReady = r));
    const connect = () => {
      timer = undefined;
      if (stopped) return;
      const ws = new Ctor(url);
      const sender = new SocketSender(ws);
      current = sender;
      socket = ws;
      ws.onerror = () => undefined; // the close that follows schedules the reconnect
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: this.session?.token, after: this.lastSeq }));
      ws.onmessage = (ev) => {
        let frame: AnswerFrame & { messages?: QueuedMessage[] };
        try {
          frame = JSON.parse(String(ev.data)) as typeof frame;
        } catch {
          return;
        }
        if (sender.answer(frame)) return;
        if (frame.type === 'ready') {
          this.socketSender = sender;
          signalReady();
          opts.onStatus?.({ connected: true });
          void this.flushOutbox().catch(() => undefined);
        }
        if (frame.type === 'keys.low') void this.replenishKeyPackages().catch(() => undefined);
        if (frame.type !== 'messages' || !frame.messages) return;
        const batch = frame.messages;
        this.serial(async () => {
          const events = await this.processBatch(batch);
          // No `acked` answer wanted: the depth is not used here.
          ws.send(JSON.stringify({ type: 'ack', upTo: this.lastSeq, reply: false }));
          if (events.length > 0) onEvents(events);
        });
      };
      ws.onclose = (ev) => {
        if (socket === ws) socket = undefined;
        sender.close();
        if (this.socketSender === sender) this.socketSender = undefined;
        if (stopped) return;
        if (ev.code === 4401 || ev.code === 4403) return opts.onStatus?.({ connected: false, final: ev.code === 4401 ? 'session_ended' : 'device_revoked' });
        opts.onStatus?.({ connected: false });
        timer = setTimeout(connect, opts.reconnectMs ?? 1000);
      };
    };
    connect();
    return {
      ready,
      close: () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        current?.close();
        if (this.socketSender === current) this.socketSender = undefined;
        socket?.close();
      },
    };
  }

  /**
   * Everything that reads and replaces an MLS group state (sending, commits, processing) runs
   * here one at a time: two interleaved steps on one state would reuse a ratchet key.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.processing.then(fn, fn);
    this.processing = p.catch(() => undefined);
    return p;
  }

  /** Fetches, processes, stores and acknowledges queued messages; reports sequence gaps. */
  sync(): Promise<IncomingEvent[]> {
    return this.serial(async () => {
      const events: IncomingEvent[] = [];
      for (;;) {
        const { messages } = await this.authed().request<{ messages: QueuedMessage[] }>('GET', '/api/v1/delivery/messages', undefined, { after: this.lastSeq, limit: 200 });
        if (messages.length === 0) return events;
        events.push(...(await this.processBatch(messages)));
        await this.authed().request('POST', '/api/v1/delivery/ack', { upTo: this.lastSeq });
      }
    });
  }

  /** Processes in order, skipping what was already processed; stores the result before the caller acks. */
  private async processBatch(batch: QueuedMessage[]): Promise<IncomingEvent[]> {
    const events: IncomingEvent[] = [];
    for (const m of batch) {
      if (m.seq <= this.lastSeq) continue;
      if (this.lastSeq > 0 && m.seq !== this.lastSeq + 1) events.push({ kind: 'gap', expected: this.lastSeq + 1, got: m.seq });
      try {
        events.push(...(await this.handle(m)));
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        events.push({ kind: 'error', seq: m.seq, code: typeof code === 'string' ? code : 'processing_failed', message: (e as Error).message, ...(m.groupId ? { groupId: m.groupId } : {}) });
      }
      this.lastSeq = m.seq;
      this.dirty.add('sync');
    }
    await this.persist();
    return events;
  }

  private async handle(m: QueuedMessage): Promise<IncomingEvent[]> {
    const bytes = fromBase64Url(m.payload);
    const gid = m.groupId;
    if (!gid) return [];
    const existing = this.groups.get(gid);
    if (!existing || !isActiveMember(existing)) {
      for (const [hash, b] of this.bundles) {
        let g: MlsGroup;
        try {
          g = await joinFromWelcome(bytes, b);
        } catch {
          continue; // not for this key package
        }
        this.setGroup(gid, g);
        // A one-time package is spent; the last-resort one may be handed out again.
        if (hash !== this.lastResortHash) {
          this.bundles.delete(hash);
          this.dirty.add('bundles');
        }
        return [{ kind: 'joined', groupId: gid, seq: m.seq }];
      }
      return [];
    }
    const r = await processMessage(existing, bytes);
    this.setGroup(gid, r.group);
    if (r.kind === 'commit') {
      if (r.removed) {
        const c = this.convs.get(gid);
        if (c) {
          c.active = false;
          this.dirty.add('conversations');
        }
      }
      return [{ kind: 'commit', groupId: gid, seq: m.seq, removed: r.removed }];
    }
    if (r.kind !== 'application') return [];
    const env = decodeEnvelope(r.plaintext, `seq-${m.seq}`);
    const verified = env.from !== '' && m.senderDeviceId !== undefined && (await this.senderIs(env.from, m.senderDeviceId, r.group));
    if (env.type === 'conversation') {
      if (!verified || !isConversationMeta(env.body)) return [];
      const meta = env.body;
      const me = this.user ?? '';
      const name = meta.kind === 'dm' ? (meta.members.find((x) => x !== me) ?? env.from) : meta.name;
      const prev = this.convs.get(gid);
      const conv: Conversation = { id: gid, name, kind: meta.kind, members: meta.members, createdAt: prev?.createdAt ?? env.sentAt, active: true };
      this.convs.set(gid, conv);
      this.dirty.add('conversations');
      return prev && prev.name === conv.name && prev.members.join() === conv.members.join() ? [] : [{ kind: 'conversation', groupId: gid, seq: m.seq, conversation: conv }];
    }
    const text = envelopeText(env);
    await this.remember(gid, { id: env.id, seq: m.seq, from: env.from, verified, type: env.type, text, body: env.body, sentAt: env.sentAt, own: false });
    return [
      {
        kind: 'message',
        groupId: gid,
        seq: m.seq,
        text,
        type: env.type,
        body: env.body,
        id: env.id,
        sentAt: env.sentAt,
        sender: env.from,
        verified,
        ...(m.senderDeviceId ? { senderDeviceId: m.senderDeviceId } : {}),
      },
    ];
  }

  /**
   * The claimed sender holds the sending device by a KT-verified binding and that device is a
   * member of the group. (The device id comes from the server's queue entry; the MLS layer
   * already proved that the ciphertext came from a member.)
   */
  private async senderIs(username: string, deviceId: string, g: MlsGroup): Promise<boolean> {
    if (!groupMembers(g).some((x) => fromUtf8(x.identity) === deviceId)) return false;
    if (this.ktCache.get(username)?.has(deviceId)) return true;
    try {
      return (await this.resolveDevices(username)).devices.some((d) => d.deviceId === deviceId);
    } catch {
      return false;
    }
  }

  private group(id: string): MlsGroup {
    const g = this.groups.get(id);
    if (!g) throw new ApiError(404, 'groups.not_found', 'not a member of this group on this device');
    return g;
  }

  /** Members of a group by device id (MLS credentials). */
  groupDeviceIds(groupId: string): string[] {
    return groupMembers(this.group(groupId)).map((m) => fromUtf8(m.identity));
  }
}
