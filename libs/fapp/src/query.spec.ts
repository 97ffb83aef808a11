import { toBinary } from '@bufbuild/protobuf';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, SlotQuerySchema, Terminart } from '@qpc/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyAnnounce } from './announce.js';
import { DAY_MS, HOUR_MS } from './limits.js';
import { buildSlotResponse, decodeQuery, matchSlots, queryFromFilter, validateFilter, type MatchCandidate, type SlotFilter } from './query.js';
import { announceBytes, attestationBytes, keysFor, NOW, slotAt, trust } from './test/fixtures.js';

function candidate(label: string, overrides: Parameters<typeof announceBytes>[0], verified = true): MatchCandidate {
  const key = keysFor(label);
  const bytes = announceBytes({ attestation: verified ? attestationBytes({ key: key.publicKey }) : undefined, ...overrides }, key);
  const v = verifyAnnounce(bytes, { nowMs: NOW, trust });
  return { announce: v.announce, verified: v.verified };
}

const berlinVt = candidate('a', { plz: '10115', slots: [slotAt(1, NOW + 5 * HOUR_MS), slotAt(2, NOW + 2 * DAY_MS, { terminart: Terminart.PROBATORIK })] });
const hamburgSys = candidate('b', {
  plz: '20095',
  fachrichtungen: [Fachrichtung.SYSTEMISCH],
  kostentraeger: [Kostentraeger.PKV],
  modalitaeten: [Modalitaet.VIDEO],
  altersgruppen: [Altersgruppe.KINDER_JUGENDLICHE],
  languages: ['de', 'tr'],
  barrierFree: false,
  slots: [slotAt(1, NOW + 2 * HOUR_MS)],
});
const muenchenUnverified = candidate('c', { plz: '80331', slots: [slotAt(1, NOW + 3 * HOUR_MS)] }, false);
const all = [berlinVt, hamburgSys, muenchenUnverified];
const match = (f: SlotFilter, nowMs = NOW) => matchSlots(all, validateFilter(f), { nowMs }).map((m) => `${m.announce.plz}/${m.slot.startMs - NOW}`);

describe('query matcher', () => {
  it('orders earliest first across therapists', () => {
    expect(match({})).toEqual([`20095/${2 * HOUR_MS}`, `80331/${3 * HOUR_MS}`, `10115/${5 * HOUR_MS}`, `10115/${2 * DAY_MS}`]);
  });

  it('applies each filter', () => {
    expect(match({ plzPrefix: '101' })).toHaveLength(2);
    expect(match({ plzPrefix: '10115' })).toHaveLength(2);
    expect(match({ plzPrefix: '20' })).toHaveLength(1);
    expect(match({ fachrichtungen: [Fachrichtung.SYSTEMISCH] })).toEqual([`20095/${2 * HOUR_MS}`]);
    expect(match({ kostentraeger: [Kostentraeger.GKV] })).toHaveLength(3);
    expect(match({ terminarten: [Terminart.PROBATORIK] })).toEqual([`10115/${2 * DAY_MS}`]);
    expect(match({ altersgruppe: Altersgruppe.KINDER_JUGENDLICHE })).toHaveLength(1);
    expect(match({ modalitaeten: [Modalitaet.PRAXIS] })).toHaveLength(3);
    expect(match({ language: 'tr' })).toHaveLength(1);
    expect(match({ language: 'gsg' })).toHaveLength(3);
    expect(match({ barrierFreeOnly: true })).toHaveLength(3);
    expect(match({ verifiedOnly: true })).not.toContain(`80331/${3 * HOUR_MS}`);
    expect(match({ fromMs: NOW + 4 * HOUR_MS, untilMs: NOW + DAY_MS })).toEqual([`10115/${5 * HOUR_MS}`]);
    expect(match({ limit: 2 })).toHaveLength(2);
  });

  it('never offers a slot that has begun, nor slots the caller marks unavailable', () => {
    expect(match({}, NOW + 4 * HOUR_MS)).toHaveLength(2);
    const hits = matchSlots(all, {}, { nowMs: NOW, isUnavailable: (t, s) => t === hamburgSys.announce.therapistId && s === hamburgSys.announce.slots[0]!.idHex });
    expect(hits).toHaveLength(3);
  });

  it('a query survives the wire and the response names each announce once', () => {
    const f: SlotFilter = { plzPrefix: '10', fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE], fromMs: NOW, limit: 10, verifiedOnly: true };
    const back = decodeQuery(toBinary(SlotQuerySchema, queryFromFilter(f)));
    expect(back).toEqual(validateFilter(f));
    const res = buildSlotResponse(matchSlots(all, back, { nowMs: NOW }), () => new Uint8Array([1]));
    expect(res.hits).toHaveLength(2);
    expect(res.announces).toHaveLength(1);
  });

  it('rejects invalid queries', () => {
    expect(() => validateFilter({ plzPrefix: '1' })).toThrow(expect.objectContaining({ code: 'INVALID_PLZ' }));
    expect(() => validateFilter({ plzPrefix: '62' })).toThrow(expect.objectContaining({ code: 'INVALID_PLZ' }));
    expect(() => validateFilter({ fromMs: 10, untilMs: 5 })).toThrow(expect.objectContaining({ code: 'INVALID_QUERY' }));
    expect(() => validateFilter({ fachrichtungen: [42 as Fachrichtung] })).toThrow(expect.objectContaining({ code: 'UNKNOWN_ENUM' }));
    expect(() => validateFilter({ language: 'klingon' })).toThrow(expect.objectContaining({ code: 'INVALID_LANGUAGE' }));
  });

  it('is a filter: matching never invents hits and respects the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          plzPrefix: fc.constantFrom(undefined, '10', '20', '803'),
          fachrichtungen: fc.subarray([1, 2, 3, 4] as Fachrichtung[]),
          terminarten: fc.subarray([1, 2, 3, 4, 5] as Terminart[]),
          verifiedOnly: fc.boolean(),
          limit: fc.integer({ min: 1, max: 5 }),
        }),
        (f) => {
          const filter = validateFilter(f);
          const hits = matchSlots(all, filter, { nowMs: NOW });
          const unlimited = matchSlots(all, { ...filter, limit: 500 }, { nowMs: NOW });
          expect(hits.length).toBeLessThanOrEqual(f.limit);
          expect(hits).toEqual(unlimited.slice(0, f.limit));
          for (let i = 1; i < hits.length; i++) expect(hits[i]!.slot.startMs).toBeGreaterThanOrEqual(hits[i - 1]!.slot.startMs);
        },
      ),
    );
  });
});
