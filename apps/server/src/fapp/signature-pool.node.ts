import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** One Ed25519 check: raw 32-byte public key, the signed bytes, the 64-byte signature. */
export interface SignatureCheck {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

// The worker is plain JavaScript on node:crypto (OpenSSL's Ed25519, the same primitive the
// Node provider of @qpc/crypto calls), so it runs the same from sources and from a build.
// Keys come in as raw bytes and are imported as JWK (about a tenth of a verify); a worker keeps
// the KEY_CACHE keys it used last imported (about 0.9 KB each), and each key goes to the same
// worker every time (see SignaturePool.verifyAll), so a network's therapists stay imported
// across their re-announces.
const KEY_CACHE = 8192;
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
function keyFor(raw) {
  const x = Buffer.from(raw.buffer, raw.byteOffset, 32).toString('base64url');
  let k = keys.get(x);
  if (k) keys.delete(x);
  else {
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keys.size >= ${KEY_CACHE}) keys.delete(keys.keys().next().value);
  }
  keys.set(x, k);
  return k;
}
parentPort.on('message', ({ id, count, keys: pk, signatures, messages, offsets }) => {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    try {
      out[i] = verify(null, messages.subarray(offsets[i], offsets[i + 1]), keyFor(pk.subarray(32 * i, 32 * i + 32)), signatures.subarray(64 * i, 64 * i + 64)) ? 1 : 0;
    } catch {
      out[i] = 0;
    }
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

interface Pending {
  resolve(out: Uint8Array): void;
  reject(e: unknown): void;
}

/** Below this many checks a batch is verified on the calling thread (messaging would cost more). */
export const POOL_MIN_CHECKS = 16;

/**
 * Ed25519 verification spread over worker threads. A check with a malformed key or
 * signature is simply `false`, as with `verify` of @qpc/crypto.
 */
export class SignaturePool {
  private readonly workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private nextId = 0;

  constructor(readonly size: number = Math.min(4, availableParallelism())) {}

  /** Worker threads running now. */
  get running(): number {
    return this.workers.length;
  }

  /**
   * Starts every worker now rather than at the first checks: starting one takes about 80 ms and
   * 70 ms of CPU time on a 2-core machine, which would otherwise fall on the first batch.
   */
  start(): void {
    while (this.workers.length < this.size) this.spawn();
  }

  /**
   * Results in the order of `checks`. A check goes to the worker its key belongs to (by the
   * key's first bytes), so the worker has the key imported from an earlier batch; a worker given
   * more than its share (a key that signs many checks of the batch, such as a licensing
   * authority's) passes the excess to the others.
   */
  async verifyAll(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    if (checks.length === 0) return [];
    this.start();
    const size = this.workers.length;
    const parts = Math.max(1, Math.min(size, Math.ceil(checks.length / POOL_MIN_CHECKS)));
    const groups: number[][] = Array.from({ length: size }, () => []);
    checks.forEach((c, i) => groups[((c.publicKey[0] ?? 0) | ((c.publicKey[1] ?? 0) << 8)) % size]!.push(i));
    // At most `parts` workers, none with more than its share.
    const share = Math.ceil(checks.length / parts);
    const used = groups.map((g, w) => [w, g.length] as const).sort((a, b) => b[1] - a[1]).slice(0, parts).map(([w]) => w);
    const spill: number[] = [];
    for (const [w, g] of groups.entries()) {
      if (!used.includes(w)) spill.push(...g.splice(0));
      else if (g.length > share) spill.push(...g.splice(share));
    }
    for (const w of used) while (groups[w]!.length < share && spill.length > 0) groups[w]!.push(spill.pop()!);
    const out: boolean[] = new Array(checks.length);
    await Promise.all(
      used.map(async (w) => {
        const idx = groups[w]!;
        if (idx.length === 0) return;
        const res = await this.run(this.workers[w]!, idx.map((i) => checks[i]!));
        idx.forEach((i, k) => (out[i] = res[k] === 1));
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.worker.terminate()));
  }

  private run(w: { worker: Worker; pending: Map<number, Pending> }, checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    const count = checks.length;
    const keys = new Uint8Array(32 * count);
    const signatures = new Uint8Array(64 * count);
    const offsets = new Uint32Array(count + 1);
    let total = 0;
    checks.forEach((c, i) => {
      offsets[i] = total;
      total += c.message.length;
    });
    offsets[count] = total;
    const messages = new Uint8Array(total);
    checks.forEach((c, i) => {
      // A key or signature of the wrong length cannot verify: zeros never do.
      if (c.publicKey.length === 32) keys.set(c.publicKey, 32 * i);
      if (c.signature.length === 64) signatures.set(c.signature, 64 * i);
      messages.set(c.message, offsets[i]);
    });
    const bad = checks.map((c) => c.publicKey.length !== 32 || c.signature.length !== 64);
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      // A worker with work outstanding keeps the process alive; an idle one does not.
      if (w.pending.size === 0) w.worker.ref();
      w.pending.set(id, { resolve: (out) => resolve(out.map((r, i) => (bad[i] ? 0 : r))), reject });
      w.worker.postMessage({ id, count, keys, signatures, messages, offsets }, [keys.buffer, signatures.buffer, messages.buffer, offsets.buffer]);
    });
  }

  private spawn(): void {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    const entry = { worker, pending: new Map<number, Pending>() };
    worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      entry.pending.get(id)?.resolve(out);
      entry.pending.delete(id);
      if (entry.pending.size === 0) worker.unref();
    });
    const fail = (e: unknown) => {
      for (const p of entry.pending.values()) p.reject(e);
      entry.pending.clear();
      const i = this.workers.indexOf(entry);
      if (i >= 0) this.workers.splice(i, 1);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`signature worker exited with code ${code}`)));
    this.workers.push(entry);
  }
}
