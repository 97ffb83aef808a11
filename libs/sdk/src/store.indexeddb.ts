import { StoreError } from './errors.js';
import { checkStoreKey, type LocalStore } from './store.js';

const RECORDS = 'records';

/**
 * The IndexedDB database name for one account on one server: `qpc-store:<server origin>:<username>`.
 * The browser already keeps each page origin's databases apart; the name keeps the accounts
 * and servers used from one origin apart.
 */
export function indexedDbName(serverUrl: string, username: string): string {
  let origin: string;
  try {
    origin = new URL(serverUrl).origin;
  } catch (e) {
    throw new StoreError('store.io', `invalid server URL ${JSON.stringify(serverUrl)}`, { cause: e });
  }
  return `qpc-store:${origin}:${username}`;
}

export interface IndexedDbStoreOptions {
  /** The IndexedDB implementation; defaults to `globalThis.indexedDB`. */
  indexedDB?: IDBFactory;
}

/**
 * The browser's local store: one IndexedDB database per account and server with one object
 * store of byte records (values arrive sealed, see SealedStore). Every write is one
 * `readwrite` transaction with strict durability, resolved only when it has committed, so a
 * closed tab leaves either the old or the new record. When another tab upgrades the database
 * (`versionchange`) this connection closes at once so the upgrade is not blocked, and the next
 * call opens the database again at whatever version it has; an upgrade this store needs
 * while another tab's old connection stays open is `store.in_use`. A full quota and every
 * other IndexedDB failure are `store.io`.
 */
export class IndexedDbStore implements LocalStore {
  private conn: Promise<IDBDatabase> | undefined;
  private readonly factory: IDBFactory | undefined;

  constructor(
    readonly name: string,
    opts: IndexedDbStoreOptions = {},
  ) {
    this.factory = opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  }

  /** The store of `username` on the server at `serverUrl` (see {@link indexedDbName}). */
  static forUser(serverUrl: string, username: string, opts: IndexedDbStoreOptions = {}): IndexedDbStore {
    return new IndexedDbStore(indexedDbName(serverUrl, username), opts);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkStoreKey(key);
    const value = await this.run('readonly', `cannot read ${key}`, (s) => s.get(key));
    if (value === undefined) return undefined;
    if (!(value instanceof Uint8Array)) throw new StoreError('store.corrupt', `local store record "${key}" is not a byte record`);
    return value;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    checkStoreKey(key);
    const copy = value.slice();
    await this.run('readwrite', `cannot write ${key}`, (s) => s.put(copy, key));
  }

  async putIfAbsent(key: string, value: Uint8Array): Promise<boolean> {
    checkStoreKey(key);
    const copy = value.slice();
    // `add` fails with ConstraintError when the key exists; the failed request is handled
    // (preventDefault) so the transaction still commits, and the answer is "not created".
    let created = true;
    await this.run('readwrite', `cannot write ${key}`, (s) => {
      const req = s.add(copy, key);
      req.onerror = (ev) => {
        if (req.error?.name === 'ConstraintError') {
          created = false;
          ev.preventDefault();
          ev.stopPropagation();
        }
      };
      return req;
    });
    return created;
  }

  async delete(key: string): Promise<void> {
    checkStoreKey(key);
    await this.run('readwrite', `cannot delete ${key}`, (s) => s.delete(key));
  }

  async list(prefix = ''): Promise<string[]> {
    // Record names are ASCII, so every name starting with `prefix` sorts below prefix + U+FFFF.
    const range = prefix ? IDBKeyRange.bound(prefix, `${prefix}\uffff`) : undefined;
    const keys = await this.run('readonly', `cannot list ${this.name}`, (s) => s.getAllKeys(range));
    return keys.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix)).sort();
  }

  /** Closes the connection; a later call opens it again. */
  close(): void {
    const conn = this.conn;
    this.conn = undefined;
    void conn?.then((db) => db.close(), () => undefined);
  }

  /**
   * Closes the connection and deletes the whole database (every record of this account).
   * Other IndexedDbStore handles step aside; a tab with an older connection that does not
   * makes this `store.in_use`, and the deletion then completes once that tab closes it.
   */
  async destroy(): Promise<void> {
    this.close();
    const factory = this.requireFactory();
    await new Promise<void>((resolve, reject) => {
      const req = factory.deleteDatabase(this.name);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(ioError(`cannot delete ${this.name}`, req.error));
      req.onblocked = () => reject(new StoreError('store.in_use', `${this.name} is open in another tab; close it and try again`));
    });
  }

  /**
   * One request in its own transaction. Resolves after the transaction completed (for writes:
   * committed with strict durability), with the request's result.
   */
  private async run<T>(mode: IDBTransactionMode, what: string, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    let tx: IDBTransaction;
    let req: IDBRequest<T>;
    for (let attempt = 0; ; attempt++) {
      const db = await this.connection();
      try {
        tx = db.transaction(RECORDS, mode, { durability: mode === 'readwrite' ? 'strict' : 'default' });
        req = op(tx.objectStore(RECORDS));
        break;
      } catch (e) {
        // The connection was closed under us (another tab's upgrade, the user clearing site
        // data): open it again, once.
        if (attempt === 0 && (e as DOMException).name === 'InvalidStateError') {
          this.conn = undefined;
          continue;
        }
        throw ioError(what, e);
      }
    }
    return new Promise<T>((resolve, reject) => {
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = () => reject(ioError(what, tx.error ?? req.error));
    });
  }

  private connection(): Promise<IDBDatabase> {
    this.conn ??= this.open().catch((e: unknown) => {
      this.conn = undefined;
      throw e;
    });
    return this.conn;
  }

  private requireFactory(): IDBFactory {
    if (!this.factory) throw new StoreError('store.io', 'IndexedDB is not available here (a private window, or not a browser)');
    return this.factory;
  }

  /** Opens the database at its current version, upgrading it (version + 1) only if the records store is missing. */
  private async open(retry = true): Promise<IDBDatabase> {
    const db = await this.request();
    if (db.objectStoreNames.contains(RECORDS)) return this.watch(db);
    const next = db.version + 1;
    db.close();
    try {
      return this.watch(await this.request(next));
    } catch (e) {
      // Another tab upgraded past `next` in between (VersionError): start over, once.
      if (retry && e instanceof StoreError && (e.cause as DOMException | undefined)?.name === 'VersionError') return this.open(false);
      throw e;
    }
  }

  private request(version?: number): Promise<IDBDatabase> {
    const factory = this.requireFactory();
    return new Promise<IDBDatabase>((resolve, reject) => {
      let req: IDBOpenDBRequest;
      try {
        req = version === undefined ? factory.open(this.name) : factory.open(this.name, version);
      } catch (e) {
        reject(ioError(`cannot open ${this.name}`, e));
        return;
      }
      let gaveUp = false;
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(RECORDS)) db.createObjectStore(RECORDS);
      };
      req.onblocked = () => {
        gaveUp = true;
        reject(new StoreError('store.in_use', `the local store ${this.name} needs an upgrade that another open tab blocks; close the other tabs and try again`));
      };
      req.onsuccess = () => {
        // An open this store gave up on (blocked) may still succeed later: close it again.
        if (gaveUp) req.result.close();
        else resolve(req.result);
      };
      req.onerror = () => reject(ioError(`cannot open ${this.name}`, req.error));
    });
  }

  private watch(db: IDBDatabase): IDBDatabase {
    const forget = () => {
      if (this.conn) void this.conn.then((d) => d === db && (this.conn = undefined), () => undefined);
    };
    // Another tab wants a newer version: step aside at once, open again on the next call.
    db.onversionchange = () => {
      db.close();
      forget();
    };
    // The browser closed it (site data cleared, storage lost).
    db.onclose = forget;
    return db;
  }
}

function ioError(what: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  const name = (cause as DOMException | null)?.name;
  if (name === 'QuotaExceededError') return new StoreError('store.io', `${what}: the browser's storage quota for this site is used up`, { cause });
  const message = (cause as Error | null)?.message;
  return new StoreError('store.io', `${what}: ${name ?? 'IndexedDB error'}${message ? ` (${message})` : ''}`, { cause });
}
