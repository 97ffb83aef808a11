/**
 * Group commit: work items that arrive while `concurrency` statements are in flight wait, and
 * then go together in one statement (at most `maxBatch` items), so under load many callers
 * share one round trip and one commit instead of paying one each. An item that finds a free
 * slot goes at once, on its own: nothing waits on a timer.
 *
 * `run` gets a batch and returns one result per item, in the batch's order; each caller's
 * promise resolves with its own result only after `run` has resolved (i.e. after the
 * statement committed). If `run` throws, every item of that batch is rejected with the error
 * and the other batches are not affected.
 *
 * With `key`, a batch holds at most one item per key; a second item with the same key waits
 * for a later batch (e.g. one therapist at most once per upsert statement). Order between
 * items of one key is kept.
 */
export interface GroupCommitOptions<I, R> {
  /** Statements in flight at once; further items wait and batch. */
  concurrency: number;
  /** Items per statement at most. */
  maxBatch: number;
  run(batch: readonly I[]): Promise<readonly R[]>;
  key?: (item: I) => string;
}

interface Waiting<I, R> {
  item: I;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class GroupCommit<I, R> {
  private queue: Waiting<I, R>[] = [];
  private inFlight = 0;

  constructor(private readonly opts: GroupCommitOptions<I, R>) {
    if (!(opts.concurrency >= 1) || !(opts.maxBatch >= 1)) throw new RangeError('GroupCommit needs concurrency >= 1 and maxBatch >= 1');
  }

  /** Items waiting for a statement (not those in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private take(): Waiting<I, R>[] {
    const { maxBatch, key } = this.opts;
    if (!key) return this.queue.splice(0, maxBatch);
    const batch: Waiting<I, R>[] = [];
    const rest: Waiting<I, R>[] = [];
    const keys = new Set<string>();
    for (const w of this.queue) {
      const k = key(w.item);
      if (batch.length < maxBatch && !keys.has(k)) batch.push(w);
      else rest.push(w);
      // A key seen once is closed for this batch, also when its item had to wait for room:
      // a later item of the same key must not overtake it.
      keys.add(k);
    }
    this.queue = rest;
    return batch;
  }

  private pump(): void {
    while (this.inFlight < this.opts.concurrency && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async execute(batch: Waiting<I, R>[]): Promise<void> {
    try {
      const results = await this.opts.run(batch.map((w) => w.item));
      if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
  }
}
