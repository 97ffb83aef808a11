import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '@qpc/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { StoreError } from './errors.js';
import { FileStore, userDirName } from './store.node.js';
import { MemoryStore, SealedStore } from './store.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'qpc-store-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('SealedStore', () => {
  it('round-trips records and reopens with the same export key; another key is store.locked', async () => {
    const inner = new MemoryStore();
    const key = randomBytes(64);
    const s = await SealedStore.open(inner, key, 'alice');
    await s.put('conversations', [{ id: 'g1', name: 'bob' }]);
    await s.put('history/g1', ['hallo']);
    expect(await s.list()).toEqual(['conversations', 'history/g1']);
    const again = await SealedStore.open(inner, key, 'alice');
    expect(await again.get('conversations')).toEqual([{ id: 'g1', name: 'bob' }]);
    expect(await again.get('missing')).toBeUndefined();
    await expect(SealedStore.open(inner, randomBytes(64), 'alice')).rejects.toMatchObject({ code: 'store.locked' });
    await expect(SealedStore.open(inner, key, 'mallory')).rejects.toMatchObject({ code: 'store.locked' });
  });

  it('stores ciphertext only', async () => {
    const inner = new MemoryStore();
    const s = await SealedStore.open(inner, randomBytes(64), 'alice');
    await s.put('history/g1', ['a very secret sentence']);
    const raw = Buffer.from((await inner.get('history/g1'))!).toString('latin1');
    expect(raw).not.toContain('secret');
  });

  it('a damaged record or one copied over another is store.corrupt, not a crash', async () => {
    const inner = new MemoryStore();
    const s = await SealedStore.open(inner, randomBytes(64), 'alice');
    await s.put('a', 1);
    await s.put('b', 2);
    const blob = (await inner.get('a'))!;
    blob[blob.length - 1]! ^= 1;
    await inner.put('a', blob);
    await expect(s.get('a')).rejects.toMatchObject({ name: 'StoreError', code: 'store.corrupt' });
    await inner.put('a', (await inner.get('b'))!);
    await expect(s.get('a')).rejects.toThrow(/holds another record/);
    await inner.put('keyring', new Uint8Array(10));
    await expect(SealedStore.open(inner, randomBytes(64), 'alice')).rejects.toMatchObject({ code: 'store.corrupt' });
  });

  it('rejects record names that could escape a directory or hide a file', async () => {
    const stores = [new MemoryStore(), new FileStore(tmp())];
    for (const s of stores) {
      for (const bad of ['', '../x', 'a/../b', '.hidden', 'a b', 'a//b', 'x'.repeat(201)]) await expect(s.put(bad, new Uint8Array(1))).rejects.toBeInstanceOf(StoreError);
      await s.put('groups/a-b_c.d', new Uint8Array(1));
      expect(await s.list()).toEqual(['groups/a-b_c.d']);
    }
  });
});

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
