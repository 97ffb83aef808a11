// npm run bench -- delivery [--clients N] [--seconds S] [--pool N] [--stock N] [--open-rate N] [--vias http,ws] [--profile out.cpuprofile]
// Messenger delivery of the real server (createApp on a fresh database: embedded PGlite, or
// PostgreSQL when DATABASE_URL is set), with N sender/recipient pairs in 1:1 MLS groups. The
// clients run in a child process (HTTP + WebSocket over 127.0.0.1), so they do not share the
// server's event loop. In one run:
//   (a) raw `pg` baseline: per message one transaction taking the queue's next sequence and
//       inserting the row, then the ack's delete — the database work of a delivery, nothing else,
//       same N workers, as many connections as the server's pool;
//   (b) sustained messages/s through send -> WebSocket push -> ack, each pair with one message
//       in flight (closed loop); target: >= 60 % of (a);
//   (c) enqueue-to-push latency p50/p99 at half of (b), sent open-loop at a fixed rate;
//       target: p99 < 25 ms.
// (b) and (c) run twice: senders using POST /groups/:id/messages, then senders using a `send`
// frame on their own push socket (the same server code behind both; no HTTP request per message).
// Setup (accounts, devices, groups, and --stock MLS application messages per pair, encrypted in
// order) is not measured: the clients' MLS encryption is their cost, not the delivery system's.
// Each send carries the pair's next pre-encrypted message; recipients ack without decrypting, and
// afterwards the messages pushed to pair 0 in (b) are decrypted in order by its recipient's MLS
// state to prove they are real. DB_VACUUM in the environment goes to the server (default auto).
// The server runs in this process: with the V8 settings of its own main.ts.
import '../../apps/server/src/v8-flags.js';
import { fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { addMembers, createKeyPackage, createMlsGroup, encryptMessage, fromBase64Url, joinFromWelcome, type MlsGroup, groupId as mlsGroupId, processMessage, toBase64Url, utf8 } from '@qpc/crypto';
import { createApp } from '../../apps/server/src/app.js';
import { createLogger } from '../../apps/server/src/common/logger.js';
import { loadConfig } from '../../apps/server/src/config/config.js';
import { Metrics } from '../../apps/server/src/metrics/metrics.js';
import { migrate, openDataSource } from '../../apps/server/src/database/data-source.js';
import { freshDatabase } from './_db.js';
import { call, registerUser } from '../../apps/server/src/messenger/test-kit.js';
import type { LoadRequest, LoadResult, Pair, Via } from './delivery-load.js';
import { fmtMs, fullGc, intArg, percentile, row, watchProcess } from './_util.js';

const CLIENTS = intArg('clients', 16);
const SECONDS = intArg('seconds', 6);
const POOL = intArg('pool', 10);
/** Pre-encrypted messages per pair (every send a new ciphertext until they run out; reuses are reported). */
const STOCK = intArg('stock', 2000);
/** (c)'s rate in messages/s for every path (0: half of that path's (b), the target's load). */
const OPEN_RATE = intArg('open-rate', 0);
/** Plaintext size of the MLS application message every send carries. */
const MESSAGE_BYTES = 1024;
/** (b) and (c) run once per way of sending. */
const VIAS: readonly Via[] = viasArg();

/** `--vias http,ws` (the default): which ways of sending run, in this order (later phases meet a database that has churned longer). */
function viasArg(): Via[] {
  const i = process.argv.indexOf('--vias');
  if (i < 0) return ['http', 'ws'];
  const v = (process.argv[i + 1] ?? '').split(',');
  if (v.length === 0 || !v.every((x): x is Via => x === 'http' || x === 'ws')) {
    console.error('--vias needs a comma-separated list of http and ws');
    process.exit(2);
  }
  return v;
}

/** Message k of pair i: recognisable after decryption. */
function plaintext(i: number, k: number): Uint8Array {
  const out = new Uint8Array(MESSAGE_BYTES).fill(42);
  out.set(utf8(`pair ${i} message ${k}`));
  return out;
}

/** With --profile FILE: a CPU profile of the server process during (b), for finding the cost. */
async function startProfile(): Promise<{ stop(): Promise<void> } | undefined> {
  const i = process.argv.indexOf('--profile');
  const file = i >= 0 ? process.argv[i + 1] : undefined;
  if (!file) return undefined;
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const runStart = performance.now();
  console.log(`delivery benchmark: ${CLIENTS} sender/recipient pairs, ${SECONDS} s per phase, server pool ${POOL}, ${MESSAGE_BYTES} B messages`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);

  let t0 = performance.now();
  const db = await freshDatabase('delivery');
  // The rate limit is per sending device and far below what one bench pair sends.
  // Migrated beforehand (the boot-time migration needs two connections; the pool may have one).
  const mig = await openDataSource(db.url, 2);
  await migrate(mig);
  await mig.destroy();
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', DB_POOL_SIZE: String(POOL), DB_MIGRATE: 'false', DELIVERY_RATE_PER_MIN: '100000000', DB_VACUUM: process.env.DB_VACUUM ?? 'auto' });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const { app } = await createApp({ config, databaseUrl: db.url, logger: createLogger(config.LOG_LEVEL, sink) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  console.log(`server: createApp on a fresh ${db.backend}, listening on 127.0.0.1, up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const child = fork(fileURLToPath(new URL('./delivery-load.ts', import.meta.url)), [], { stdio: 'inherit' });
  const load = (req: LoadRequest) =>
    new Promise<LoadResult>((resolve, reject) => {
      const died = (code: number | null) => reject(new Error(`the load process exited (${code})`));
      child.once('exit', died);
      child.once('message', (r) => {
        child.off('exit', died);
        resolve(r as LoadResult);
      });
      child.send(req);
    });

  try {
    // -- setup: pairs in 1:1 MLS groups --
    t0 = performance.now();
    const pairs: Pair[] = [];
    let sampleRecipient: MlsGroup | undefined;
    for (let i = 0; i < CLIENTS; i++) {
      const [s, r] = [await registerUser(app, `sender${i}`), await registerUser(app, `recipient${i}`)];
      let g = await createMlsGroup(await createKeyPackage(utf8(s.deviceId), { signingKey: s.signing }));
      const gid = toBase64Url(mlsGroupId(g));
      await call(app, 'POST', '/api/v1/groups', { groupId: gid }, s.token);
      const rKp = await createKeyPackage(utf8(r.deviceId), { signingKey: r.signing });
      const add = await addMembers(g, [rKp.encoded]);
      const res = await call(app, 'POST', `/api/v1/groups/${gid}/commits`, { clientMessageId: crypto.randomUUID(), commit: toBase64Url(add.commit), welcome: toBase64Url(add.welcome!), addDevices: [r.deviceId] }, s.token);
      if (res.statusCode !== 201) throw new Error(`setup commit: ${res.statusCode} ${res.body}`);
      g = (await processMessage(add.group, add.commit)).group;
      await call(app, 'POST', '/api/v1/delivery/ack', { upTo: 1 }, r.token);
      if (i === 0) sampleRecipient = await joinFromWelcome(add.welcome!, rKp);
      const messages: string[] = [];
      for (let k = 0; k < STOCK; k++) {
        const e = await encryptMessage(g, plaintext(i, k));
        g = e.group;
        messages.push(toBase64Url(e.message));
      }
      pairs.push({ senderToken: s.token, recipientToken: r.token, senderDeviceId: s.deviceId, recipientDeviceId: r.deviceId, groupId: gid, groupIdBytes: gid, messages });
    }
    console.log(
      `setup: ${CLIENTS * 2} accounts (OPAQUE), ${CLIENTS} groups, ${CLIENTS} x ${STOCK} messages encrypted, ${fmtMs(performance.now() - t0)} ms (not measured); message ${Buffer.from(pairs[0]!.messages[0]!, 'base64url').length} B ciphertext`,
    );

    const ms = SECONDS * 1000;
    await load({ kind: 'pairs', pairs });
    // The server shares this process: keep only pair 0's stock (for the decryption check), not
    // megabytes of ciphertext on its heap.
    const sampleStock = pairs[0]!.messages;
    for (const p of pairs) p.messages = [];
    // The setup's MLS work (thousands of encryptions) leaves hundreds of MB of garbage on this
    // process's heap, which V8 would collect only late; until then every young-generation GC
    // of the server is slower. A server that has been running has no such heap: collect it now.
    fullGc();
    // Warm-up of the raw path (JIT, connections), not counted; each server path warms up before its own runs.
    await load({ kind: 'raw', databaseUrl: db.url, ms: 1000, poolSize: POOL });

    let cpu = process.cpuUsage();
    const rawRes = await load({ kind: 'raw', databaseUrl: db.url, ms, poolSize: POOL });
    const rawCpu = process.cpuUsage(cpu);
    const rawRate = (rawRes.messages / rawRes.ms) * 1000;
    // (b) and (c) once per way of sending: HTTP requests, and `send` frames on the sender's socket.
    const runs: { via: Via; closed: LoadResult; closedCpu: NodeJS.CpuUsage; rate: number; open: LoadResult; half: number; stalls: string }[] = [];
    for (const via of VIAS) {
      await load({ kind: 'closed', port, ms: 1000, via });
      cpu = process.cpuUsage();
      const profiler = via === VIAS[0] ? await startProfile() : undefined;
      const closed = await load({ kind: 'closed', port, ms, via });
      await profiler?.stop();
      const closedCpu = process.cpuUsage(cpu);
      const rate = (closed.messages / closed.ms) * 1000;
      const half = OPEN_RATE > 0 ? OPEN_RATE : Math.max(1, Math.floor(rate / 2));
      const watch = watchProcess();
      const open = await load({ kind: 'open', port, ms, ratePerSec: half, via });
      runs.push({ via, closed, closedCpu, rate, open, half, stalls: watch.stop() });
    }
    for (const [name, r] of [['raw', rawRes] as const, ...runs.flatMap((x) => [[`closed ${x.via}`, x.closed] as const, [`open ${x.via}`, x.open] as const])]) {
      if (r.errors.length > 0) console.log(`  ${name} errors: ${r.errors.join(' | ')}`);
    }

    // The pushed messages are real: pair 0's recipient decrypts its stock in order up to the last
    // message pushed to it in (b), and every pushed one is the plaintext its sender encrypted.
    const sample = runs.flatMap((x) => x.closed.sample ?? []);
    const last = Math.max(-1, ...sample.filter((k) => k < STOCK));
    let decrypted = 0;
    let wrong = sample.filter((k) => k < 0).length;
    let rg = sampleRecipient!;
    const pushedSet = new Set(sample);
    for (let k = 0; k <= last; k++) {
      const r = await processMessage(rg, fromBase64Url(sampleStock[k]!));
      if (r.kind !== 'application') throw new Error(`sample: message ${k} is a ${r.kind}`);
      rg = r.group;
      if (!pushedSet.has(k)) continue;
      decrypted++;
      if (Buffer.compare(Buffer.from(r.plaintext), Buffer.from(plaintext(0, k))) !== 0) wrong++;
    }
    const reused = Math.max(0, ...runs.flatMap((x) => [x.open.reused ?? 0, x.closed.reused ?? 0]));
    console.log(`\nsample: ${sample.length} messages pushed to pair 0 in (b); ${decrypted} decrypted by its recipient to the sent plaintext, ${wrong} wrong`);
    console.log(`stock: ${reused === 0 ? 'every send carried a new ciphertext' : `${reused} sends reused a ciphertext (raise --stock)`}`);
    if (wrong > 0 || decrypted === 0) throw new Error('the sample did not decrypt to what was sent');

    const W = [72, 14, 24];
    const sendVia = (via: Via) => (via === 'http' ? 'POST /groups/:id/messages' : "'send' frame on the sender's socket");
    console.log(`\n${row(['', 'messages/s', 'enqueue->push p50 / p99'], W)}`);
    console.log(row([`(a) raw pg: tx(next seq + insert), ack delete; ${CLIENTS} workers, ${POOL} conns`, rawRate.toFixed(0), '-'], W));
    for (const x of runs) {
      const closedLat = [...x.closed.latencies].sort((a, b) => a - b);
      const lat = [...x.open.latencies].sort((a, b) => a - b);
      console.log(row([`(b) server, ${sendVia(x.via)}: send -> push -> ack, ${CLIENTS} pairs, 1 in flight each`, x.rate.toFixed(0), `${fmtMs(percentile(closedLat, 50))} / ${fmtMs(percentile(closedLat, 99))} ms`], W));
      console.log(
        row([`(c) the same at ${OPEN_RATE > 0 ? '--open-rate' : 'half of (b)'}: ${x.half}/s open loop, ${x.open.messages} sent, ${lat.length} pushed`, ((x.open.messages / x.open.ms) * 1000).toFixed(0), `${fmtMs(percentile(lat, 50))} / ${fmtMs(percentile(lat, 99))} ms`], W),
      );
    }
    for (const x of runs) {
      console.log(`during (c), ${x.via}: server process ${x.stalls}`);
      console.log(`during (c), ${x.via}: client process ${x.open.stalls ?? '-'}`);
    }
    const perMsg = (c: NodeJS.CpuUsage, n: number) => fmtMs((c.user + c.system) / 1000 / Math.max(1, n));
    const clientPerMsg = (r: LoadResult) => fmtMs((r.cpuMs ?? NaN) / Math.max(1, r.messages));
    console.log(`\nCPU per message: (a) raw pg client ${clientPerMsg(rawRes)} ms, server process ${perMsg(rawCpu, rawRes.messages)} ms (PGlite's share, if embedded)`);
    for (const x of runs) console.log(`                 (b) ${x.via.padEnd(4)} clients ${clientPerMsg(x.closed)} ms, server process ${perMsg(x.closedCpu, x.closed.messages)} ms`);
    const vacuums = (await app.get(Metrics).vacuums.get()).values.reduce((n, v) => n + v.value, 0);
    console.log(`vacuum of the churned tables by the server (DB_VACUUM=${config.DB_VACUUM}): ${vacuums} during the run`);
    console.log(`\ntargets`);
    for (const x of runs) {
      const ratio = x.rate / rawRate;
      const lat = [...x.open.latencies].sort((a, b) => a - b);
      const p99 = percentile(lat, 99);
      console.log(`  ${x.via}: sustained >= 60% of raw database rate: ${(ratio * 100).toFixed(1)}% (${x.rate.toFixed(0)}/s vs ${rawRate.toFixed(0)}/s) -> ${ratio >= 0.6 ? 'PASS' : 'MISS'}`);
      if (OPEN_RATE > 0) console.log(`  ${x.via}: p99 enqueue->push at --open-rate ${OPEN_RATE}/s: ${fmtMs(p99)} ms (not the target's load: no verdict)`);
      else console.log(`  ${x.via}: p99 enqueue->push < 25 ms at half load: ${fmtMs(p99)} ms -> ${p99 < 25 && lat.length === x.open.messages ? 'PASS' : 'MISS'}`);
    }
    console.log(`total run ${((performance.now() - runStart) / 1000).toFixed(0)} s`);
  } finally {
    child.kill();
    await app.close();
    await db.close();
  }
}

await main();
