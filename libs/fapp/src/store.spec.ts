import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from './limits.js';
import { announcesForPrefix, emptyAnnounceStore, ingestAnnounce, pruneExpired, sameAnnounce, type AnnounceStore } from './store.js';
import { announceBytes, keysFor, NOW, slotAt, trust } from './test/fixtures.js';
import { forwardEnvelope } from './envelope.js';

const policy = { nowMs: NOW, trust };

function ingest(store: AnnounceStore, bytes: Uint8Array, nowMs = NOW) {
  return ingestAnnounce(store, bytes, { ...policy, nowMs });
}

describe('dedup and supersede by (therapist key, sequence)', () => {
  it('keeps the highest sequence and reports what it replaced', () => {
    const s1 = ingest(emptyAnnounceStore(), announceBytes({ sequence: 1 }));
    expect(s1.kind).toBe('accepted');
    const s2 = ingest(s1.store, announceBytes({ sequence: 2, slots: [slotAt(9, NOW + 5 * HOUR_MS)] }));
    expect(s2).toMatchObject({ kind: 'accepted', superseded: { sequence: 1 } });
    expect(s2.store.byTherapist.size).toBe(1);
    expect([...s2.store.byTherapist.values()][0]?.announce.slots).toHaveLength(1);
  });

  it('the same announce again (also via another hop) is a duplicate, not an error', () => {
    const bytes = announceBytes({ sequence: 3 });
    const s1 = ingest(emptyAnnounceStore(), bytes);
    expect(ingest(s1.store, bytes).kind).toBe('duplicate');
    expect(ingest(s1.store, forwardEnvelope(bytes)).kind).toBe('duplicate');
  });

  it('sameAnnounce: equal sequence and equal signed body, nothing less', () => {
    const body = new Uint8Array([1, 2, 3]);
    expect(sameAnnounce({ sequence: 3, body }, { sequence: 3, body: body.slice() })).toBe(true);
    expect(sameAnnounce({ sequence: 3, body }, { sequence: 4, body })).toBe(false);
    expect(sameAnnounce({ sequence: 3, body }, { sequence: 3, body: new Uint8Array([1, 2, 4]) })).toBe(false);
    expect(sameAnnounce({ sequence: 3, body }, { sequence: 3, body: new Uint8Array([1, 2]) })).toBe(false);
  });

  it('a replayed older sequence and an equivocating equal sequence are STALE_SEQUENCE', () => {
    const s1 = ingest(emptyAnnounceStore(), announceBytes({ sequence: 3 }));
    expect(ingest(s1.store, announceBytes({ sequence: 2 }))).toMatchObject({ kind: 'rejected', error: { code: 'STALE_SEQUENCE' }, currentSequence: 3 });
    expect(ingest(s1.store, announceBytes({ sequence: 3, plz: '20095' }))).toMatchObject({ kind: 'rejected', error: { code: 'STALE_SEQUENCE' } });
  });

  it('does not depend on arrival order: any permutation ends at the highest sequence', () => {
    const all = [1, 2, 3, 4, 5].map((sequence) => announceBytes({ sequence }));
    for (const order of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 4, 0, 3, 1]]) {
      let store = emptyAnnounceStore();
      for (const i of order) store = ingest(store, all[i]!).store;
      expect([...store.byTherapist.values()][0]?.sequence).toBe(5);
    }
  });

  it('pruning drops expired announces but keeps their sequence as a tombstone', () => {
    const long = announceBytes({ sequence: 1, expiresAtMs: NOW + 20 * DAY_MS });
    const short = announceBytes({ sequence: 2, expiresAtMs: NOW + DAY_MS });
    let store = ingest(ingest(emptyAnnounceStore(), long).store, short).store;
    const later = NOW + 2 * DAY_MS;
    const pruned = pruneExpired(store, later);
    expect(pruned.removed.map((r) => r.sequence)).toEqual([2]);
    store = pruned.store;
    expect(store.byTherapist.size).toBe(0);
    // The older, still-valid announce cannot come back.
    expect(ingest(store, long, later)).toMatchObject({ kind: 'rejected', error: { code: 'STALE_SEQUENCE' } });
    expect(pruneExpired(store, NOW + 31 * DAY_MS).store.tombstones.size).toBe(0);
  });

  it('region sync lists current announces of a PLZ prefix in therapist order', () => {
    let store = emptyAnnounceStore();
    for (const [i, plz] of ['10115', '10999', '20095', '80331'].entries()) {
      store = ingest(store, announceBytes({ plz, attestation: undefined }, keysFor(`t${i}`))).store;
    }
    const berlin = announcesForPrefix(store, '10', NOW);
    expect(berlin.map((r) => r.announce.plz).sort()).toEqual(['10115', '10999']);
    expect(berlin.map((r) => r.therapistId)).toEqual([...berlin.map((r) => r.therapistId)].sort());
    expect(announcesForPrefix(store, '1', NOW + 8 * DAY_MS)).toHaveLength(0);
  });
});
