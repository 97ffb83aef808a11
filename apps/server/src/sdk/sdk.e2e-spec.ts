import type { AddressInfo } from 'node:net';
import { QpcClient, VerificationError } from '@qpc/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';

let t: TestApp;
let baseUrl: string;
const client = () => new QpcClient({ baseUrl, keyStretching: 'memory-constrained' });

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
});

describe('QpcClient against a real server', () => {
  it('Alice and Bob: register, stock key packages, KT-verified invite, messages both ways with verified receipts, key rotation', async () => {
    const alice = client();
    const bob = client();
    await alice.register('alice', 'correct horse', 'laptop');
    await bob.register('bob', 'battery staple', 'phone');
    expect((await bob.replenishKeyPackages(5)).available).toBe(5);

    const devices = await alice.resolveDevices('bob');
    expect(devices.devices.map((d) => d.deviceId)).toEqual([bob.deviceId]);

    const gid = await alice.createGroup();
    const added = await alice.invite(gid, 'bob');
    expect(added).toHaveLength(1);
    expect(await bob.sync()).toEqual([expect.objectContaining({ kind: 'joined', groupId: gid })]);

    await alice.sendText(gid, 'Hallo Bob');
    await alice.sendText(gid, 'Wie geht es?');
    const got = await bob.sync();
    expect(got.map((e) => (e.kind === 'message' ? e.text : e.kind))).toEqual(['Hallo Bob', 'Wie geht es?']);

    await bob.sendText(gid, 'Gut, danke');
    expect((await alice.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind))).toEqual(['Gut, danke']);

    await bob.rotateKeys(gid);
    expect((await alice.sync()).map((e) => e.kind)).toEqual(['commit']);
    await alice.sendText(gid, 'after rotation');
    expect((await bob.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind))).toEqual(['after rotation']);
  });

  it('logs in again on the same device and rejects a wrong password', async () => {
    const a = client();
    await a.register('carol', 'pw one');
    const again = client();
    await again.login('carol', 'pw one', a.identity);
    expect(again.deviceId).toBe(a.deviceId);
    await expect(client().login('carol', 'wrong')).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
  });

  it('a wrong pinned server key fails KT verification', async () => {
    const d = client();
    await d.register('dave', 'pw');
    const pinned = new QpcClient({ baseUrl, keyStretching: 'memory-constrained', serverKey: new Uint8Array(32).fill(7) });
    await expect(pinned.resolveDevices('dave')).rejects.toBeInstanceOf(VerificationError);
  });
});
