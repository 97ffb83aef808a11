import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { announceMatches, slotMatches, type Announce, type MatchableAnnounce, type SlotFilter } from '@qpc/fapp';
import { Clock } from '../common/clock.js';
import { MessengerEvents } from '../messenger/messenger-events.js';
import { FappRepository, type IndexAnnounceRow, type IndexSlotRow, type SearchRow } from './fapp.repository.js';

/** Expired announces leave memory this often (searches skip them at once anyway), and so do hits' JSON texts no search used since the last time. */
const SWEEP_MS = 60_000;
/** With other instances (NATS), the whole index is re-read this often, in case a change message was lost. */
const RESYNC_MS = 5 * 60_000;

/** One therapist's current announce: what the filter reads, plus its slots by id. */
interface Entry {
  therapistId: string;
  sequence: number;
  announce: MatchableAnnounce;
  verified: boolean;
  authority: string | null;
  slots: Map<string, IndexedSlot>;
  /** Value of `FappSearchIndex.writes` when this instance last wrote the entry from its own commit. */
  writtenAt: number;
}

interface IndexedSlot {
  entry: Entry;
  slotId: string;
  startMs: number;
  durationMin: number;
  terminart: number;
  groupSize: number;
  /** 0 when free; the end of a hold (ms); Infinity when booked. Free again once `takenUntil <= now`. */
  takenUntil: number;
  /** The list of its region when it is listed there and in `all` (kept, so unlisting need not look the region up). */
  region: SortedSlots | undefined;
  /** The slot's search hit as JSON text, built when a search first returns it; reset by `put`, dropped by `sweep` once unused. */
  hit: string | undefined;
  /** A search returned the slot since the last sweep. */
  hitUsed: boolean;
}

/** An entry's content, from the database or from an announce this instance just stored. */
interface EntryData {
  therapistId: string;
  sequence: number;
  announce: MatchableAnnounce;
  verified: boolean;
  authority: string | null;
  slots: Omit<IndexedSlot, 'entry' | 'region' | 'hit' | 'hitUsed'>[];
}

/** An announce this instance has stored, as `applyStored` takes it. */
type StoredAnnounce = { a: Announce; verified: boolean; attestation: { authority: string } | null };

/** One hit of `GET /fapp/slots`. */
export interface SearchHit {
  therapistId: string;
  slotId: string;
  /** ISO 8601, UTC. */
  start: string;
  durationMinutes: number;
  terminart: number;
  groupSize: number;
  plz: string;
  verified: boolean;
  authority: string | null;
}

/** The slots a search found, in search order. */
export class SearchMatches {
  constructor(private readonly slots: readonly IndexedSlot[]) {}

  /** The therapists of the hits, each once. */
  therapistIds(): string[] {
    return [...new Set(this.slots.map((s) => s.entry.therapistId))];
  }

  /**
   * Appends the hits to `parts` as JSON text, separated by commas, for the caller to join once.
   * A slot's text is built the first time a search returns it and kept until its announce
   * changes or no search has returned it for a sweep interval (1–2 minutes): a search's answer
   * is then one string the size of the response, not a hit object, a date and a serialisation
   * per hit, and the texts kept are those of the slots searches return, not of every slot.
   */
  appendJson(parts: string[]): void {
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (i > 0) parts.push(',');
      s.hitUsed = true;
      parts.push((s.hit ??= hitJson(s)));
    }
  }
}

function hitJson(s: IndexedSlot): string {
  const e = s.entry;
  const hit: SearchHit = {
    therapistId: e.therapistId,
    slotId: s.slotId,
    start: new Date(s.startMs).toISOString(),
    durationMinutes: s.durationMin,
    terminart: s.terminart,
    groupSize: s.groupSize,
    plz: e.announce.plz,
    verified: e.verified,
    authority: e.authority,
  };
  return JSON.stringify(hit);
}

/** Search order: earliest first, then therapist id, then slot id (the database's `ORDER BY … COLLATE "C"`; ids are hex). */
function before(a: IndexedSlot, b: IndexedSlot): boolean {
  if (a.startMs !== b.startMs) return a.startMs < b.startMs;
  if (a.entry.therapistId !== b.entry.therapistId) return a.entry.therapistId < b.entry.therapistId;
  return a.slotId < b.slotId;
}

/** Whether `m` comes before `s` (a slot), or starts before `s` (a time). */
function lessThan(m: IndexedSlot, s: IndexedSlot | number): boolean {
  return typeof s === 'number' ? m.startMs < s : before(m, s);
}

/** First position in a sorted array whose slot does not come before `s`. */
function lowerBound(items: readonly IndexedSlot[], s: IndexedSlot | number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lessThan(items[mid]!, s)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Chunks of a sorted list are split when they grow past twice this. */
const CHUNK = 256;

/**
 * Slots in search order, as a list of sorted chunks: an insert or removal is two binary searches
 * and a splice within one chunk (a single array of 100 000 slots made every re-announce move
 * the whole array).
 */
class SortedSlots {
  private chunks: IndexedSlot[][] = [];
  /**
   * The start of each chunk's last slot, in one array of numbers: finding a slot's chunk compares
   * these and touches a chunk's slot only on a tie, rather than two objects scattered over the
   * heap per step of the search (most of an index update's time in a server holding 100 000 slots).
   */
  private lasts: number[] = [];
  private unsorted: IndexedSlot[] = [];
  size = 0;

  /** Bulk load: `add` in any order, then `sort` once. */
  add(s: IndexedSlot): void {
    this.unsorted.push(s);
    this.size++;
  }

  sort(): void {
    const all = this.unsorted.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    this.unsorted = [];
    this.chunks = [];
    for (let i = 0; i < all.length; i += CHUNK) this.chunks.push(all.slice(i, i + CHUNK));
    this.lasts = this.chunks.map(lastStart);
  }

  insert(s: IndexedSlot): void {
    this.size++;
    if (this.chunks.length === 0) {
      this.chunks.push([s]);
      this.lasts.push(s.startMs);
      return;
    }
    const c = Math.min(this.chunkFor(s), this.chunks.length - 1);
    const chunk = this.chunks[c]!;
    chunk.splice(lowerBound(chunk, s), 0, s);
    if (chunk.length > 2 * CHUNK) {
      const halves = [chunk.slice(0, CHUNK), chunk.slice(CHUNK)];
      this.chunks.splice(c, 1, ...halves);
      this.lasts.splice(c, 1, ...halves.map(lastStart));
    } else {
      this.lasts[c] = lastStart(chunk);
    }
  }

  remove(s: IndexedSlot): void {
    const c = this.chunkFor(s);
    const chunk = this.chunks[c];
    if (!chunk) return;
    const i = lowerBound(chunk, s);
    if (chunk[i] !== s) return;
    chunk.splice(i, 1);
    this.size--;
    if (chunk.length === 0) {
      this.chunks.splice(c, 1);
      this.lasts.splice(c, 1);
    } else {
      this.lasts[c] = lastStart(chunk);
    }
  }

  /** Visits the slots starting at or after `fromMs`, in order, until `visit` returns false. */
  scan(fromMs: number, visit: (s: IndexedSlot) => boolean): void {
    for (let c = this.chunkFor(fromMs), first = true; c < this.chunks.length; c++, first = false) {
      const chunk = this.chunks[c]!;
      for (let i = first ? lowerBound(chunk, fromMs) : 0; i < chunk.length; i++) if (!visit(chunk[i]!)) return;
    }
  }

  /** The first chunk whose last slot does not come before `s` (`chunks.length` if none). */
  private chunkFor(s: IndexedSlot | number): number {
    const ms = typeof s === 'number' ? s : s.startMs;
    let lo = 0;
    let hi = this.lasts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const last = this.lasts[mid]!;
      // Same start: the order within it (therapist, slot) decides, from the chunk's last slot.
      const earlier = last === ms && typeof s !== 'number' ? before(this.chunks[mid]!.at(-1)!, s) : last < ms;
      if (earlier) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function lastStart(chunk: readonly IndexedSlot[]): number {
  return chunk[chunk.length - 1]!.startMs;
}

/**
 * The server's search, answered from memory: every current announce's filter fields and slots,
 * with the holds on them, in search order (all slots, and per two-digit PLZ region). The same
 * predicates as the on-device matcher (`announceMatches`, `slotMatches` in @qpc/fapp) decide a
 * hit, and the result is the one `FappRepository.search` gives for the same filter (tested).
 *
 * The database stays the truth; the index follows it:
 * - announces this instance stores are applied from the announce itself after the statement
 *   commits (`applyStored`; once the request is answered, or before the next search, whichever
 *   is first), kept only if their sequence is higher than the entry's;
 * - any other change (holds, confirmations, revocations) names its therapists (`changed`), and
 *   those therapists are re-read from the database before the next search answers, so a
 *   search on this instance always sees this instance's own commits;
 * - with NATS, both reach the other instances as therapist ids on `qpc.fapp.changed`, which
 *   re-read them; after a NATS reconnect, and every 5 minutes, the whole index is re-read in
 *   the background (searches do not wait for it).
 * Reservations do not trust the index: a hold is still taken by the database's constraint.
 */
@Injectable()
export class FappSearchIndex implements OnApplicationBootstrap, OnModuleDestroy {
  private entries = new Map<string, Entry>();
  private all = new SortedSlots();
  private regions = new Map<string, SortedSlots>();
  /** Announces this instance stored, not yet in the index (see applyStored). */
  private toApply: StoredAnnounce[] = [];
  private applyScheduled = false;
  /** Therapists to re-read from the database before the next search answers. */
  private dirty = new Set<string>();
  private flushing: Promise<void> | undefined;
  /** The re-read of the whole index that searches wait for, if one is in flight. */
  private loading: Promise<void> | undefined;
  /** The last re-read of the whole index (they run one after the other). */
  private reloads: Promise<void> = Promise.resolve();
  /** While the whole index is read: the therapists re-read meanwhile (see readAll). */
  private rereadDuringLoad: Set<string> | undefined;
  private loaded = false;
  /** Counts this instance's own writes into entries (see Entry.writtenAt). */
  private writes = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private offRemote: (() => void) | undefined;
  private readonly log = new Logger('fapp-search-index');

  constructor(
    @Inject(FappRepository) private readonly repo: FappRepository,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MessengerEvents) private readonly events: MessengerEvents,
  ) {}

  onApplicationBootstrap(): void {
    this.offRemote = this.events.onFappChanged((ids) => {
      if (ids === null) void this.reload({ background: true }).catch(() => undefined);
      else this.markDirty(ids);
    });
    void this.ready().catch((e: unknown) => this.log.warn(`initial load failed, retried on the next search: ${(e as Error).message}`));
    this.timers.push(setInterval(() => this.sweep(), SWEEP_MS).unref());
    if (this.events.distributed) this.timers.push(setInterval(() => void this.reload({ background: true }).catch(() => undefined), RESYNC_MS).unref());
  }

  onModuleDestroy(): void {
    this.offRemote?.();
    for (const t of this.timers) clearInterval(t);
  }

  /** Number of slots held in memory (current and expired-but-not-swept announces). */
  get size(): number {
    return this.all.size;
  }

  /** The hits `FappRepository.search` gives for the same filter and time, from memory. */
  async search(f: SlotFilter, nowMs: number, limit: number): Promise<SearchRow[]> {
    return (await this.find(f, nowMs, limit)).map((s) => {
      const e = s.entry;
      return {
        therapist_id: e.therapistId,
        slot_id: s.slotId,
        start_at: new Date(s.startMs),
        duration_min: s.durationMin,
        terminart: s.terminart,
        group_size: s.groupSize,
        plz: e.announce.plz,
        verified: e.verified,
        authority: e.authority,
      };
    });
  }

  /** The same search, for an answer as JSON text (see SearchMatches). */
  async match(f: SlotFilter, nowMs: number, limit: number): Promise<SearchMatches> {
    return new SearchMatches(await this.find(f, nowMs, limit));
  }

  private async find(f: SlotFilter, nowMs: number, limit: number): Promise<IndexedSlot[]> {
    await this.ready();
    if (this.dirty.size > 0 || this.flushing) await this.flush();
    this.applyPending();
    const list = f.plzPrefix ? this.regions.get(f.plzPrefix.slice(0, 2)) : this.all;
    const found: IndexedSlot[] = [];
    if (!list || limit < 1) return found;
    list.scan(Math.max(f.fromMs ?? nowMs, nowMs), (s) => {
      if (f.untilMs !== undefined && s.startMs >= f.untilMs) return false;
      if (s.takenUntil > nowMs || !slotMatches(s, f, nowMs) || !announceMatches(s.entry, f, nowMs)) return true;
      found.push(s);
      return found.length < limit;
    });
    return found;
  }

  /**
   * Announces this instance has just stored (their statement committed). Slots keep their holds
   * across a re-announce, as their rows do. Other instances re-read these therapists.
   */
  applyStored(stored: readonly StoredAnnounce[]): void {
    if (stored.length === 0) return;
    // Applied once the request that stored them has been answered (or before the next search,
    // whichever comes first): the work stays off the ingest's critical path.
    for (const w of stored) this.toApply.push(w);
    if (!this.applyScheduled) {
      this.applyScheduled = true;
      setImmediate(() => this.applyPending());
    }
    this.events.fappChanged(stored.map((w) => w.a.therapistId));
  }

  /** Puts the stored announces waiting in `toApply` into the index. */
  private applyPending(): void {
    this.applyScheduled = false;
    const batch = this.toApply;
    this.toApply = [];
    for (const { a, verified, attestation } of batch) {
      const current = this.entries.get(a.therapistId);
      if (current && current.sequence >= a.sequence) continue;
      this.put(
        {
          therapistId: a.therapistId,
          sequence: a.sequence,
          announce: a,
          verified,
          authority: attestation?.authority ?? null,
          slots: a.slots.map((s) => ({
            slotId: s.idHex,
            startMs: s.startMs,
            durationMin: s.durationMinutes,
            terminart: s.terminart,
            groupSize: s.groupSize,
            takenUntil: current?.slots.get(s.idHex)?.takenUntil ?? 0,
          })),
        },
        true,
      );
    }
  }

  /** These therapists changed in a commit of this instance (a hold, a booking, a revocation): re-read them here and on other instances. */
  changed(therapistIds: readonly string[]): void {
    if (therapistIds.length === 0) return;
    this.markDirty(therapistIds);
    this.events.fappChanged([...therapistIds]);
  }

  /**
   * Re-reads the whole index from the database (at boot, after a bulk load, after a trust
   * change). Searches wait for it, so they see what it read. `background`: a safety-net re-read
   * (NATS reconnect, periodic resync) that searches do not wait for; they answer from the index
   * as it is meanwhile. Re-reads run one after the other, so an older snapshot never replaces a
   * newer one.
   */
  reload(opts: { background?: boolean } = {}): Promise<void> {
    const run = this.reloads.catch(() => undefined).then(() => this.readAll());
    this.reloads = run;
    if (opts.background) return run;
    const loading = run.finally(() => {
      if (this.loading === loading) this.loading = undefined;
    });
    this.loading = loading;
    return loading;
  }

  private async readAll(): Promise<void> {
    // A re-read of some therapists already under way is older than this snapshot: let it land first.
    await this.flushing?.catch(() => undefined);
    const since = this.writes;
    // Therapists re-read while the snapshot is read (a search does not wait for a background
    // re-read) are read again after it, since the snapshot may predate their re-read.
    const reread = new Set<string>();
    this.rereadDuringLoad = reread;
    let rows: Awaited<ReturnType<FappRepository['searchState']>>;
    try {
      rows = await this.repo.searchState(this.clock.now());
    } finally {
      this.rereadDuringLoad = undefined;
    }
    const old = this.entries;
    this.entries = new Map();
    this.all = new SortedSlots();
    this.regions = new Map();
    for (const d of entryData(rows.announces, rows.slots)) this.put(d, false, true);
    for (const list of [this.all, ...this.regions.values()]) list.sort();
    // Announces this instance stored while the snapshot was read may be newer than it.
    for (const e of old.values()) {
      if (e.writtenAt > since && (this.entries.get(e.therapistId)?.sequence ?? -1) < e.sequence) this.put(dataOf(e), true);
    }
    this.markDirty([...reread]);
    this.loaded = true;
  }

  /**
   * Waits for a load in flight. Once the index has been loaded, a failed re-read leaves it as it
   * was (logged) rather than failing the search; before that, the search fails and the next one
   * tries again.
   */
  private async ready(): Promise<void> {
    if (!this.loading) return this.loaded ? undefined : this.reload();
    if (!this.loaded) return this.loading;
    return this.loading.catch((e: unknown) => this.log.warn(`re-read failed, answering from the index as it was: ${(e as Error).message}`));
  }

  private markDirty(ids: readonly string[]): void {
    for (const id of ids) this.dirty.add(id);
  }

  /** Re-reads the dirty therapists until none is left; one read at a time. */
  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        while (this.dirty.size > 0) {
          const ids = [...this.dirty];
          this.dirty.clear();
          const since = this.writes;
          try {
            const { announces, slots } = await this.repo.searchState(this.clock.now(), ids);
            const fresh = new Map(entryData(announces, slots).map((d) => [d.therapistId, d]));
            for (const id of ids) {
              const d = fresh.get(id);
              const e = this.entries.get(id);
              // An announce this instance stored after the read began is newer than what was
              // read, but it carried the holds of the entry it replaced, which this read was
              // meant to correct: read the therapist again.
              if (e && e.writtenAt > since && (!d || d.sequence <= e.sequence)) {
                this.dirty.add(id);
                continue;
              }
              this.rereadDuringLoad?.add(id);
              if (d) this.put(d, false);
              else if (e) this.drop(e);
            }
          } catch (err) {
            for (const id of ids) this.dirty.add(id);
            throw err;
          }
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /**
   * Runs every minute: expired announces leave memory, and so does the JSON text of every hit
   * no search has returned since the last sweep.
   */
  sweep(): void {
    const now = this.clock.now();
    for (const e of this.entries.values()) {
      if (e.announce.expiresAtMs <= now) {
        this.drop(e);
        continue;
      }
      for (const s of e.slots.values()) {
        if (!s.hitUsed) s.hit = undefined;
        s.hitUsed = false;
      }
    }
  }

  /** The hits kept as JSON text (see SearchMatches.appendJson): how many, and their characters. */
  get keptHits(): { count: number; chars: number } {
    let count = 0;
    let chars = 0;
    for (const e of this.entries.values()) {
      for (const s of e.slots.values()) {
        if (s.hit === undefined) continue;
        count++;
        chars += s.hit.length;
      }
    }
    return { count, chars };
  }

  /**
   * Sets an entry to `d`. `bulk`: a reload, which sorts its lists once at the end. A slot that
   * stays keeps its object, and its place in the lists unless it moves in time or its therapist
   * moves to another region.
   */
  private put(d: EntryData, ownWrite: boolean, bulk = false): void {
    let e = this.entries.get(d.therapistId);
    const old = e?.slots;
    if (!e) {
      e = { therapistId: d.therapistId, sequence: d.sequence, announce: d.announce, verified: d.verified, authority: d.authority, slots: new Map(), writtenAt: 0 };
      this.entries.set(e.therapistId, e);
    }
    // Unlisting finds a slot by its old time and region, so before either changes.
    const moved = old !== undefined && region(e.announce.plz) !== region(d.announce.plz);
    const slots = new Map<string, IndexedSlot>();
    for (const n of d.slots) {
      let s = old?.get(n.slotId);
      if (s) {
        if (moved || s.startMs !== n.startMs) this.unlist(s);
        s.startMs = n.startMs;
        s.durationMin = n.durationMin;
        s.terminart = n.terminart;
        s.groupSize = n.groupSize;
        s.takenUntil = n.takenUntil;
        // Its hit may change with the slot or with the announce (PLZ, verified, authority).
        s.hit = undefined;
      } else {
        s = { entry: e, slotId: n.slotId, startMs: n.startMs, durationMin: n.durationMin, terminart: n.terminart, groupSize: n.groupSize, takenUntil: n.takenUntil, region: undefined, hit: undefined, hitUsed: false };
      }
      slots.set(n.slotId, s);
    }
    if (old) for (const s of old.values()) if (!slots.has(s.slotId)) this.unlist(s);
    e.sequence = d.sequence;
    e.announce = d.announce;
    e.verified = d.verified;
    e.authority = d.authority;
    e.slots = slots;
    if (ownWrite) e.writtenAt = ++this.writes;
    for (const s of slots.values()) if (!s.region) this.enlist(s, bulk);
  }

  private drop(e: Entry): void {
    for (const s of e.slots.values()) this.unlist(s);
    this.entries.delete(e.therapistId);
  }

  private enlist(s: IndexedSlot, bulk: boolean): void {
    const key = region(s.entry.announce.plz);
    let r = this.regions.get(key);
    if (!r) this.regions.set(key, (r = new SortedSlots()));
    if (bulk) {
      this.all.add(s);
      r.add(s);
    } else {
      this.all.insert(s);
      r.insert(s);
    }
    s.region = r;
  }

  private unlist(s: IndexedSlot): void {
    const r = s.region;
    if (!r) return;
    s.region = undefined;
    this.all.remove(s);
    r.remove(s);
  }
}

function region(plz: string): string {
  return plz.slice(0, 2);
}

function dataOf(e: Entry): EntryData {
  return {
    therapistId: e.therapistId,
    sequence: e.sequence,
    announce: e.announce,
    verified: e.verified,
    authority: e.authority,
    slots: [...e.slots.values()].map(({ entry: _entry, region: _region, hit: _hit, hitUsed: _hitUsed, ...s }) => s),
  };
}

function entryData(announces: readonly IndexAnnounceRow[], slots: readonly IndexSlotRow[]): EntryData[] {
  const byId = new Map<string, EntryData>();
  for (const a of announces) {
    byId.set(a.therapist_id, {
      therapistId: a.therapist_id,
      sequence: Number(a.sequence),
      announce: {
        plz: a.plz,
        fachrichtungen: a.fachrichtungen,
        altersgruppen: a.altersgruppen,
        modalitaeten: a.modalitaeten,
        kostentraeger: a.kostentraeger,
        languages: a.languages,
        barrierFree: a.barrier_free,
        expiresAtMs: a.expires_at.getTime(),
      } as MatchableAnnounce,
      verified: a.verified,
      authority: a.authority,
      slots: [],
    });
  }
  for (const s of slots) {
    byId.get(s.therapist_id)?.slots.push({
      slotId: s.slot_id,
      startMs: s.start_at.getTime(),
      durationMin: s.duration_min,
      terminart: s.terminart,
      groupSize: s.group_size,
      takenUntil: s.state === 'booked' ? Infinity : s.held_until ? s.held_until.getTime() : 0,
    });
  }
  return [...byId.values()];
}
