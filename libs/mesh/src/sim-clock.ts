/**
 * A virtual clock for simulations: time advances only when the simulation runs the next
 * scheduled event, so hours of radio duty cycle pass in milliseconds of test time.
 */
export class VirtualClock {
  private t: number;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void }[] = [];

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  /** Runs `fn` at `atMs` (never before now). Events at the same instant run in scheduling order. */
  schedule(atMs: number, fn: () => void): void {
    this.queue.push({ at: Math.max(atMs, this.t), seq: this.seq++, fn });
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  pending(): number {
    return this.queue.length;
  }

  /** Runs events in time order until none are left or the next one is after `untilMs`. Returns events run. */
  run(untilMs = Infinity, maxEvents = 1_000_000): number {
    let n = 0;
    while (this.queue.length > 0 && this.queue[0]!.at <= untilMs) {
      if (n++ >= maxEvents) throw new Error(`simulation did not settle after ${maxEvents} events`);
      const ev = this.queue.shift()!;
      this.t = ev.at;
      ev.fn();
    }
    if (untilMs !== Infinity && untilMs > this.t) this.t = untilMs;
    return n;
  }
}
