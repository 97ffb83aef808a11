import { Inject, Injectable } from '@nestjs/common';
import { MerkleLog, sign } from '@qpc/crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { toB64url } from '../common/bytes.js';
import { Clock } from '../common/clock.js';
import { ServerError } from '../common/server-error.js';
import { ServerSecrets } from '../secrets/server-secrets.js';
import { encodeKtLeaf, type KtEntry, treeHeadInput } from './kt-encoding.js';

// Any constant; serialises appends so leaf indices are dense and in commit order.
const KT_APPEND_LOCK = 74_117_002;

export interface SignedTreeHead {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  signature: string;
}

export interface DeviceProof {
  deviceId: string;
  signingKey: string;
  leafIndex: number;
  leaf: string;
  proof: string[];
}

/**
 * Key transparency: an append-only RFC 9162 Merkle log of device bindings and revocations.
 * Rows are the truth; the in-memory tree follows them (other instances append too).
 */
@Injectable()
export class TransparencyService {
  private readonly log = new MerkleLog();
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ServerSecrets) private readonly secrets: ServerSecrets,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** Appends inside the caller's transaction: the binding and its log entry commit together. */
  async append(m: EntityManager, e: Omit<KtEntry, 'timeMs' | 'username'>): Promise<number> {
    await m.query(`SELECT pg_advisory_xact_lock($1)`, [KT_APPEND_LOCK]);
    const users: { username: string }[] = await m.query(`SELECT username FROM account WHERE id = $1`, [e.accountId]);
    const [{ n }] = (await m.query(`SELECT coalesce(max(idx) + 1, 0)::int AS n FROM kt_leaf`)) as [{ n: number }];
    const data = encodeKtLeaf({ ...e, username: users[0]!.username, timeMs: this.clock.now() });
    await m.query(`INSERT INTO kt_leaf (idx, device_id, kind, data, created_at) VALUES ($1, $2, $3, $4, $5)`, [n, e.deviceId, e.kind, Buffer.from(data), new Date(this.clock.now())]);
    return n;
  }

  /** Brings the in-memory tree up to the committed rows (one sync at a time). */
  private sync(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      const rows: { data: Buffer }[] = await this.ds.query(`SELECT data FROM kt_leaf WHERE idx >= $1 ORDER BY idx`, [this.log.size]);
      for (const r of rows) this.log.append(new Uint8Array(r.data));
    });
    return this.syncing;
  }

  async head(): Promise<SignedTreeHead> {
    await this.sync();
    return this.signHead(this.log.size);
  }

  private signHead(size: number): SignedTreeHead {
    const now = this.clock.now();
    const root = this.log.root(size);
    return {
      treeSize: size,
      rootHash: toB64url(root),
      timestamp: new Date(now).toISOString(),
      signature: toB64url(sign(this.secrets.signing.secretKey, treeHeadInput(size, now, root))),
    };
  }

  async consistency(first: number, second: number): Promise<{ first: number; second: number; proof: string[] }> {
    await this.sync();
    if (first > second || second > this.log.size) throw new ServerError('transparency.bad_range', 400, `Need first <= second <= ${this.log.size}`);
    return { first, second, proof: this.log.consistencyProof(first, second).map(toB64url) };
  }

  async inclusion(index: number, treeSize: number): Promise<{ index: number; treeSize: number; leaf: string; proof: string[] }> {
    await this.sync();
    if (index >= treeSize || treeSize > this.log.size) throw new ServerError('transparency.bad_range', 400, `Need index < treeSize <= ${this.log.size}`);
    const rows: { data: Buffer }[] = await this.ds.query(`SELECT data FROM kt_leaf WHERE idx = $1`, [index]);
    return { index, treeSize, leaf: toB64url(rows[0]!.data), proof: this.log.inclusionProof(index, treeSize).map(toB64url) };
  }

  /** A user's active devices, each with the inclusion proof of its binding under one signed head. */
  async userDevices(username: string): Promise<{ accountId: string; head: SignedTreeHead; devices: DeviceProof[] }> {
    const acc: { id: string }[] = await this.ds.query(`SELECT id FROM account WHERE username = $1`, [username]);
    if (!acc[0]) throw new ServerError('accounts.not_found', 404, 'No such user');
    const rows: { id: string; signing_key: Buffer; idx: string; data: Buffer }[] = await this.ds.query(
      `SELECT d.id, d.signing_key, k.idx, k.data FROM device d JOIN kt_leaf k ON k.device_id = d.id AND k.kind = 'add'
       WHERE d.account_id = $1 AND d.revoked_at IS NULL ORDER BY d.created_at, d.id`,
      [acc[0].id],
    );
    await this.sync();
    const head = this.signHead(this.log.size);
    return {
      accountId: acc[0].id,
      head,
      devices: rows.map((r) => ({
        deviceId: r.id,
        signingKey: toB64url(r.signing_key),
        leafIndex: Number(r.idx),
        leaf: toB64url(r.data),
        proof: this.log.inclusionProof(Number(r.idx), head.treeSize).map(toB64url),
      })),
    };
  }

  publicKey(): { publicKey: string; algorithm: 'Ed25519' } {
    return { publicKey: toB64url(this.secrets.signing.publicKey), algorithm: 'Ed25519' };
  }
}
