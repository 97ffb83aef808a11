import { randomUUID } from 'node:crypto';
import { toBase64Url, utf8 } from '@qpc/crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { IDEMPOTENCY_WINDOW_MS } from '../delivery/delivery.service.js';
import { call, registerUser } from '../messenger/test-kit.js';
import { Metrics } from '../metrics/metrics.js';
import { AUTOVACUUM_RUNS_SQL } from './vacuum.js';

// The server vacuums the tables every message churns (queued_message, queue_head; send_key after a
// prune) when the database does not: DB_VACUUM=auto|on|off, DB_VACUUM_AFTER_ROWS. Observed from
// outside: the database's own vacuum counters, and the qpc_db_vacuums_total metric.

const AFTER_ROWS = 100;
let t: TestApp | undefined;
let appClosed = false;

afterEach(async () => {
  // The app is stopped inside churn(); if an assertion failed before that, stop it here.
  if (t && !appClosed) await t.app.close();
  await t?.db.close();
  t = undefined;
});

/** Sends `n` sealed messages to a fresh user's one device, acks them all, then stops the app (which waits for a vacuum in flight). */
async function churn(env: Record<string, string>, n: number) {
  t = await createTestApp({ DB_VACUUM_AFTER_ROWS: String(AFTER_ROWS), ...env });
  appClosed = false;
  const bob = await registerUser(t.app, 'bob');
  const token = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, bob.token)).json().deliveryToken as string;
  let last = 0;
  for (let i = 0; i < n; i++) {
    const res = await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: token, clientMessageId: randomUUID(), payload: toBase64Url(utf8(`message ${i}`)) });
    expect(res.statusCode).toBe(201);
    last = res.json().deliveries[0].seq as number;
  }
  expect((await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: last }, bob.token)).json()).toEqual({ depth: 0 });
  return stopAndCount(t);
}

/** Stops the app (which waits for a vacuum in flight), then reads the vacuums it counted and the database's own counters. */
async function stopAndCount(app: TestApp) {
  const metrics = app.app.get(Metrics);
  const logs = app.logs;
  await app.app.close();
  appClosed = true;
  const vacuums = (await metrics.vacuums.get()).values.filter((v) => v.labels.result === 'ok').reduce((s, v) => s + v.value, 0);
  const client = new pg.Client({ connectionString: app.db.url });
  await client.connect();
  try {
    const stats = await client.query<{ relname: string; vacuum_count: string }>(
      `SELECT relname, vacuum_count FROM pg_stat_user_tables WHERE relname IN ('queued_message', 'queue_head', 'send_key') ORDER BY relname`,
    );
    const autovacuum = await client.query<{ runs: boolean }>(AUTOVACUUM_RUNS_SQL);
    return {
      vacuums,
      counts: Object.fromEntries(stats.rows.map((r) => [r.relname, Number(r.vacuum_count)])),
      databaseVacuums: autovacuum.rows[0]!.runs,
      line: logs.find((l) => l.context === 'vacuum')?.msg,
    };
  } finally {
    await client.end();
  }
}

describe('vacuum of the churned tables', () => {
  it('DB_VACUUM=on vacuums the queue tables once DB_VACUUM_AFTER_ROWS of their rows have died', async () => {
    // 150 messages: a queued_message row and a queue_head version each; 100 of them pass the
    // threshold once. send_key rows die only at the prune (a week later), so it is not vacuumed.
    const r = await churn({ DB_VACUUM: 'on' }, 150);
    expect(r.line).toMatch(/vacuuming queued_message, queue_head, send_key every 100 dead rows \(DB_VACUUM=on\)/);
    expect(r.vacuums).toBeGreaterThanOrEqual(1);
    expect(r.counts.queued_message).toBeGreaterThanOrEqual(1);
    expect(r.counts.queue_head).toBeGreaterThanOrEqual(1);
    expect(r.counts.send_key).toBe(0);
  });

  it('DB_VACUUM=on waits for the threshold: fewer rows than DB_VACUUM_AFTER_ROWS start no vacuum', async () => {
    const r = await churn({ DB_VACUUM: 'on' }, AFTER_ROWS / 2);
    expect(r.vacuums).toBe(0);
    expect(r.counts.queued_message).toBe(0);
  });

  it('DB_VACUUM=off leaves every vacuum to the database', async () => {
    const r = await churn({ DB_VACUUM: 'off' }, 150);
    expect(r.line).toMatch(/left to the database's autovacuum \(DB_VACUUM=off\)/);
    expect(r.vacuums).toBe(0);
    expect(r.counts.queued_message).toBe(0);
  });

  it('DB_VACUUM=auto (the default) vacuums exactly when the database runs no autovacuum', async () => {
    const r = await churn({}, 150);
    expect(r.line).toMatch(r.databaseVacuums ? /left to the database's autovacuum \(DB_VACUUM=auto\)/ : /vacuuming .* \(DB_VACUUM=auto\)/);
    expect(r.vacuums > 0).toBe(!r.databaseVacuums);
  });

  it('DB_VACUUM=on vacuums send_key once the prune has deleted DB_VACUUM_AFTER_ROWS expired idempotency keys', async () => {
    // The prune runs every 1 000th send and deletes the keys older than the idempotency window:
    // 1 000 sends, a window later 1 000 more, and the 2 000th send's prune deletes the first 1 000.
    const clock = new TestClock(Date.parse('2026-03-02T09:00:00Z'));
    t = await createTestApp({ DB_VACUUM: 'on', DB_VACUUM_AFTER_ROWS: String(AFTER_ROWS), DELIVERY_RATE_PER_MIN: '1000000' }, { clock });
    appClosed = false;
    const bob = await registerUser(t.app, 'bob');
    const token = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, bob.token)).json().deliveryToken as string;
    const ds = t.app.get(DataSource);
    const sendKeys = async () => Number(((await ds.query(`SELECT count(*) AS n FROM send_key`)) as { n: string }[])[0]!.n);
    // A vacuum reports to the statistics at once (not at the end of a transaction).
    const sendKeyVacuums = async () => Number(((await ds.query(`SELECT vacuum_count AS n FROM pg_stat_user_tables WHERE relname = 'send_key'`)) as { n: string }[])[0]!.n);
    const send = async (i: number) => {
      const res = await call(t!.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: token, clientMessageId: randomUUID(), payload: toBase64Url(utf8(`message ${i}`)) });
      expect(res.statusCode).toBe(201);
    };
    for (let i = 0; i < 1000; i++) await send(i);
    // The 1 000th send's prune found no key old enough: nothing died in send_key.
    expect(await sendKeys()).toBe(1000);
    expect(await sendKeyVacuums()).toBe(0);
    clock.advance(IDEMPOTENCY_WINDOW_MS + 60_000);
    for (let i = 1000; i < 2000; i++) await send(i);
    // The prune and then the vacuum run beside the 2 000th send; the test waits for the vacuum's count.
    for (let i = 0; i < 400 && (await sendKeyVacuums()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await sendKeyVacuums()).toBe(1);
    expect(await sendKeys()).toBe(1000);
    const r = await stopAndCount(t);
    expect(r.counts.send_key).toBe(1);
  }, 120_000);
});
