// Test-only: await a condition re-checked whenever one of the given targets fires an event.

export function waitFor(cond: () => boolean, targets: { target: EventTarget; event: string }[], timeoutMs: number, what: string): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!cond()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      for (const t of targets) t.target.removeEventListener(t.event, check);
    };
    for (const t of targets) t.target.addEventListener(t.event, check);
  });
}

/** Collects MeshEvents and resolves waiters when a matching one arrives. */
export class EventLog<E> {
  readonly events: E[] = [];
  private waiters: { pred: (e: E) => boolean; resolve: (e: E) => void }[] = [];

  push = (e: E): void => {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.resolve(e);
      return false;
    });
  };

  next(pred: (e: E) => boolean, timeoutMs: number, what: string): Promise<E> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}
