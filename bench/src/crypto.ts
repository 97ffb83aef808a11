// npm run bench -- crypto [--quick]
// @qpc/crypto beside the raw library beneath it, in one run:
//   Ed25519 sign/verify vs raw node:crypto (and noble, the pure-JS fallback)
//   X-Wing HPKE seal/open vs raw @hpke/core
//   MLS encrypt/decrypt and add/update commits at 2, 16, 64, 256 members vs raw ts-mls;
//   encrypt/decrypt also vs raw ts-mls given the wrapper's suite object (the wrapper's own cost)
// Ratios are cost ratios (wrapper time / raw time), medians of paired per-op timings; target <= 1.15.
import { sign as nodeSign, verify as nodeVerify, createPrivateKey, createPublicKey } from 'node:crypto';
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { XWing } from '@hpke/hybridkem-x-wing';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  createApplicationMessage,
  createCommit,
  decodeMlsMessage,
  emptyPskIndex,
  encodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  processPrivateMessage,
  type ClientState,
  type Proposal,
} from 'ts-mls';
import * as qc from '@qpc/crypto';
import { fmtMs, row, time } from './_util.js';

const quick = process.argv.includes('--quick');
const W = [30, 13, 13, 7, 16];
const results: { name: string; ratio: number; lo: number; hi: number }[] = [];

// Paired measurement. The machine this runs on is shared and loaded, so the two sides are
// never timed in separate blocks: each round runs the wrapper and the raw library op by op,
// alternately (the order flips every op and every round), and every op is timed on its own.
// Figures are medians of those op times, so a load spike or a GC pause costs one op, not a
// whole block. The row prints median(ours) / median(raw) over all ops, and the lowest and
// highest of the same ratio taken round by round (how much the load moved it).
interface PairedOpts {
  rounds: number;
  /** Op pairs per round; or a time budget per round from which it is derived. */
  perRound?: number;
  roundMs?: number;
  warmup?: number;
}
interface Paired {
  ours: number;
  base: number;
  ratio: number;
  lo: number;
  hi: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function paired(ours: () => unknown, base: () => unknown, o: PairedOpts): Promise<Paired> {
  let per = o.perRound ?? 0;
  const warm = o.warmup ?? 2;
  const t0 = performance.now();
  for (let i = 0; i < warm; i++) {
    await base();
    await ours();
  }
  if (!per) per = Math.max(3, Math.round((o.roundMs ?? 100) / ((performance.now() - t0) / Math.max(warm, 1))));
  const allO: number[] = [];
  const allB: number[] = [];
  const ratios: number[] = [];
  const timed = async (fn: () => unknown, into: number[], all: number[]): Promise<void> => {
    const t = performance.now();
    await fn();
    const d = performance.now() - t;
    into.push(d);
    all.push(d);
  };
  for (let r = 0; r < o.rounds; r++) {
    const tO: number[] = [];
    const tB: number[] = [];
    for (let i = 0; i < per; i++) {
      if ((i + r) % 2 === 0) {
        await timed(ours, tO, allO);
        await timed(base, tB, allB);
      } else {
        await timed(base, tB, allB);
        await timed(ours, tO, allO);
      }
    }
    ratios.push(median(tO) / median(tB));
  }
  const mo = median(allO);
  const mb = median(allB);
  return { ours: mo, base: mb, ratio: mo / mb, lo: Math.min(...ratios), hi: Math.max(...ratios) };
}

async function line(name: string, ours: () => unknown, base: () => unknown, opts: PairedOpts, unit: 'ops' | 'ms' = 'ms'): Promise<void> {
  const p = await paired(ours, base, opts);
  const f = (ms: number) => (unit === 'ops' ? `${(1000 / ms).toFixed(0)}/s` : `${fmtMs(ms)} ms`);
  console.log(row([name, f(p.ours), f(p.base), p.ratio.toFixed(2), `${p.lo.toFixed(2)}..${p.hi.toFixed(2)}`], W));
  results.push({ name, ratio: p.ratio, lo: p.lo, hi: p.hi });
}

function header(title: string, a = '@qpc/crypto', b = 'raw'): void {
  console.log(`\n${title}`);
  console.log(row(['', a, b, 'ratio', 'rounds lo..hi'], W));
}

const ROUNDS = quick ? 5 : 9;

async function ed25519Bench(): Promise<void> {
  const kp = qc.generateSigningKeyPair();
  const msg = qc.randomBytes(256);
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), kp.secretKey]);
  const priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv);
  const sig = qc.sign(kp.secretKey, msg);
  header(`Ed25519, 256-byte message (provider: ${qc.cryptoProvider.name})`, '@qpc/crypto', 'node:crypto');
  const opts = { rounds: ROUNDS, roundMs: quick ? 60 : 150, warmup: 50 };
  await line('sign', () => qc.sign(kp.secretKey, msg), () => nodeSign(null, msg, priv), opts, 'ops');
  await line('verify', () => qc.verify(kp.publicKey, msg, sig), () => nodeVerify(null, msg, pub, sig), opts, 'ops');
  const nobleSign = await time(() => ed25519.sign(msg, kp.secretKey), { budgetMs: quick ? 150 : 500 });
  const ours = await time(() => qc.sign(kp.secretKey, msg), { budgetMs: quick ? 150 : 500 });
  console.log(`  pure-JS noble sign: ${nobleSign.opsPerSec.toFixed(0)}/s -> native path is ${(nobleSign.msPerOp / ours.msPerOp).toFixed(1)}x faster`);
}

async function xwingBench(): Promise<void> {
  const kp = qc.generateKemKeyPair();
  const pt = qc.randomBytes(1000);
  const suite = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
  const pk = await suite.kem.deserializePublicKey(kp.publicKey);
  const sk = await suite.kem.deserializePrivateKey(kp.secretKey);
  const sealed = await qc.seal(kp.publicKey, pt, { padTo: 1 });
  const raw = await suite.seal({ recipientPublicKey: pk }, qc.pad(pt, 1));
  header('X-Wing HPKE sealed box, 1000-byte plaintext', '@qpc/crypto', '@hpke/core');
  const opts = { rounds: ROUNDS, perRound: quick ? 4 : 10, warmup: 3 };
  await line('seal', () => qc.seal(kp.publicKey, pt, { padTo: 1 }), () => suite.seal({ recipientPublicKey: pk }, qc.pad(pt, 1)), opts, 'ops');
  await line('open', () => qc.open(kp.secretKey, sealed), () => suite.open({ recipientKey: sk, enc: raw.enc }, raw.ct), opts, 'ops');
}

interface Fixture {
  sender: qc.MlsGroup;
  receiver: qc.MlsGroup;
}

async function mlsFixture(n: number): Promise<Fixture> {
  const bundles = await Promise.all(Array.from({ length: n }, (_, i) => qc.createKeyPackage(qc.utf8(`m${i}`))));
  let g = await qc.createMlsGroup(bundles[0]!);
  const add = await qc.addMembers(g, bundles.slice(1).map((b) => b.encoded));
  g = qc.confirmCommit(add.group);
  const receiver = await qc.joinFromWelcome(add.welcome!, bundles[1]!);
  return { sender: g, receiver };
}

function decodePrivate(bytes: Uint8Array) {
  const m = decodeMlsMessage(bytes, 0)![0];
  if (m.wireformat !== 'mls_private_message') throw new Error('expected private message');
  return m.privateMessage;
}

async function mlsBench(n: number): Promise<void> {
  const t0 = performance.now();
  const fx = await mlsFixture(n);
  // the raw side uses ts-mls's own suite object (WebCrypto Ed25519), not the wrapper's
  const cs = await getCiphersuiteImpl(getCiphersuiteFromName(qc.MLS_DEFAULT_SUITE));
  console.log(`\nMLS suite 1, ${n} members (setup ${fmtMs(performance.now() - t0)} ms)`);
  console.log(row(['', '@qpc/crypto', 'ts-mls', 'ratio', 'rounds lo..hi'], W));
  const msg = qc.randomBytes(1024);

  // Each side works on its own copy of the state (export/restore gives independent buffers):
  // the wrapper wipes consumed secrets, which may be shared with the state it started from.
  const key = qc.randomBytes(32);
  const clone = (g: qc.MlsGroup) => qc.restoreGroupState(qc.exportGroupState(g, key), key);
  const per = quick ? 8 : 20;
  const warmup = 2;
  const msgOpts = { rounds: ROUNDS, perRound: per, warmup };

  // decrypt: one stream of messages, processed in order by two independent receiver copies,
  // so both sides decrypt the same message at (nearly) the same moment
  const count = warmup + ROUNDS * per;
  const stream: Uint8Array[] = [];
  let s = clone(fx.sender);
  for (let k = 0; k < count; k++) {
    const r = await qc.encryptMessage(s, msg);
    s = r.group;
    stream.push(r.message);
  }

  // Twice: against ts-mls as it comes, then against ts-mls handed the wrapper's own suite object
  // (native Ed25519 on Node), which leaves only the wrapper's own work in the ratio.
  for (const [label, rawCs] of [['', cs], [' (same suite)', await qc.mlsCiphersuite()]] as const) {
    let rawState: ClientState = clone(fx.sender).state;
    let ours = clone(fx.sender);
    await line(
      `encrypt 1 KiB${label}`,
      async () => {
        ours = (await qc.encryptMessage(ours, msg)).group;
      },
      async () => {
        const r = await createApplicationMessage(rawState, msg, rawCs);
        rawState = r.newState;
        encodeMlsMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: r.privateMessage });
      },
      msgOpts,
    );
    let iRaw = 0;
    let iOurs = 0;
    let recvRaw: ClientState = clone(fx.receiver).state;
    let recv = clone(fx.receiver);
    await line(
      `decrypt 1 KiB${label}`,
      async () => {
        const r = await qc.processMessage(recv, stream[iOurs++]!);
        recv = r.group;
      },
      async () => {
        const r = await processPrivateMessage(recvRaw, decodePrivate(stream[iRaw++]!), emptyPskIndex, rawCs);
        recvRaw = r.newState;
      },
      msgOpts,
    );
  }

  // add-one and update commits, each from the same epoch (left pending: confirming would wipe the base)
  const joiner = await qc.createKeyPackage(qc.utf8('joiner'));
  const rawBase = clone(fx.sender).state;
  const ourBase = clone(fx.sender);
  // one commit per side and round; commits are slow, so the round count falls with the group size
  const commitOpts = { rounds: quick ? 3 : n <= 2 ? 25 : n <= 16 ? 15 : n <= 64 ? 9 : 5, perRound: 1, warmup: 1 };
  await line(
    'add-member commit',
    () => qc.addMembers(ourBase, [joiner.encoded]),
    async () => {
      const kp = decodeMlsMessage(joiner.encoded, 0)![0];
      if (kp.wireformat !== 'mls_key_package') throw new Error('kp');
      const add: Proposal = { proposalType: 'add', add: { keyPackage: kp.keyPackage } };
      const r = await createCommit({ state: rawBase, cipherSuite: cs }, { extraProposals: [add], ratchetTreeExtension: true });
      encodeMlsMessage(r.commit);
      encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: r.welcome! });
    },
    commitOpts,
  );
  await line(
    'update commit',
    () => qc.updateKeys(ourBase),
    async () => {
      const r = await createCommit({ state: rawBase, cipherSuite: cs }, { ratchetTreeExtension: true });
      encodeMlsMessage(r.commit);
    },
    commitOpts,
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`@qpc/crypto benchmark — Node ${process.version}, provider ${qc.cryptoProvider.name}${quick ? ', quick' : ''}`);
  console.log('cost ratio = @qpc/crypto time / raw time (1.00 = no overhead; target <= 1.15)');
  await ed25519Bench();
  await xwingBench();
  for (const n of [2, 16, 64, 256]) await mlsBench(n);
  const worst = results.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  const geo = Math.exp(results.reduce((a, r) => a + Math.log(r.ratio), 0) / results.length);
  const over = results.filter((r) => r.ratio > 1.15);
  // A row is over target for sure only if even its best round is: otherwise the median may be noise.
  const clearlyOver = results.filter((r) => r.lo > 1.15);
  console.log(`\ngeometric mean ratio: ${geo.toFixed(2)} over ${results.length} comparisons (each the median of its paired rounds)`);
  console.log(`worst median ratio: ${worst.ratio.toFixed(2)} (${worst.name}); rows over 1.15: ${over.length}; over in every round: ${clearlyOver.length}`);
  console.log(`native provider on Node: ${qc.cryptoProvider.name === 'node' ? 'yes' : 'NO (bug)'}`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
