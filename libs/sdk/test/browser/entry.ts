// The page side of the IndexedDB store tests: bundled for the browser (vite) and served by
// ../indexeddb.e2e-spec.ts. It exposes the SDK and the shared LocalStore contract on
// `window.qpcTest`; the spec drives them with page.evaluate.
import { IndexedDbStore, MemoryStore, QpcClient, SealedStore, StoreError, indexedDbName } from '../../src/index.js';
import { storeContract } from '../../src/store.contract.js';

/** Raw IndexedDB access, for tampering with stored records the way another program could. */
function rawDb(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('open failed'));
  });
}

async function rawRecord(name: string, key: string, value?: unknown): Promise<Uint8Array | undefined> {
  const db = await rawDb(name);
  try {
    return await new Promise<Uint8Array | undefined>((resolve, reject) => {
      const tx = db.transaction('records', value !== undefined ? 'readwrite' : 'readonly');
      const req = value !== undefined ? tx.objectStore('records').put(value, key) : tx.objectStore('records').get(key);
      tx.oncomplete = () => resolve(value !== undefined ? undefined : (req.result as Uint8Array | undefined));
      tx.onabort = () => reject(tx.error ?? new Error('aborted'));
    });
  } finally {
    db.close();
  }
}

const api = {
  IndexedDbStore,
  MemoryStore,
  QpcClient,
  SealedStore,
  StoreError,
  indexedDbName,
  contractCases: storeContract.map((c) => c.name),
  /** Runs one contract case; every `fresh()` is a new database named `<prefix>-<n>`. */
  async runContractCase(name: string, prefix: string): Promise<void> {
    const c = storeContract.find((x) => x.name === name);
    if (!c) throw new Error(`no contract case ${name}`);
    let n = 0;
    await c.run(async () => {
      const db = `${prefix}-${n++}`;
      return { open: () => new IndexedDbStore(db) };
    });
  },
  exportKey: (seed: number) => new Uint8Array(64).fill(seed),
  rawRecord,
  rawDb,
  /** The error's code when it is a StoreError, else its name and message. */
  describe(e: unknown): string {
    if (e instanceof StoreError) return e.code;
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  },
};

export type QpcTestApi = typeof api;
(window as unknown as { qpcTest: QpcTestApi }).qpcTest = api;
document.title = 'qpc-test ready';
