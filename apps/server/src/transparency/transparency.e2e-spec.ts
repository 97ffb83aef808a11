import { decodeKtLeaf, verifyHeadConsistency, verifyLeafInclusion, verifyTreeHead, type SignedTreeHead } from '@qpc/sdk';
import { fromBase64Url, toBase64Url } from '@qpc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { call, login, registerUser, type TestUser } from '../messenger/test-kit.js';

let t: TestApp;
let alice: TestUser;
let key: Uint8Array;
const head = async (): Promise<SignedTreeHead> => (await call(t.app, 'GET', '/api/v1/transparency/head')).json();

beforeAll(async () => {
  t = await createTestApp();
  alice = await registerUser(t.app, 'alice');
  key = fromBase64Url((await call(t.app, 'GET', '/api/v1/transparency/key')).json().publicKey);
});
afterAll(async () => {
  await t?.close();
});

describe('key transparency', () => {
  it("serves a user's device keys with inclusion proofs under a signed tree head", async () => {
    const r = (await call(t.app, 'GET', '/api/v1/transparency/users/alice/devices')).json();
    expect(verifyTreeHead(key, r.head)).toBe(true);
    expect(r.devices).toHaveLength(1);
    const d = r.devices[0];
    expect(d).toMatchObject({ deviceId: alice.deviceId, signingKey: toBase64Url(alice.signing.publicKey) });
    const leaf = decodeKtLeaf(fromBase64Url(d.leaf));
    expect(leaf).toMatchObject({ kind: 'add', username: 'alice', accountId: alice.accountId, deviceId: alice.deviceId });
    expect(verifyLeafInclusion(fromBase64Url(d.leaf), d.leafIndex, r.head, d.proof)).toBe(true);
    const tampered = fromBase64Url(d.leaf);
    tampered[tampered.length - 9]! ^= 1;
    expect(verifyLeafInclusion(tampered, d.leafIndex, r.head, d.proof)).toBe(false);
    expect(verifyTreeHead(key, { ...r.head, treeSize: r.head.treeSize + 1 })).toBe(false);
  });

  it('logs new devices and revocations; old and new heads are provably consistent', async () => {
    const h1 = await head();
    const { res } = await login(t.app, 'alice', alice.password);
    const second = res!.json();
    await call(t.app, 'DELETE', `/api/v1/devices/${second.deviceId}`, undefined, alice.token);
    await registerUser(t.app, 'bob');
    const h2 = await head();
    expect(h2.treeSize).toBe(h1.treeSize + 3);
    expect(verifyTreeHead(key, h2)).toBe(true);
    const c = (await call(t.app, 'GET', `/api/v1/transparency/consistency?first=${h1.treeSize}&second=${h2.treeSize}`)).json();
    expect(verifyHeadConsistency(h1, h2, c.proof)).toBe(true);
    expect(verifyHeadConsistency({ ...h1, rootHash: h2.rootHash }, h2, c.proof)).toBe(false);

    const revoked = (await call(t.app, 'GET', `/api/v1/transparency/inclusion?index=${h1.treeSize + 1}&treeSize=${h2.treeSize}`)).json();
    expect(decodeKtLeaf(fromBase64Url(revoked.leaf))).toMatchObject({ kind: 'revoke', deviceId: second.deviceId });
    expect(verifyLeafInclusion(fromBase64Url(revoked.leaf), revoked.index, h2, revoked.proof)).toBe(true);

    const devices = (await call(t.app, 'GET', '/api/v1/transparency/users/alice/devices')).json().devices;
    expect(devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([alice.deviceId]);
  });

  it('bad ranges and unknown users are problems', async () => {
    const h = await head();
    const r = await call(t.app, 'GET', `/api/v1/transparency/consistency?first=1&second=${h.treeSize + 5}`);
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('transparency.bad_range');
    expect((await call(t.app, 'GET', '/api/v1/transparency/users/nobody/devices')).json().code).toBe('accounts.not_found');
  });
});
