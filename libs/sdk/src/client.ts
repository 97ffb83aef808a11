import * as opaque from '@serenity-kit/opaque';
import {
  addMembers,
  constantTimeEqual,
  createKeyPackage,
  createMlsGroup,
  decodeKeyPackage,
  discardPendingCommit,
  encryptMessage,
  fromBase64Url,
  fromUtf8,
  generateSigningKeyPair,
  groupId as mlsGroupId,
  groupMembers,
  removeMembers,
  joinFromWelcome,
  type MlsGroup,
  type MlsKeyPackageBundle,
  processMessage,
  sha256,
  sign,
  type SigningKeyPair,
  toBase64Url,
  toHex,
  updateKeys,
  utf8,
} from '@qpc/crypto';
import { ApiError } from './errors.js';
import { ApiClient, type FetchLike } from './http.js';
import { decodeKtLeaf, type Receipt, type SignedTreeHead, verifyLeafInclusion, verifyReceipt, verifyTreeHead } from './verify.js';

export type KeyStretching = 'rfc-draft-recommended' | 'memory-constrained';

/** The part of the WebSocket API the client uses (the browser's, or the `ws` package on Node). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
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

export type IncomingEvent =
  | { kind: 'joined'; groupId: string; seq: number }
  | { kind: 'message'; groupId: string; seq: number; text: string; senderDeviceId?: string }
  | { kind: 'commit'; groupId: string; seq: number; removed: boolean }
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

/** A KT or receipt check failed: the server (or the network) is not to be trusted for this answer. */
export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

/**
 * The messenger client: OPAQUE account, one device identity, key package upkeep, KT-verified
 * device lookup, MLS groups over the delivery service, receipt verification.
 * State is in memory here; persisting it (sealed with the local vault) is the caller's store.
 */
export class QpcClient {
  private api: ApiClient;
  private session: Session | undefined;
  private device: DeviceIdentity | undefined;
  private serverKey: Uint8Array | undefined;
  private readonly bundles = new Map<string, MlsKeyPackageBundle>();
  private readonly groups = new Map<string, MlsGroup>();
  private lastSeq = 0;
  private processing: Promise<void> = Promise.resolve();
  private readonly outbox: { groupId: string; clientMessageId: string; message: Uint8Array }[] = [];
  private readonly sent = new Map<string, Delivery[]>();

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

  private authed(): ApiClient {
    if (!this.session) throw new ApiError(401, 'auth.unauthenticated', 'not logged in');
    return this.api;
  }

  private use(session: Session): void {
    this.session = session;
    this.api = new ApiClient({ baseUrl: this.opts.baseUrl, token: session.token, ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}) });
  }

  private stretching() {
    return this.opts.keyStretching ? { keyStretching: this.opts.keyStretching } : {};
  }

  /** OPAQUE registration plus the first device; the password never leaves this function. */
  async register(username: string, password: string, deviceName = 'device'): Promise<Session> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const { registrationResponse } = await this.api.request<{ registrationResponse: string }>('POST', '/api/v1/accounts/registration/start', { username, registrationRequest });
    const { registrationRecord } = opaque.client.finishRegistration({ password, clientRegistrationState, registrationResponse, ...this.stretching() });
    const signing = generateSigningKeyPair();
    const s = await this.api.request<Session>('POST', '/api/v1/accounts/registration/finish', { username, registrationRecord, device: { name: deviceName, signingKey: toBase64Url(signing.publicKey) } });
    this.device = { deviceId: s.deviceId, signing };
    this.use(s);
    return s;
  }

  /** OPAQUE login: with `device` the session binds to that existing device (proven by its key), else a new device is registered. */
  async login(username: string, password: string, device?: DeviceIdentity, deviceName = 'device'): Promise<Session> {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const { loginId, loginResponse } = await this.api.request<{ loginId: string; loginResponse: string }>('POST', '/api/v1/sessions/start', { username, startLoginRequest });
    const fin = opaque.client.finishLogin({ clientLoginState, loginResponse, password, ...this.stretching() });
    if (!fin) throw new ApiError(401, 'auth.invalid_credentials', 'Login failed');
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
    this.use(s);
    return s;
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
    return this.authed().request('POST', '/api/v1/keys/packages', {
      keyPackages: fresh.map((b) => toBase64Url(b.encoded)),
      ...(lastResort ? { lastResort: toBase64Url(lastResort.encoded) } : {}),
    });
  }

  private async newKeyPackage(): Promise<MlsKeyPackageBundle> {
    const b = await createKeyPackage(utf8(this.device!.deviceId), { signingKey: this.device!.signing });
    this.bundles.set(toHex(sha256(b.encoded)), b);
    return b;
  }

  private async key(): Promise<Uint8Array> {
    this.serverKey ??= fromBase64Url((await this.api.request<{ publicKey: string }>('GET', '/api/v1/transparency/key')).publicKey);
    return this.serverKey;
  }

  /** A user's devices, each proven to be in the signed key transparency log. */
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
    return { accountId: r.accountId, head: r.head, devices };
  }

  async verifyReceipt(receipt: Receipt, payload: Uint8Array): Promise<boolean> {
    return verifyReceipt(await this.key(), receipt, payload);
  }

  /** Creates an MLS group with this device as its first member. */
  async createGroup(): Promise<string> {
    const g = await createMlsGroup(await this.newKeyPackage());
    const id = toBase64Url(mlsGroupId(g));
    await this.authed().request('POST', '/api/v1/groups', { groupId: id });
    this.groups.set(id, g);
    return id;
  }

  /**
   * Adds every device of `username` whose key package is signed by its KT-verified key. On
   * 409 stale epoch the pending commit is dropped: sync() and call again.
   */
  async invite(groupId: string, username: string): Promise<Delivery[]> {
    const verified = await this.resolveDevices(username);
    const claimed = await this.authed().request<{ devices: { deviceId: string; keyPackage: string | null }[] }>('POST', '/api/v1/keys/claim', { username });
    const kps: Uint8Array[] = [];
    const ids: string[] = [];
    for (const d of claimed.devices) {
      const known = verified.devices.find((v) => v.deviceId === d.deviceId);
      if (!d.keyPackage || !known) continue;
      const kp = fromBase64Url(d.keyPackage);
      if (!constantTimeEqual(decodeKeyPackage(kp).leafNode.signaturePublicKey, known.signingKey)) throw new VerificationError(`key package of ${d.deviceId} is not signed by its KT key`);
      kps.push(kp);
      ids.push(d.deviceId);
    }
    if (kps.length === 0) throw new ApiError(409, 'keys.none_available', `${username} has no device to add`);
    const g = this.group(groupId);
    const c = await addMembers(g, kps);
    return this.submitCommit(groupId, c.group, c.commit, { welcome: c.welcome!, addDevices: ids });
  }

  /** Removes every device of `username` from the group (leaves found by their credential = device id). */
  async removeUser(groupId: string, username: string): Promise<Delivery[]> {
    const { devices } = await this.resolveDevices(username);
    const ids = new Set(devices.map((d) => d.deviceId));
    const g = this.group(groupId);
    const leaves = groupMembers(g).filter((m) => ids.has(fromUtf8(m.identity)));
    if (leaves.length === 0) throw new ApiError(404, 'groups.not_member', `${username} is not in this group`);
    const c = await removeMembers(g, leaves.map((l) => l.leafIndex));
    return this.submitCommit(groupId, c.group, c.commit, { removeDevices: leaves.map((l) => fromUtf8(l.identity)) });
  }

  /** Key rotation: an empty commit with a fresh path. */
  async rotateKeys(groupId: string): Promise<Delivery[]> {
    const c = await updateKeys(this.group(groupId));
    return this.submitCommit(groupId, c.group, c.commit, {});
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
      this.groups.set(groupId, (await processMessage(pending, commit)).group);
      return r.deliveries;
    } catch (e) {
      this.groups.set(groupId, discardPendingCommit(pending));
      throw e;
    }
  }

  /**
   * Encrypts and sends. Offline (network failure) the message stays in the outbox with its
   * client message id and goes out on the next flushOutbox(): the server's idempotency makes a
   * resend of a message that did arrive harmless. Returns null deliveries while queued.
   */
  async sendText(groupId: string, text: string, clientMessageId: string = crypto.randomUUID()): Promise<{ clientMessageId: string; deliveries: Delivery[] | null }> {
    const { group, message } = await encryptMessage(this.group(groupId), utf8(text));
    this.groups.set(groupId, group);
    this.outbox.push({ groupId, clientMessageId, message });
    await this.flushOutbox();
    return { clientMessageId, deliveries: this.sent.get(clientMessageId) ?? null };
  }

  /** Messages composed but not yet accepted by the server. */
  get pendingOutbox(): number {
    return this.outbox.length;
  }

  /** Sends the outbox in order; stops (keeping the rest) at the first network failure. */
  async flushOutbox(): Promise<number> {
    let sent = 0;
    while (this.outbox.length > 0) {
      const o = this.outbox[0]!;
      let r: { deliveries: Delivery[] };
      try {
        r = await this.authed().request<{ deliveries: Delivery[] }>('POST', `/api/v1/groups/${o.groupId}/messages`, { clientMessageId: o.clientMessageId, message: toBase64Url(o.message) });
      } catch (e) {
        if (e instanceof ApiError && e.code === 'network') return sent;
        this.outbox.shift();
        throw e;
      }
      this.outbox.shift();
      for (const d of r.deliveries) if (!(await this.verifyReceipt(d.receipt, o.message))) throw new VerificationError(`receipt for ${d.deviceId} does not verify`);
      this.sent.set(o.clientMessageId, r.deliveries);
      if (this.sent.size > 1000) this.sent.delete(this.sent.keys().next().value!);
      sent++;
    }
    return sent;
  }

  /**
   * Push: processes messages as the server sends them over /api/v1/ws, acks them, and
   * reconnects from the last processed sequence when the connection drops (not after the
   * server closed it for a bad session, 4401, or a revoked device, 4403).
   */
  subscribe(onEvents: (events: IncomingEvent[]) => void, opts: { reconnectMs?: number } = {}): { close(): void; ready: Promise<void> } {
    const Ctor = this.opts.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!Ctor) throw new ApiError(0, 'network', 'no WebSocket implementation; pass options.WebSocket');
    const url = `${this.opts.baseUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/ws`;
    let stopped = false;
    let socket: WebSocketLike | undefined;
    let signalReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (signalReady = r));
    const connect = () => {
      const ws = new Ctor(url);
      socket = ws;
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: this.session?.token, after: this.lastSeq }));
      ws.onmessage = (ev) => {
        const frame = JSON.parse(String(ev.data)) as { type: string; messages?: QueuedMessage[] };
        if (frame.type === 'ready') signalReady();
        if (frame.type !== 'messages' || !frame.messages) return;
        const batch = frame.messages;
        this.processing = this.processing.then(async () => {
          const events: IncomingEvent[] = [];
          for (const m of batch) {
            if (m.seq <= this.lastSeq) continue;
            if (this.lastSeq > 0 && m.seq !== this.lastSeq + 1) events.push({ kind: 'gap', expected: this.lastSeq + 1, got: m.seq });
            const e = await this.handle(m);
            if (e) events.push(e);
            this.lastSeq = m.seq;
          }
          ws.send(JSON.stringify({ type: 'ack', upTo: this.lastSeq }));
          if (events.length > 0) onEvents(events);
        });
      };
      ws.onclose = (ev) => {
        if (!stopped && ev.code !== 4401 && ev.code !== 4403) setTimeout(connect, opts.reconnectMs ?? 1000);
      };
    };
    connect();
    return {
      ready,
      close: () => {
        stopped = true;
        socket?.close();
      },
    };
  }

  /** Fetches, processes and acknowledges queued messages; reports sequence gaps. */
  async sync(): Promise<IncomingEvent[]> {
    const events: IncomingEvent[] = [];
    for (;;) {
      const { messages } = await this.authed().request<{ messages: QueuedMessage[] }>('GET', '/api/v1/delivery/messages', undefined, { after: this.lastSeq, limit: 200 });
      if (messages.length === 0) return events;
      for (const m of messages) {
        if (this.lastSeq > 0 && m.seq !== this.lastSeq + 1) events.push({ kind: 'gap', expected: this.lastSeq + 1, got: m.seq });
        const e = await this.handle(m);
        if (e) events.push(e);
        this.lastSeq = m.seq;
      }
      await this.authed().request('POST', '/api/v1/delivery/ack', { upTo: this.lastSeq });
    }
  }

  private async handle(m: QueuedMessage): Promise<IncomingEvent | undefined> {
    const bytes = fromBase64Url(m.payload);
    const gid = m.groupId;
    if (!gid) return undefined;
    const existing = this.groups.get(gid);
    if (!existing) {
      for (const b of this.bundles.values()) {
        try {
          this.groups.set(gid, await joinFromWelcome(bytes, b));
          return { kind: 'joined', groupId: gid, seq: m.seq };
        } catch {
          // not for this key package
        }
      }
      return undefined;
    }
    const r = await processMessage(existing, bytes);
    this.groups.set(gid, r.group);
    if (r.kind === 'application') return { kind: 'message', groupId: gid, seq: m.seq, text: fromUtf8(r.plaintext), ...(m.senderDeviceId ? { senderDeviceId: m.senderDeviceId } : {}) };
    if (r.kind === 'commit') return { kind: 'commit', groupId: gid, seq: m.seq, removed: r.removed };
    return undefined;
  }

  private group(id: string): MlsGroup {
    const g = this.groups.get(id);
    if (!g) throw new ApiError(404, 'groups.not_found', 'not a member of this group on this device');
    return g;
  }
}
