// The LocalStore contract: one list of cases every store implementation passes. Plain
// TypeScript with its own small assertions (no test framework, no Node built-ins) so the
// same cases run under vitest for MemoryStore and FileStore (store.spec.ts) and inside a
// real browser page for IndexedDbStore (libs/sdk/test/indexeddb.e2e-spec.ts).
import { StoreError, type StoreErrorCode } from './errors.js';
import { type LocalStore, SealedStore } from './store.js';

/** Storage under test. `open()` gives a new handle on the same storage: another tab, another process. */
export interface StoreBacking {
  open(): LocalStore;
}

export interface StoreContractCase {
  name: string;
  /** `fresh()` creates new, empty storage. Throws on the first broken expectation. */
  run(fresh: () => Promise<StoreBacking>): Promise<void>;
}

class ContractFailure extends Error {
  override name = 'ContractFailure';
}

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new ContractFailure(what);
}

const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? `bytes[${Array.from(x).join(',')}]` : x));

function equal(actual: unknown, expected: unknown, what: string): void {
  check(show(actual) === show(expected), `${what}: expected ${show(expected)}, got ${show(actual)}`);
}

async function rejects(p: Promise<unknown>, code: StoreErrorCode, what: string, message?: RegExp): Promise<void> {
  let outcome: unknown = 'resolved';
  try {
    await p;
  } catch (e) {
    outcome = e;
  }
  const ok = outcome instanceof StoreError && outcome.code === code && (!message || message.test(outcome.message));
  check(ok, `${what}: expected StoreError ${code}${message ? ` matching ${String(message)}` : ''}, got ${outcome instanceof Error ? `${outcome.name} ${(outcome as StoreError).code ?? ''}: ${outcome.message}` : String(outcome)}`);
}

const bytes = (...v: number[]) => new Uint8Array(v);
const exportKey = (seed: number) => new Uint8Array(64).map((_, i) => (i * 31 + seed) & 0xff);
const latin1 = (b: Uint8Array) => Array.from(b, (c) => String.fromCharCode(c)).join('');

export const storeContract: StoreContractCase[] = [
  {
    name: 'round-trips byte records, lists by prefix (sorted), deletes idempotently and hands out copies',
    async run(fresh) {
      const s = (await fresh()).open();
      equal(await s.get('missing'), undefined, 'a missing record');
      equal(await s.list(), [], 'an empty store lists nothing');
      await s.put('groups/b', bytes(1, 2, 3));
      await s.put('groups/a', bytes(4));
      await s.put('groupsx', bytes(5));
      await s.put('sync', bytes(9));
      await s.put('groups/b', bytes(6, 7));
      equal(await s.get('groups/b'), bytes(6, 7), 'an overwritten record');
      equal(await s.list(), ['groups/a', 'groups/b', 'groupsx', 'sync'], 'list()');
      equal(await s.list('groups/'), ['groups/a', 'groups/b'], "list('groups/')");
      const got = (await s.get('groups/a'))!;
      got[0] = 99;
      const written = bytes(8);
      await s.put('held', written);
      written[0] = 0;
      equal(await s.get('groups/a'), bytes(4), 'a record after its returned copy was changed');
      equal(await s.get('held'), bytes(8), 'a record after the caller changed the array it wrote');
      await s.delete('sync');
      await s.delete('sync');
      await s.delete('never-there');
      equal(await s.list(), ['groups/a', 'groups/b', 'groupsx', 'held'], 'list() after deletes');
      equal(await s.get('sync'), undefined, 'a deleted record');
      await s.put('empty', new Uint8Array(0));
      equal(await s.get('empty'), new Uint8Array(0), 'an empty record');
    },
  },
  {
    name: 'rejects record names that could escape a directory or hide a file; 200 characters is the limit',
    async run(fresh) {
      const s = (await fresh()).open();
      for (const bad of ['', '../x', 'a/../b', '.hidden', 'a b', 'a//b', 'a/', 'ä', 'x'.repeat(201)]) {
        await rejects(s.put(bad, bytes(1)), 'store.invalid_key', `put(${JSON.stringify(bad)})`);
        await rejects(s.get(bad), 'store.invalid_key', `get(${JSON.stringify(bad)})`);
      }
      await s.put('groups/a-b_c.d', bytes(1));
      await s.put('x'.repeat(200), bytes(2));
      equal(await s.list(), ['groups/a-b_c.d', 'x'.repeat(200)], 'the names accepted');
    },
  },
  {
    name: 'writes are visible to a second handle on the same storage, and putIfAbsent never overwrites',
    async run(fresh) {
      const backing = await fresh();
      const a = backing.open();
      await a.put('account', bytes(1, 2));
      const b = backing.open();
      equal(await b.get('account'), bytes(1, 2), 'a record written through another handle');
      if (a.putIfAbsent) {
        equal(await a.putIfAbsent('keyring', bytes(3)), true, 'putIfAbsent of a new record');
        equal(await b.putIfAbsent!('keyring', bytes(4)), false, 'putIfAbsent of an existing record');
        equal(await b.get('keyring'), bytes(3), 'the record putIfAbsent refused to replace');
      }
      await b.delete('account');
      equal(await a.get('account'), undefined, 'a record deleted through another handle');
    },
  },
  {
    name: 'two handles writing at once: every record lands whole, one record written by both ends as one of the writes',
    async run(fresh) {
      const backing = await fresh();
      const [a, b] = [backing.open(), backing.open()];
      const writes = (s: LocalStore, tag: number) =>
        Array.from({ length: 25 }, (_, i) => [s.put(`w${tag}/r${String(i).padStart(2, '0')}`, new Uint8Array(512).fill(tag * 100 + i)), s.put('shared', new Uint8Array(4096).fill(tag))]).flat();
      await Promise.all([...writes(a, 1), ...writes(b, 2)]);
      const keys = await a.list();
      equal(keys.length, 51, 'records after concurrent writes');
      for (const tag of [1, 2])
        for (let i = 0; i < 25; i++) {
          const v = (await b.get(`w${tag}/r${String(i).padStart(2, '0')}`))!;
          check(v.length === 512 && v.every((x) => x === tag * 100 + i), `record w${tag}/r${i} is whole`);
        }
      const shared = (await a.get('shared'))!;
      check(shared.length === 4096 && (shared.every((x) => x === 1) || shared.every((x) => x === 2)), 'the shared record is one whole write');
    },
  },
  {
    name: 'SealedStore round-trips records and reopens with the same export key; another key or user is store.locked',
    async run(fresh) {
      const backing = await fresh();
      const s = await SealedStore.open(backing.open(), exportKey(1), 'alice');
      await s.put('conversations', [{ id: 'g1', name: 'bob' }]);
      await s.put('history/g1', ['hallo']);
      equal(await s.list(), ['conversations', 'history/g1'], 'sealed list() hides the key record');
      const again = await SealedStore.open(backing.open(), exportKey(1), 'alice');
      equal(await again.get('conversations'), [{ id: 'g1', name: 'bob' }], 'a record after reopening');
      equal(await again.get('missing'), undefined, 'a missing sealed record');
      await rejects(SealedStore.open(backing.open(), exportKey(2), 'alice'), 'store.locked', 'another export key');
      await rejects(SealedStore.open(backing.open(), exportKey(1), 'mallory'), 'store.locked', 'another user');
    },
  },
  {
    name: 'SealedStore writes ciphertext only',
    async run(fresh) {
      const inner = (await fresh()).open();
      const s = await SealedStore.open(inner, exportKey(3), 'alice');
      await s.put('history/g1', ['a very secret sentence']);
      const raw = latin1((await inner.get('history/g1'))!);
      check(!raw.includes('secret') && !raw.includes('history'), 'the stored bytes show neither the text nor the record name');
    },
  },
  {
    name: 'a tampered, truncated or swapped record is store.corrupt, and so is a damaged key record; never a crash',
    async run(fresh) {
      const backing = await fresh();
      const inner = backing.open();
      const s = await SealedStore.open(inner, exportKey(4), 'alice');
      await s.put('a', 1);
      await s.put('b', 2);
      const blob = (await inner.get('a'))!;
      blob[blob.length - 1]! ^= 1;
      await inner.put('a', blob);
      await rejects(s.get('a'), 'store.corrupt', 'a record with one bit flipped');
      await inner.put('a', blob.subarray(0, 20));
      await rejects(s.get('a'), 'store.corrupt', 'a truncated record');
      await inner.put('a', (await inner.get('b'))!);
      await rejects(s.get('a'), 'store.corrupt', 'a record copied over another', /holds another record/);
      equal(await s.get('b'), 2, 'an intact record beside damaged ones');
      await inner.put('keyring', new Uint8Array(10));
      await rejects(SealedStore.open(backing.open(), exportKey(4), 'alice'), 'store.corrupt', 'a damaged key record');
    },
  },
  {
    name: 'two handles opening a new sealed store at once agree on one data key',
    async run(fresh) {
      const backing = await fresh();
      const [a, b] = await Promise.all([SealedStore.open(backing.open(), exportKey(5), 'alice'), SealedStore.open(backing.open(), exportKey(5), 'alice')]);
      await a.put('from-a', 'A');
      await b.put('from-b', 'B');
      equal([await b.get('from-a'), await a.get('from-b')], ['A', 'B'], 'each reads what the other wrote');
    },
  },
];
