/// <reference types="node" />
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import { checkStoreKey, type LocalStore } from './store.js';

const SUFFIX = '.rec';
const fileName = (key: string) => `${key.replaceAll('/', '~')}${SUFFIX}`;

/** A directory name for a username: itself when it is plain, else a hex form (never a path). */
export function userDirName(username: string): string {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(username) ? username : `u-${Buffer.from(username, 'utf8').toString('hex').slice(0, 120)}`;
}

/**
 * One file per record in a directory (mode 0700, files 0600). Writes are atomic: a temporary
 * file in the same directory, fsync, then rename over the old one (a hard link for
 * putIfAbsent), so a crash leaves either the old or the new record, never half of one.
 * Values arrive sealed (see SealedStore).
 */
export class FileStore implements LocalStore {
  private ready: Promise<void> | undefined;
  constructor(readonly dir: string) {}

  /** The store of one user under a data directory: `<dataDir>/<username>/`. */
  static forUser(dataDir: string, username: string): FileStore {
    return new FileStore(join(dataDir, userDirName(username)));
  }

  private ensure(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.ready;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkStoreKey(key);
    try {
      return new Uint8Array(await readFile(join(this.dir, fileName(key))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError('store.io', `cannot read ${key}: ${(e as Error).message}`, { cause: e });
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    checkStoreKey(key);
    await this.ensure();
    const tmp = await this.writeTemp(key, value);
    try {
      await rename(tmp, join(this.dir, fileName(key)));
    } catch (e) {
      await rm(tmp, { force: true });
      throw new StoreError('store.io', `cannot write ${key}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Like put, but a hard link instead of a rename: it fails (false) when the record exists. */
  async putIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    checkStoreKey(key);
    await this.ensure();
    const tmp = await this.writeTemp(key, value);
    try {
      await link(tmp, join(this.dir, fileName(key)));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new StoreError('store.io', `cannot write ${key}: ${(e as Error).message}`, { cause: e });
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** The value in a new temporary file of the directory, synced to disk. */
  private async writeTemp(key: string, value: Uint8Array): Promise<string> {
    const tmp = join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(value);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return tmp;
    } catch (e) {
      await rm(tmp, { force: true });
      throw new StoreError('store.io', `cannot write ${key}: ${(e as Error).message}`, { cause: e });
    }
  }

  async delete(key: string): Promise<void> {
    checkStoreKey(key);
    try {
      await unlink(join(this.dir, fileName(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError('store.io', `cannot delete ${key}: ${(e as Error).message}`, { cause: e });
    }
  }

  async list(prefix = ''): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreError('store.io', `cannot list ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
    return names
      .filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.'))
      .map((n) => n.slice(0, -SUFFIX.length).replaceAll('~', '/'))
      .filter((k) => k.startsWith(prefix))
      .sort();
  }
}
