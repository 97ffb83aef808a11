import { fromBase64Url } from '@qpc/crypto';
import { announceBatches, encodeAnnounceBatch, MAX_MESSAGE_BYTES } from '@qpc/fapp';
import type { MeshEvent, MeshNode } from '@qpc/mesh';

export type FetchLike = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

export interface BridgeOptions {
  server: string;
  node: MeshNode;
  /** Regions pulled from the server. */
  regions: string[];
  fetch?: FetchLike;
  log?: (line: Record<string, unknown>) => void;
  pullIntervalMs?: number;
  timeoutMs?: number;
}

interface RegionPage {
  announces: string[];
  nextCursor: string | null;
}

interface BatchAnswer {
  results: { status: string; code?: string }[];
}

/** What the server answers for an announce that lost to one it already has: expected, not a failure. */
const STALE = 'fapp.stale_sequence';

/**
 * Bridges a mesh node and a quicprochat server: announces the node accepts from the mesh are
 * pushed to `POST /api/v1/fapp/announces/batch` as a protobuf FappAnnounceBatch; every region
 * the node carries is pulled from `GET /api/v1/fapp/regions/:prefix/announces` and gossiped.
 * Announces that came from the server are not pushed back. The server checks everything again;
 * `fapp.stale_sequence` (it already has a newer one) is expected.
 *
 * One push is in flight at a time. Announces accepted meanwhile wait and go together in the next
 * (as many as a batch may hold), so a burst from the mesh (a region's announces after a
 * partition heals) costs the server a few requests, not one per announce.
 */
export class ServerBridge {
  private readonly fetch: FetchLike;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();
  /** Announces waiting for the push in flight, each with the caller of `push` to answer. */
  private queue: { bytes: Uint8Array; done: () => void }[] = [];
  private pushing = false;
  /** Announces pushed (stored, a duplicate or stale at the server) and not (refused, or the request failed); requests made. */
  readonly counters = { pushed: 0, pushFailed: 0, pushRequests: 0, pulled: 0, pullFailed: 0 };

  constructor(private readonly opts: BridgeOptions) {
    this.fetch = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
  }

  /** Hook for MeshNodeOptions.onEvent. */
  onEvent = (e: MeshEvent): void => {
    if (e.type !== 'announce' || e.outcome !== 'accepted' || e.source === 'bridge' || !e.therapistId) return;
    const record = this.opts.node.store.byTherapist.get(e.therapistId);
    if (!record) return;
    const p = this.push(record.bytes).finally(() => this.pending.delete(p));
    this.pending.add(p);
  };

  start(): void {
    void this.pullAll();
    this.timer = setInterval(() => void this.pullAll(), this.opts.pullIntervalMs ?? 5 * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
  }

  /** Pushes one announce, with any others waiting; resolves once its request has been answered (or failed). */
  push(bytes: Uint8Array): Promise<void> {
    return new Promise<void>((done) => {
      this.queue.push({ bytes, done });
      if (!this.pushing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.pushing = true;
    try {
      while (this.queue.length > 0) {
        const waiting = this.queue;
        this.queue = [];
        try {
          // announceBatches takes announces no server refuses for their size; the node accepts no larger ones.
          const fits = waiting.filter((w) => w.bytes.byteLength <= MAX_MESSAGE_BYTES);
          if (fits.length < waiting.length) {
            this.counters.pushFailed += waiting.length - fits.length;
            this.opts.log?.({ event: 'bridge_push_failed', status: 0, reason: 'too large' });
          }
          for (const batch of announceBatches(fits.map((w) => w.bytes))) await this.pushBatch(batch);
        } finally {
          for (const w of waiting) w.done();
        }
      }
    } finally {
      this.pushing = false;
    }
  }

  private async pushBatch(batch: Uint8Array[]): Promise<void> {
    this.counters.pushRequests++;
    try {
      const res = await this.fetch(`${this.opts.server}/api/v1/fapp/announces/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/protobuf' },
        body: encodeAnnounceBatch(batch),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      if (!res.ok) {
        this.counters.pushFailed += batch.length;
        this.opts.log?.({ event: 'bridge_push_failed', status: res.status, announces: batch.length });
        return;
      }
      const answer = (await res.json()) as BatchAnswer;
      const results = Array.isArray(answer.results) ? answer.results.slice(0, batch.length) : [];
      for (const r of results) {
        if (r.status !== 'rejected' || r.code === STALE) this.counters.pushed++;
        else {
          this.counters.pushFailed++;
          this.opts.log?.({ event: 'bridge_push_rejected', code: r.code ?? 'unknown' });
        }
      }
      // An answer without a result per announce: those without one count as failed.
      if (results.length < batch.length) this.counters.pushFailed += batch.length - results.length;
    } catch {
      this.counters.pushFailed += batch.length;
      this.opts.log?.({ event: 'bridge_push_failed', status: 0, announces: batch.length });
    }
  }

  /** Pulls every page of every region; returns how many announces the node accepted. */
  async pullAll(): Promise<number> {
    let accepted = 0;
    for (const region of this.opts.regions) {
      let cursor: string | null = null;
      try {
        do {
          const url = `${this.opts.server}/api/v1/fapp/regions/${region}/announces?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const res = await this.fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
          if (!res.ok) throw new Error(`status ${res.status}`);
          const page = (await res.json()) as RegionPage;
          if (!Array.isArray(page.announces)) throw new Error('unexpected region page');
          for (const a of page.announces) {
            let bytes: Uint8Array;
            try {
              bytes = fromBase64Url(String(a));
            } catch {
              continue;
            }
            const o = await this.opts.node.publishAnnounce(bytes, 'bridge');
            if (o.kind === 'accepted') accepted++;
          }
          cursor = typeof page.nextCursor === 'string' ? page.nextCursor : null;
        } while (cursor);
      } catch (e) {
        this.counters.pullFailed++;
        this.opts.log?.({ event: 'bridge_pull_failed', region, reason: e instanceof Error ? e.message : 'error' });
      }
    }
    this.counters.pulled += accepted;
    return accepted;
  }
}
