// The search index on its own, over a stand-in for the repository (the database side is covered
// by search-index.e2e-spec.ts): its order and filtering against the on-device matcher over many
// random announces, what it does when the database fails, and the re-read race.
import type { Announce, SlotFilter } from '@qpc/fapp';
import { matchSlots } from '@qpc/fapp';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { MessengerEvents } from '../messenger/messenger-events.js';
import type { FappRepository, IndexAnnounceRow, IndexSlotRow } from './fapp.repository.js';
import { FappSearchIndex } from './search-index.js';

const NOW = Date.UTC(2026, 11, 1, 8, 0);
const DAY = 86_400_000;
const clock: Clock = { now: () => NOW };

/** A small deterministic generator, so a failure names its case. */
function rng(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x % n;
  };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

function announce(r: (n: number) => number, id: number, sequence: number): Announce {
  const slots = Array.from({ length: 1 + r(12) }, (_, k) => ({
    id: new Uint8Array(16),
    idHex: hex(id * 100 + k, 32),
    startMs: NOW - DAY + r(30 * 96) * 15 * 60_000,
    durationMinutes: 50 as const,
    terminart: 1 + r(5),
    groupSize: 0,
  }));
  return {
    therapistId: hex(id, 64),
    plz: `${['10', '20', '80', '99', '01'][r(5)]}${hex(r(900) + 100, 3).replace(/[a-f]/g, '5')}`,
    fachrichtungen: [1 + r(4)],
    altersgruppen: [1 + r(2)],
    modalitaeten: [1 + r(3)],
    kostentraeger: [1 + r(4), 1 + r(4)],
    languages: r(3) === 0 ? ['de', 'en'] : ['de'],
    barrierFree: r(2) === 0,
    expiresAtMs: NOW + (r(10) === 0 ? -1 : 7 * DAY),
    slots,
    sequence,
    issuedAtMs: NOW - 1000,
  } as unknown as Announce;
}

/** Rows as the repository gives them, for one announce and its holds. */
function rows(a: Announce, verified: boolean, holds: Map<string, IndexSlotRow['state']> = new Map()) {
  const ann: IndexAnnounceRow = {
    therapist_id: a.therapistId,
    sequence: String(a.sequence),
    plz: a.plz,
    verified,
    authority: verified ? 'Demo' : null,
    fachrichtungen: a.fachrichtungen,
    altersgruppen: a.altersgruppen,
    modalitaeten: a.modalitaeten,
    kostentraeger: a.kostentraeger,
    languages: a.languages,
    barrier_free: a.barrierFree,
    expires_at: new Date(a.expiresAtMs),
  };
  const slots: IndexSlotRow[] = a.slots.map((s) => ({
    therapist_id: a.therapistId,
    slot_id: s.idHex,
    start_at: new Date(s.startMs),
    duration_min: s.durationMinutes,
    terminart: s.terminart,
    group_size: s.groupSize,
    state: holds.get(s.idHex) ?? null,
    held_until: holds.get(s.idHex) === 'held' ? new Date(NOW + 15 * 60_000) : null,
  }));
  return { ann, slots };
}

/** A repository whose searchState reads `db` when called and answers when `gate` lets it. */
function fakeRepo(db: Map<string, ReturnType<typeof rows>>) {
  const state = { calls: 0, fail: false, gate: undefined as Promise<void> | undefined };
  const repo = {
    async searchState(nowMs: number, ids?: readonly string[]) {
      state.calls++;
      if (state.fail) throw new Error('database unavailable');
      const picked = [...db.values()].filter((x) => x.ann.expires_at.getTime() > nowMs && (!ids || ids.includes(x.ann.therapist_id)));
      const answer = { announces: picked.map((x) => x.ann), slots: picked.flatMap((x) => x.slots) };
      if (state.gate) await state.gate;
      return answer;
    },
  };
  return { repo: repo as unknown as FappRepository, state };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A gate for the next repository call(s): calls made while it is set wait for `open()`. */
function gate(state: { gate: Promise<void> | undefined }) {
  let open!: () => void;
  state.gate = new Promise((resolve) => (open = resolve));
  return () => {
    state.gate = undefined;
    open();
  };
}

async function loadedWithOne(seed: number) {
  const a = ahead(announce(rng(seed), 1, 1));
  const db = new Map([[a.therapistId, rows(a, true)]]);
  const { repo, state } = fakeRepo(db);
  const index = new FappSearchIndex(repo, clock, new MessengerEvents());
  await index.search({}, NOW, 500);
  const slot = a.slots[0]!.idHex;
  const listed = async () => (await index.search({}, NOW, 500)).some((h) => h.slot_id === slot);
  return { a, db, state, index, slot, listed };
}

/** A current announce whose slots all lie ahead. */
function ahead(a: Announce): Announce {
  return { ...a, expiresAtMs: NOW + DAY, slots: a.slots.map((s, k) => ({ ...s, startMs: NOW + (k + 1) * 3_600_000 })) };
}

describe('FappSearchIndex', () => {
  it('finds what the on-device matcher finds, in its order, over 400 announces and 200 re-announces', async () => {
    const r = rng(42);
    const { repo } = fakeRepo(new Map());
    const index = new FappSearchIndex(repo, clock, new MessengerEvents());
    await index.reload(); // an empty database, as at boot; everything after comes from this instance
    const latest = new Map<string, { announce: Announce; verified: boolean }>();
    const write = (a: Announce) => {
      const w = { a, verified: r(4) > 0, attestation: { authority: 'Demo' } };
      latest.set(a.therapistId, { announce: a, verified: w.verified });
      return w;
    };
    const first = Array.from({ length: 400 }, (_, i) => write(announce(r, i, 1)));
    for (let i = 0; i < first.length; i += 37) index.applyStored(first.slice(i, i + 37));
    // Re-announces: new slots, times and regions; an older sequence must not win.
    index.applyStored(Array.from({ length: 200 }, (_, i) => write(announce(r, r(400), 2 + i))));
    index.applyStored([{ a: announce(r, 3, 0), verified: true, attestation: null }]);
    await settle();
    // More than two chunks' worth, so inserts split chunks.
    expect(index.size).toBeGreaterThan(1024);

    const filters: SlotFilter[] = [{}, { plzPrefix: '10' }, { plzPrefix: '991' }, { verifiedOnly: true, kostentraeger: [1] }, { terminarten: [5], language: 'en' }];
    for (let i = 0; i < 60; i++) {
      filters.push({
        ...(r(2) ? { plzPrefix: ['10', '20', '80', '99', '01'][r(5)]! } : {}),
        ...(r(3) === 0 ? { fachrichtungen: [1 + r(4)] } : {}),
        ...(r(3) === 0 ? { terminarten: [1 + r(5)] } : {}),
        ...(r(4) === 0 ? { barrierFreeOnly: true } : {}),
        ...(r(3) === 0 ? { fromMs: NOW + r(20) * DAY, untilMs: NOW + (21 + r(9)) * DAY } : {}),
        limit: 1 + r(200),
      } as SlotFilter);
    }
    let hits = 0;
    for (const f of filters) {
      const got = (await index.search(f, NOW, f.limit ?? 50)).map((h) => `${h.therapist_id}/${h.slot_id}@${h.start_at.getTime()}`);
      const want = matchSlots(latest.values(), f, { nowMs: NOW }).map((m) => `${m.therapistId}/${m.slot.idHex}@${m.slot.startMs}`);
      expect(got, JSON.stringify(f)).toEqual(want);
      hits += got.length;
    }
    expect(hits).toBeGreaterThan(2000);
  });

  it('answers hits as JSON text that follows re-announces and re-reads of the same slots', async () => {
    const r = rng(11);
    const db = new Map<string, ReturnType<typeof rows>>();
    const { repo } = fakeRepo(db);
    const index = new FappSearchIndex(repo, clock, new MessengerEvents());
    await index.reload();
    const json = async (f: SlotFilter = {}) => {
      const parts: string[] = [];
      (await index.match(f, NOW, 500)).appendJson(parts);
      return JSON.parse(`[${parts.join('')}]`) as unknown[];
    };
    // ahead() puts slot k at NOW + (k + 1) h: search order is slot order.
    const hits = (a: Announce, verified: boolean, authority: string | null) =>
      a.slots.map((s) => ({
        therapistId: a.therapistId,
        slotId: s.idHex,
        start: new Date(s.startMs).toISOString(),
        durationMinutes: s.durationMinutes,
        terminart: s.terminart,
        groupSize: s.groupSize,
        plz: a.plz,
        verified,
        authority,
      }));

    const v1 = ahead({ ...announce(r, 1, 1), plz: '10115' } as Announce);
    index.applyStored([{ a: v1, verified: true, attestation: { authority: 'Kammer A' } }]);
    expect(await json()).toEqual(hits(v1, true, 'Kammer A'));
    expect(await json({ plzPrefix: '10' })).toEqual(hits(v1, true, 'Kammer A'));

    // The same slots, each changed, in another region, no longer attested.
    const v2 = {
      ...v1,
      sequence: 2,
      plz: '80331',
      slots: v1.slots.map((s, k) => ({ ...s, startMs: s.startMs + 30 * 60_000, durationMinutes: k === 0 ? 25 : 100, terminart: 5, groupSize: 6 })),
    } as Announce;
    index.applyStored([{ a: v2, verified: false, attestation: null }]);
    expect(await json()).toEqual(hits(v2, false, null));
    expect(await json({ plzPrefix: '10' })).toEqual([]);

    // A re-read from the database (a revocation, another instance's write) changes the entry again.
    db.set(v2.therapistId, rows(v2, true));
    index.changed([v2.therapistId]);
    expect(await json()).toEqual(hits(v2, true, 'Demo'));
    // The rows of the same search say the same.
    const viaRows = (await index.search({}, NOW, 500)).map((h) => [h.slot_id, h.start_at.toISOString(), h.duration_min, h.plz, h.verified, h.authority]);
    expect(viaRows).toEqual(hits(v2, true, 'Demo').map((h) => [h.slotId, h.start, h.durationMinutes, h.plz, h.verified, h.authority]));
  });

  it('keeps the JSON text only of hits that searches return, until a sweep finds them unused', async () => {
    const r = rng(12);
    const as = [1, 2, 3].map((id) => ahead({ ...announce(r, id, 1), plz: `${10 + id}115` } as Announce));
    const { repo } = fakeRepo(new Map(as.map((a) => [a.therapistId, rows(a, true)])));
    const index = new FappSearchIndex(repo, clock, new MessengerEvents());
    const answer = async (f: SlotFilter) => {
      const parts: string[] = [];
      (await index.match(f, NOW, 500)).appendJson(parts);
      return parts.join('');
    };
    const first = await answer({ plzPrefix: '11' });
    expect(index.keptHits).toEqual({ count: as[0]!.slots.length, chars: first.length - (as[0]!.slots.length - 1) });
    // Used since the last sweep: kept through one; unused through a whole interval: dropped.
    index.sweep();
    expect(index.keptHits.count).toBe(as[0]!.slots.length);
    await answer({ plzPrefix: '12' });
    index.sweep();
    expect(index.keptHits.count).toBe(as[1]!.slots.length);
    index.sweep();
    expect(index.keptHits).toEqual({ count: 0, chars: 0 });
    // Built again, the same.
    expect(await answer({ plzPrefix: '11' })).toBe(first);
  });

  it('fails a search while it has never loaded, then loads on the next one', async () => {
    const r = rng(7);
    const a = ahead(announce(r, 1, 1));
    const { repo, state } = fakeRepo(new Map([[a.therapistId, rows(a, true)]]));
    const index = new FappSearchIndex(repo, clock, new MessengerEvents());
    state.fail = true;
    await expect(index.search({}, NOW, 50)).rejects.toThrow('database unavailable');
    state.fail = false;
    expect((await index.search({}, NOW, 500)).length).toBeGreaterThan(0);
  });

  it('keeps answering from what it has when a later re-read fails', async () => {
    const r = rng(8);
    const a = ahead(announce(r, 1, 1));
    const { repo, state } = fakeRepo(new Map([[a.therapistId, rows(a, true)]]));
    const index = new FappSearchIndex(repo, clock, new MessengerEvents());
    const before = await index.search({}, NOW, 500);
    expect(before.length).toBeGreaterThan(0);
    state.fail = true;
    const failed = index.reload();
    expect(await index.search({}, NOW, 500)).toEqual(before);
    await expect(failed).rejects.toThrow('database unavailable');
  });

  it('reads a therapist again when an announce it stored overtook a re-read of its holds', async () => {
    const { a: v1, db, state, index, slot: held, listed } = await loadedWithOne(9);
    expect(await listed()).toBe(true);

    // A hold is committed and named; a search starts the re-read, which reads the hold...
    db.set(v1.therapistId, rows(v1, true, new Map([[held, 'held']])));
    index.changed([v1.therapistId]);
    const release = gate(state);
    const searching = listed();
    await settle();
    // ...while a re-announce of the same slots commits and is applied from the announce,
    // carrying the entry's holds from before the re-read (none).
    const v2 = { ...v1, sequence: 2 } as Announce;
    db.set(v1.therapistId, rows(v2, true, new Map([[held, 'held']])));
    index.applyStored([{ a: v2, verified: true, attestation: { authority: 'Demo' } }]);
    await settle();
    release();
    expect(await searching).toBe(false);
    expect(await listed()).toBe(false);
  });

  describe('re-reads of the whole index', () => {
    it('a background re-read does not hold searches', async () => {
      const { state, index, listed } = await loadedWithOne(10);
      const release = gate(state);
      const background = index.reload({ background: true });
      await settle();
      state.gate = undefined;
      expect(await listed()).toBe(true);
      release();
      await background;
    });

    it('run one after the other: an older snapshot never lands after a newer one', async () => {
      const { a, db, state, index, slot, listed } = await loadedWithOne(11);
      const release = gate(state);
      const first = index.reload({ background: true }); // reads the slot as free, then waits
      await settle();
      state.gate = undefined;
      db.set(a.therapistId, rows(a, true, new Map([[slot, 'booked']])));
      const second = index.reload(); // must read after the first has landed
      release();
      await Promise.all([first, second]);
      expect(await listed()).toBe(false);
    });

    it('a therapist re-read while a background snapshot was read is read again after it', async () => {
      const { a, db, state, index, slot, listed } = await loadedWithOne(12);
      const release = gate(state);
      const background = index.reload({ background: true }); // snapshot: the slot is free
      await settle();
      state.gate = undefined;
      db.set(a.therapistId, rows(a, true, new Map([[slot, 'held']])));
      index.changed([a.therapistId]);
      expect(await listed()).toBe(false); // the re-read of the therapist, while the snapshot waits
      release();
      await background; // the older snapshot lands...
      expect(await listed()).toBe(false); // ...and the therapist is read again
    });
  });
});
