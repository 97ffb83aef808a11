import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of the server process. Imported first by main.ts (and by the benchmarks that host
 * the server in their own process), before the application's modules run.
 *
 * `--no-allocation-site-pretenuring`: V8 allocates objects straight into the old generation
 * from allocation sites whose objects once survived (pretenuring). A server's short-lived
 * per-request objects can come from such sites after a burst of long-lived work (boot,
 * a backlog), and then every request's garbage lands in the old generation: in bench/delivery
 * 3 MB/s of it, a full mark-compact every second, each stalling sends and pushes for 50–100 ms
 * on two cores. Without pretenuring the same load has no full collection in a 6-second phase
 * (docs/messenger.md, *Garbage collection*).
 */
export const V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

for (const flag of V8_FLAGS) setFlagsFromString(flag);
