// Shared timing helpers: every figure is printed beside a baseline measured in the same run.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Timing {
  ops: number;
  msPerOp: number;
  opsPerSec: number;
}

/** Runs `fn` at least `minIters` times and until `budgetMs` has passed (after a short warm-up). */
export async function time(fn: () => unknown, opts: { budgetMs?: number; minIters?: number; warmup?: number } = {}): Promise<Timing> {
  const budget = opts.budgetMs ?? 1000;
  const min = opts.minIters ?? 5;
  for (let i = 0; i < (opts.warmup ?? 2); i++) await fn();
  let ops = 0;
  const start = performance.now();
  while (ops < min || performance.now() - start < budget) {
    await fn();
    ops++;
  }
  const ms = performance.now() - start;
  return { ops, msPerOp: ms / ops, opsPerSec: (ops / ms) * 1000 };
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(4);
}

export function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join(' ');
}

/** ours / baseline as a cost ratio (1.00 = same cost, 1.15 = 15 % slower). */
export function ratio(ours: Timing, base: Timing): string {
  return (ours.msPerOp / base.msPerOp).toFixed(2);
}

/**
 * Measures `ours` and `base` alternately over `rounds` rounds and keeps each side's best
 * round, so warm-up, GC and JIT effects do not favour whichever runs first.
 */
export async function compare(
  ours: () => unknown,
  base: () => unknown,
  opts: { budgetMs?: number; minIters?: number; rounds?: number; warmup?: number } = {},
): Promise<[Timing, Timing]> {
  const rounds = opts.rounds ?? 3;
  const per = { budgetMs: (opts.budgetMs ?? 1000) / rounds, minIters: opts.minIters ?? 3, warmup: opts.warmup ?? 1 };
  let bestOurs: Timing | undefined;
  let bestBase: Timing | undefined;
  for (let r = 0; r < rounds; r++) {
    const b = await time(base, per);
    const o = await time(ours, per);
    if (!bestBase || b.msPerOp < bestBase.msPerOp) bestBase = b;
    if (!bestOurs || o.msPerOp < bestOurs.msPerOp) bestOurs = o;
  }
  return [bestOurs!, bestBase!];
}

/** `--name N` from the command line: a positive integer up to `max`, else the run stops with exit code 2. */
export function intArg(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1 || v > max) {
    console.error(max === Number.MAX_SAFE_INTEGER ? `--${name} needs a positive integer` : `--${name} needs an integer 1..${max}`);
    process.exit(2);
  }
  return v;
}

/** `--name VALUE` from the command line: one of `choices` (the first is the default), else the run stops with exit code 2. */
export function choiceArg<T extends string>(name: string, choices: readonly [T, ...T[]]): T {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return choices[0];
  const v = process.argv[i + 1] as T;
  if (!choices.includes(v)) {
    console.error(`--${name} needs one of ${choices.join(', ')}`);
    process.exit(2);
  }
  return v;
}

/** A full garbage collection of this process (V8's gc(), made reachable without a command-line flag). */
export function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * A young-generation collection of this process (a scavenge). Called before a timed block, it
 * makes the block pay for its own garbage, not for what the block before it left.
 */
export function minorGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as (o: { type: 'minor' }) => void)({ type: 'minor' });
}

/** Resolves in the event loop's next turn (after pending I/O callbacks and immediates). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The p-th percentile of an ascending list (NaN for an empty one). */
export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Watches this process while a phase runs: how late its event loop ran (a stall holds every
 * message it handles) and its garbage-collection pauses. A diagnostic for a latency tail: it
 * says in which process a stall was; `stop()` gives the line to print.
 */
export function watchProcess(): { stop(): string } {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const gc: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push(e.duration);
  });
  delay.enable();
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      delay.disable();
      obs.disconnect();
      gc.sort((a, b) => a - b);
      const ms = (ns: number) => fmtMs(ns / 1e6);
      return (
        `event-loop delay p50 ${ms(delay.percentile(50))} / p99 ${ms(delay.percentile(99))} / max ${ms(delay.max)} ms; ` +
        `${gc.length} GC pauses, ${gc.filter((d) => d > 10).length} over 10 ms, max ${fmtMs(gc.at(-1) ?? 0)} ms`
      );
    },
  };
}
