import { demoAuthority, type DemoAuthority } from './authority.js';
import { DemoRandom } from './random.js';
import { buildDemoTherapist, type DemoTherapist } from './therapists.js';

export const DEFAULT_DEMO_SEED = 'quicprochat-demo';

export interface DemoDatasetOptions {
  therapists?: number;
  /** The clock of the dataset: issued_at of every announce, slots in the 4 weeks after it. */
  now: number | Date;
  seed?: string;
  verifiedShare?: number;
}

export interface DemoDataset {
  seed: string;
  nowMs: number;
  authority: DemoAuthority;
  therapists: DemoTherapist[];
  /** Signed announce bytes (FappSigned), one per therapist, in therapist order. */
  announces: Uint8Array[];
}

/** The demo network: deterministic for a given (seed, now, therapists). */
export function buildDemoDataset(opts: DemoDatasetOptions): DemoDataset {
  const seed = opts.seed ?? DEFAULT_DEMO_SEED;
  const nowMs = typeof opts.now === 'number' ? opts.now : opts.now.getTime();
  const count = opts.therapists ?? 200;
  const authority = demoAuthority();
  const root = new DemoRandom(seed);
  const therapists: DemoTherapist[] = [];
  for (let index = 0; index < count; index++) {
    const therapistOpts: Parameters<typeof buildDemoTherapist>[1] = { index, nowMs, authority };
    if (opts.verifiedShare !== undefined) therapistOpts.verifiedShare = opts.verifiedShare;
    therapists.push(buildDemoTherapist(root.fork(`therapist/${index}`), therapistOpts));
  }
  return { seed, nowMs, authority, therapists, announces: therapists.map((t) => t.announce) };
}
