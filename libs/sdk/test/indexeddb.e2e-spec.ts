import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeContract } from '../src/store.contract.js';
import type { QpcTestApi } from './browser/entry.js';
import { type ApiServer, bundleForBrowser, chromiumAvailability, type LaunchedBrowser, launchBrowser, type PageServer, startApiServer, startPageServer } from './harness.js';

// IndexedDbStore in real Chromium: the LocalStore contract that store.spec.ts runs for
// MemoryStore and FileStore, then what only a browser has (reloads, tabs, upgrades, quota),
// then QpcClient restored from IndexedDB against the real server.

declare global {
  interface Window {
    qpcTest: QpcTestApi;
  }
}

const browser = chromiumAvailability();
const ENTRY = fileURLToPath(new URL('./browser/entry.ts', import.meta.url));

it('has a Chromium to run in (required under CI=true)', () => {
  if (browser.kind === 'required') expect.fail(browser.reason);
  expect(['available', 'skip']).toContain(browser.kind);
});

describe.skipIf(browser.kind !== 'available')(`IndexedDbStore in Chromium${browser.kind === 'available' ? '' : ` (skipped: ${browser.reason})`}`, () => {
  let launched: LaunchedBrowser;
  let bundle: { dir: string; cleanup(): void };
  let api: ApiServer;
  let server: PageServer;
  let page: Page;
  const requested: string[] = [];

  const open = async (p?: Page): Promise<Page> => {
    const pg = p ?? (await launched.context.newPage());
    await pg.goto(server.url);
    await pg.waitForFunction(() => 'qpcTest' in window);
    return pg;
  };

  beforeAll(async () => {
    // The API server takes a while to start from source; bundle meanwhile.
    [api, bundle] = await Promise.all([startApiServer(), bundleForBrowser(ENTRY)]);
    server = await startPageServer(bundle.dir, api.url);
    launched = await launchBrowser(browser.kind === 'available' ? browser.path : '');
    launched.context.on('request', (r) => requested.push(r.url()));
    page = await open();
  });

  afterAll(async () => {
    await launched?.close();
    await server?.close();
    await api?.stop();
    bundle?.cleanup();
  });

  describe('the LocalStore contract (the cases store.spec.ts runs for MemoryStore and FileStore)', () => {
    storeContract.forEach((c, i) => {
      it(c.name, async () => {
        await page.evaluate(([name, prefix]) => window.qpcTest.runContractCase(name, prefix), [c.name, `contract-${i}`] as const);
      });
    });
  });

  it('keeps sealed records across a page reload; a wrong key is store.locked, a record edited in IndexedDB store.corrupt', async () => {
    await page.evaluate(async () => {
      const t = window.qpcTest;
      const s = await t.SealedStore.open(new t.IndexedDbStore('reload'), t.exportKey(7), 'alice');
      await s.put('conversations', [{ id: 'g1', name: 'bob' }]);
      await s.put('history/g1', ['Hallo Bob']);
    });
    await open(page); // reload: a new document, every connection closed

    const after = await page.evaluate(async () => {
      const t = window.qpcTest;
      const store = new t.IndexedDbStore('reload');
      const s = await t.SealedStore.open(store, t.exportKey(7), 'alice');
      const read = { list: await s.list(), conversations: await s.get('conversations'), history: await s.get('history/g1') };
      const wrongKey = await t.SealedStore.open(new t.IndexedDbStore('reload'), t.exportKey(8), 'alice').then(() => 'opened', t.describe);
      const raw = (await t.rawRecord('reload', 'history/g1'))!;
      const plain = new TextDecoder('latin1').decode(raw);
      raw[raw.length - 1]! ^= 1;
      await t.rawRecord('reload', 'history/g1', raw);
      const tampered = await s.get('history/g1').then(() => 'read', t.describe);
      await t.rawRecord('reload', 'conversations', 'not a byte record');
      const notBytes = await s.get('conversations').then(() => 'read', t.describe);
      return { read, wrongKey, tampered, notBytes, leaks: plain.includes('Hallo') || plain.includes('history') };
    });
    expect(after).toEqual({
      read: { list: ['conversations', 'history/g1'], conversations: [{ id: 'g1', name: 'bob' }], history: ['Hallo Bob'] },
      wrongKey: 'store.locked',
      tampered: 'store.corrupt',
      notBytes: 'store.corrupt',
      leaks: false,
    });
  });

  it('two tabs writing to one account at once: one data key, every record whole and readable from both', async () => {
    const other = await open();
    try {
      const write = (p: Page, tab: number) =>
        p.evaluate(async (tab) => {
          const t = window.qpcTest;
          const s = await t.SealedStore.open(new t.IndexedDbStore('tabs'), t.exportKey(9), 'alice');
          await Promise.all(Array.from({ length: 20 }, (_, i) => [s.put(`tab${tab}/r${i}`, { tab, i }), s.put('shared', { tab })]).flat());
        }, tab);
      await Promise.all([write(page, 1), write(other, 2)]);
      const readAll = (p: Page) =>
        p.evaluate(async () => {
          const t = window.qpcTest;
          const s = await t.SealedStore.open(new t.IndexedDbStore('tabs'), t.exportKey(9), 'alice');
          const keys = await s.list();
          const values = await Promise.all(keys.map((k) => s.get<{ tab: number; i?: number }>(k)));
          return { count: keys.length, bad: keys.filter((k, n) => k !== 'shared' && k !== `tab${values[n]!.tab}/r${values[n]!.i}`), shared: values[keys.indexOf('shared')] };
        });
      const [one, two] = await Promise.all([readAll(page), readAll(other)]);
      expect(one).toEqual(two);
      expect(one.count).toBe(41);
      expect(one.bad).toEqual([]);
      expect([1, 2]).toContain(one.shared?.tab);
    } finally {
      await other.close();
    }
  });

  it("steps aside when another tab upgrades the database and carries on; an upgrade it needs but an old tab blocks is store.in_use until that tab lets go", async () => {
    const other = await open();
    try {
      await page.evaluate(async () => {
        const s = new window.qpcTest.IndexedDbStore('upgrade');
        (window as unknown as { kept: typeof s }).kept = s;
        await s.put('a', new Uint8Array([1]));
      });
      // A newer version of the app in another tab upgrades the database (a new object store).
      const upgrade = await other.evaluate(
        () =>
          new Promise<{ blocked: boolean; version: number }>((resolve, reject) => {
            const req = indexedDB.open('upgrade', 2);
            req.onupgradeneeded = () => req.result.createObjectStore('other');
            // Blocked means the store kept its connection open: report it rather than wait.
            req.onblocked = () => resolve({ blocked: true, version: 0 });
            req.onsuccess = () => {
              req.result.close();
              resolve({ blocked: false, version: req.result.version });
            };
            req.onerror = () => reject(req.error ?? new Error('open failed'));
          }),
      );
      expect(upgrade).toEqual({ blocked: false, version: 2 });
      const carriedOn = await page.evaluate(async () => {
        const s = (window as unknown as { kept: InstanceType<QpcTestApi['IndexedDbStore']> }).kept;
        await s.put('b', new Uint8Array([2]));
        return { list: await s.list(), a: Array.from((await s.get('a'))!) };
      });
      expect(carriedOn).toEqual({ list: ['a', 'b'], a: [1] });

      // An old tab holds a database without the records store open and ignores versionchange.
      await other.evaluate(
        () =>
          new Promise<void>((resolve, reject) => {
            const req = indexedDB.open('blocked', 1);
            req.onupgradeneeded = () => req.result.createObjectStore('something-else');
            req.onsuccess = () => {
              (window as unknown as { holder: IDBDatabase }).holder = req.result;
              resolve();
            };
            req.onerror = () => reject(req.error ?? new Error('open failed'));
          }),
      );
      const first = await page.evaluate(async () => {
        const t = window.qpcTest;
        const s = new t.IndexedDbStore('blocked');
        (window as unknown as { blockedStore: typeof s }).blockedStore = s;
        return s.put('a', new Uint8Array([1])).then(() => 'written', t.describe);
      });
      expect(first).toBe('store.in_use');
      await other.evaluate(() => (window as unknown as { holder: IDBDatabase }).holder.close());
      const second = await page.evaluate(async () => {
        const s = (window as unknown as { blockedStore: InstanceType<QpcTestApi['IndexedDbStore']> }).blockedStore;
        await s.put('a', new Uint8Array([1]));
        return Array.from((await s.get('a'))!);
      });
      expect(second).toEqual([1]);
    } finally {
      await other.close();
    }
  });

  it('destroy() deletes the whole database; other handles step aside and find it empty', async () => {
    const result = await page.evaluate(async () => {
      const t = window.qpcTest;
      const [a, b] = [new t.IndexedDbStore('gone'), new t.IndexedDbStore('gone')];
      await a.put('x', new Uint8Array([1]));
      const seen = Array.from((await b.get('x'))!);
      const listed = async () => (await indexedDB.databases()).some((d) => d.name === 'gone');
      const before = await listed();
      await a.destroy();
      const after = await listed();
      return { seen, before, after, b: await b.list() };
    });
    expect(result).toEqual({ seen: [1], before: true, after: false, b: [] });
  });

  it("a write over the site's storage quota is store.io and changes nothing; smaller writes go on", async () => {
    // Chromium applies a quota override only to an origin that has not used IndexedDB yet:
    // a second origin (another port) serves the same page.
    const fresh = await startPageServer(bundle.dir);
    const tab = await launched.context.newPage();
    const cdp = await launched.context.newCDPSession(tab);
    try {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: fresh.url, quotaSize: 2 * 1024 * 1024 });
      await tab.goto(fresh.url);
      await tab.waitForFunction(() => 'qpcTest' in window);
      const result = await tab.evaluate(async () => {
        const t = window.qpcTest;
        const s = new t.IndexedDbStore('quota');
        await s.put('small', new Uint8Array([1, 2, 3]));
        const big = new Uint8Array(4 * 1024 * 1024);
        for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
        const err = await s.put('big', big).then(
          () => undefined,
          (e: unknown) => e as { code?: string; message?: string },
        );
        await s.put('after', new Uint8Array([4]));
        return { code: err?.code, message: err?.message, list: await s.list() };
      });
      expect(result).toMatchObject({ code: 'store.io', message: expect.stringMatching(/quota/), list: ['after', 'small'] });
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: fresh.url });
      await cdp.detach();
      await tab.close();
      await fresh.close();
    }
  });

  it('QpcClient restored from IndexedDB after a reload: same device, key packages, MLS groups, conversations, history and outbox', async () => {
    const before = await page.evaluate(async () => {
      const t = window.qpcTest;
      const base = location.origin;
      let offline = false;
      const flaky = (input: string, init?: RequestInit) => (offline ? Promise.reject(new TypeError('network down')) : fetch(input, init));
      const client = (user: string) => new t.QpcClient({ baseUrl: base, keyStretching: 'memory-constrained', store: t.IndexedDbStore.forUser(base, user), fetch: flaky });
      const alice = client('alice');
      const bob = client('bob');
      await alice.register('alice', 'pw-alice');
      await bob.register('bob', 'pw-bob');
      await bob.replenishKeyPackages(3);
      const dm = await alice.startDm('bob');
      const joined = (await bob.sync()).map((e) => e.kind);
      await alice.sendText(dm, 'Hello, Bob!');
      const got = (await bob.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind));
      offline = true;
      await alice.sendText(dm, 'eins');
      await alice.sendText(dm, 'zwei');
      return { dm, joined, got, alice: alice.deviceId, bob: bob.deviceId, bobSeq: bob.lastProcessedSeq, pending: alice.pendingOutbox };
    });
    expect(before).toMatchObject({ joined: ['joined', 'conversation'], got: ['Hello, Bob!'], pending: 2 });

    await open(page); // reload: nothing in memory survives, only IndexedDB

    const after = await page.evaluate(async (dm) => {
      const t = window.qpcTest;
      const base = location.origin;
      const client = (user: string) => new t.QpcClient({ baseUrl: base, keyStretching: 'memory-constrained', store: t.IndexedDbStore.forUser(base, user) });
      const alice = client('alice');
      const bob = client('bob');
      await alice.login('alice', 'pw-alice');
      await bob.login('bob', 'pw-bob');
      const restored = {
        alice: alice.deviceId,
        bob: bob.deviceId,
        bobSeq: bob.lastProcessedSeq,
        names: bob.conversations().map((c) => c.name),
        bobHistory: (await bob.history(dm)).map((h) => `${h.from}: ${h.text}`),
        pending: alice.pendingOutbox,
      };
      // The outbox goes out once, through the restored MLS group state on both sides.
      const flushed = await alice.flushOutbox();
      const offlineTexts = (await bob.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind));
      await bob.sendText(dm, 'Hi Alice');
      const reply = (await alice.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind));
      // Carol's invite uses a key package Bob uploaded before the reload: its private half came back too.
      const carol = new t.QpcClient({ baseUrl: base, keyStretching: 'memory-constrained' });
      await carol.register('carol', 'pw-carol');
      const dm2 = await carol.startDm('bob');
      await carol.sendText(dm2, 'Hallo from Carol');
      const fromCarol = (await bob.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind));
      const databases = (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('qpc-store:'));
      return { restored, flushed, offlineTexts, reply, fromCarol, databases: databases.sort() };
    }, before.dm);
    expect(after).toEqual({
      restored: { alice: before.alice, bob: before.bob, bobSeq: before.bobSeq, names: ['alice'], bobHistory: ['alice: Hello, Bob!'], pending: 2 },
      flushed: 2,
      offlineTexts: ['eins', 'zwei'],
      reply: ['Hi Alice'],
      fromCarol: ['joined', 'conversation', 'Hallo from Carol'],
      databases: [`qpc-store:${server.url}:alice`, `qpc-store:${server.url}:bob`],
    });
  });

  it('the page loaded nothing from any other host', () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !/^http:\/\/127\.0\.0\.1:\d+\//.test(u))).toEqual([]);
  });
});
