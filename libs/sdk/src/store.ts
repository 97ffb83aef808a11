import { CryptoError, decryptVault, encryptVault, fromUtf8, hkdfSha256, randomBytes, utf8, zeroize, type VaultParams } from '@qpc/crypto';
import { StoreError } from './errors.js';

/**
 * Where the SDK keeps its local state: small named records of bytes. The SDK never writes
 * plaintext here; it goes through {@link SealedStore}. Implementations: {@link MemoryStore}
 * (tests, ephemeral sessions), `IndexedDbStore` (the browser, a database per account and
 * server), `FileStore` from `@qpc/sdk/node` (a directory per user).
 */
export interface LocalStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  /**
   * Writes the record only if there is none under `key`, atomically; false if one exists.
   * Two tabs or processes opening a new store at once then agree on one data key. Optional:
   * without it the store's first open is a plain put.
   */
  putIfAbsent?(key: string, value: Uint8Array): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix?: string): Promise<string[]>;
}

/** Record names: `/`-separated segments of letters, digits and `._-`, none starting with a dot; at most 200 characters. */
export const STORE_KEY_PATTERN = /^(?=.{1,200}$)[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

export function checkStoreKey(key: string): void {
  if (typeof key !== 'string' || !STORE_KEY_PATTERN.test(key)) throw new StoreError('store.invalid_key', `invalid store key ${JSON.stringify(key)}`);
}

export class MemoryStore implements LocalStore {
  private readonly records = new Map<string, Uint8Array>();
  async get(key: string): Promise<Uint8Array | undefined> {
    checkStoreKey(key);
    return this.records.get(key)?.slice();
  }
  async put(key: string, value: Uint8Array): Promise<void> {
    checkStoreKey(key);
    this.records.set(key, value.slice());
  }
  async putIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    checkStoreKey(key);
    if (this.records.has(key)) return false;
    this.records.set(key, value.slice());
    return true;
  }
  async delete(key: string): Promise<void> {
    this.records.delete(key);
  }
  async list(prefix = ''): Promise<string[]> {
    return [...this.records.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

/**
 * Vault cost for records: the vault's input here is a 256-bit key, not a password, so a
 * memory-hard stretch buys nothing; the smallest Argon2id setting keeps each record cheap.
 */
const RECORD_PARAMS: VaultParams = { m: 8, t: 1, p: 1 };
const KEYRING = 'keyring';
const STORE_INFO = 'qpc-local-store-v1';

/**
 * Every record sealed with the local vault (XChaCha20-Poly1305) under a random data key; the
 * data key is itself sealed under a key derived (HKDF) from the user's OPAQUE export key, so
 * only the password (through a successful OPAQUE login) opens the store and the password is
 * never stored. Each record carries its own name inside the ciphertext: a record copied over
 * another one is detected.
 */
export class SealedStore {
  private constructor(
    private readonly inner: LocalStore,
    private readonly dataKey: Uint8Array,
  ) {}

  /**
   * Opens (or, when empty, initialises) the store of `username` with the OPAQUE export key.
   * A different export key (another password, another account) is `store.locked`; a damaged
   * key record is `store.corrupt`.
   */
  static async open(inner: LocalStore, exportKey: Uint8Array, username: string): Promise<SealedStore> {
    const wrapKey = hkdfSha256(exportKey, utf8(STORE_INFO), utf8(`keyring:${username}`), 32);
    try {
      let blob = await read(inner, KEYRING);
      if (!blob) {
        const dataKey = randomBytes(32);
        const sealed = await encryptVault(wrapKey, dataKey, { params: RECORD_PARAMS });
        const create = inner.putIfAbsent?.bind(inner);
        if (!create) {
          await write(inner, KEYRING, sealed);
          return new SealedStore(inner, dataKey);
        }
        if (await wrap(() => create(KEYRING, sealed))) return new SealedStore(inner, dataKey);
        // Another tab or process created the store in between: use its data key.
        zeroize(dataKey);
        blob = await read(inner, KEYRING);
        if (!blob) throw new StoreError('store.io', "the local store's key record vanished while it was being opened");
      }
      let dataKey: Uint8Array;
      try {
        dataKey = await decryptVault(wrapKey, blob);
      } catch (e) {
        if (e instanceof CryptoError && e.code === 'WRONG_PASSWORD') throw new StoreError('store.locked', 'this local store belongs to another password or account (or its key record is damaged)', { cause: e });
        throw new StoreError('store.corrupt', `the local store's key record is damaged: ${(e as Error).message}`, { cause: e });
      }
      if (dataKey.length !== 32) throw new StoreError('store.corrupt', "the local store's key record is damaged");
      return new SealedStore(inner, dataKey);
    } finally {
      zeroize(wrapKey);
    }
  }

  /** A key for something that brings its own sealing (MLS group state), bound to this store. */
  subKey(purpose: string): Uint8Array {
    return hkdfSha256(this.dataKey, utf8(STORE_INFO), utf8(`sub:${purpose}`), 32);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const blob = await read(this.inner, key);
    if (!blob) return undefined;
    let plain: Uint8Array;
    try {
      plain = await decryptVault(this.dataKey, blob);
    } catch (e) {
      throw new StoreError('store.corrupt', `local store record "${key}" is damaged and cannot be opened`, { cause: e });
    }
    let rec: { k?: unknown; v?: unknown };
    try {
      rec = JSON.parse(fromUtf8(plain)) as { k?: unknown; v?: unknown };
    } catch (e) {
      throw new StoreError('store.corrupt', `local store record "${key}" is damaged`, { cause: e });
    }
    if (rec.k !== key) throw new StoreError('store.corrupt', `local store record "${key}" holds another record`);
    return rec.v as T;
  }

  async put(key: string, value: unknown): Promise<void> {
    const plain = utf8(JSON.stringify({ k: key, v: value }));
    await write(this.inner, key, await encryptVault(this.dataKey, plain, { params: RECORD_PARAMS }));
    zeroize(plain);
  }

  async delete(key: string): Promise<void> {
    await wrap(() => this.inner.delete(key));
  }

  async list(prefix = ''): Promise<string[]> {
    return (await wrap(() => this.inner.list(prefix))).filter((k) => k !== KEYRING);
  }

  /** Best effort in JS: overwrites the data key this object holds. */
  close(): void {
    zeroize(this.dataKey);
  }
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError('store.io', `local store: ${(e as Error).message}`, { cause: e });
  }
}
const read = (s: LocalStore, k: string) => wrap(() => s.get(k));
const write = (s: LocalStore, k: string, v: Uint8Array) => wrap(() => s.put(k, v));
