import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '@qpc/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { FileStore, userDirName } from './store.node.js';
import { type StoreBacking, storeContract } from './store.contract.js';
import { MemoryStore, SealedStore } from './store.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'qpc-store-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// The same cases run against IndexedDbStore in Chromium (libs/sdk/test/indexeddb.e2e-spec.ts).
const backings: [string, () => Promise<StoreBacking>][] = [
  [
    'MemoryStore',
    async () => {
      const m = new MemoryStore();
      return { open: () => m };
    },
  ],
  [
    'FileStore',
    async () => {
      const dir = tmp();
      return { open: () => new FileStore(dir) };
    },
  ],
];
for (const [kind, fresh] of backings) {
  describe(`LocalStore contract: ${kind}`, () => {
    for (const c of storeContract) it(c.name, () => c.run(fresh));
  });
}

describe('FileStore', () => {
  it('writes one 0600 file per record in a 0700 directory per user, atomically, and lists and deletes', async () => {
    const data = tmp();
    const fs = FileStore.forUser(data, 'alice');
    await fs.put('groups/abc', new Uint8Array([1, 2, 3]));
    await fs.put('groups/abc', new Uint8Array([4, 5]));
    await fs.put('sync', new Uint8Array([9]));
    expect(await fs.get('groups/abc')).toEqual(new Uint8Array([4, 5]));
    expect(await fs.list('groups/')).toEqual(['groups/abc']);
    expect(statSync(join(data, 'alice')).mode & 0o777).toBe(0o700);
    expect(statSync(join(data, 'alice', 'sync.rec')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(data, 'alice')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    await fs.delete('sync');
    await fs.delete('sync');
    expect(await fs.list()).toEqual(['groups/abc']);
    expect(await FileStore.forUser(data, 'nobody').list()).toEqual([]);
  });

  it('a truncated file under a sealed store gives store.corrupt', async () => {
    const data = tmp();
    const key = randomBytes(64);
    const s = await SealedStore.open(FileStore.forUser(data, 'bob'), key, 'bob');
    await s.put('conversations', [1, 2, 3]);
    const file = join(data, 'bob', 'conversations.rec');
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    await expect((await SealedStore.open(FileStore.forUser(data, 'bob'), key, 'bob')).get('conversations')).rejects.toMatchObject({ code: 'store.corrupt' });
  });

  it('user directory names are never paths', () => {
    expect(userDirName('alice')).toBe('alice');
    expect(userDirName('../etc')).toMatch(/^u-[0-9a-f]+$/);
    expect(userDirName('a/b')).toMatch(/^u-/);
  });
});

describe('envelope', () => {
  it('round-trips and treats raw text from older clients as text', () => {
    const e = { v: 1 as const, type: 'text', id: 'x', sentAt: '2026-01-01T00:00:00.000Z', from: 'alice', body: 'Hallo' };
    expect(decodeEnvelope(encodeEnvelope(e), 'f')).toEqual(e);
    expect(decodeEnvelope(new TextEncoder().encode('just text'), 'f')).toMatchObject({ type: 'text', body: 'just text', from: '', id: 'f' });
    expect(decodeEnvelope(new TextEncoder().encode('{"v":2}'), 'f')).toMatchObject({ type: 'text', body: '{"v":2}' });
  });
});
