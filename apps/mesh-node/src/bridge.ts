import { fromBase64Url, toBase64Url } from '@qpc/crypto';
import type { MeshEvent, MeshNode } from '@qpc/mesh';

export type FetchLike = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
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

/**
 * Bridges a mesh node and a quicprochat server: announces the node accepts from the mesh are
 * pushed to `POST /api/v1/fapp/announces`; every region the node carries is pulled from
 * `GET /api/v1/fapp/regions/:prefix/announces` and gossiped. Announces that came from the
 * server are not pushed back. The server checks everything again; 409 (stale) is expected.
 */
export class ServerBridge {
  private readonly fetch: FetchLike;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();
  readonly counters = { pushed: 0, pushFailed: 0, pulled: 0, pullFailed: 0 };

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

  async push(bytes: Uint8Array): Promise<void> {
    try {
      const res = await this.fetch(`${this.opts.server}/api/v1/fapp/announces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ announce: toBase64Url(bytes) }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      if (res.ok || res.status === 409) this.counters.pushed++;
      else {
        this.counters.pushFailed++;
        this.opts.log?.({ event: 'bridge_push_failed', status: res.status });
      }
    } catch {
      this.counters.pushFailed++;
      this.opts.log?.({ event: 'bridge_push_failed', status: 0 });
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
