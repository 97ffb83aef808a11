import { buildAnnounce, createTrustStore, HOUR_MS, verifyAnnounce, type Announce } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compactMatchesAnnounce,
  connectLora,
  createMlsLiteGroup,
  decodeCompactAnnounce,
  encodeCompactAnnounce,
  LORA_MAX_FRAME_BYTES,
  loraFrameCount,
  LoraRadio,
  openMlsLite,
  sealMlsLite,
  verifyCompactAnnounce,
  VirtualClock,
} from './index.js';
import { kemFor, keysFor, NOW } from './test/keys.js';
import { meshErrorCode } from './test/checks.js';

const therapist = keysFor('lora-therapist');
const other = keysFor('lora-other');
const kem = kemFor('lora-therapist');

function fullAnnounce(slots = 4): { bytes: Uint8Array; announce: Announce } {
  const bytes = buildAnnounce(
    therapist,
    {
      kemPublicKey: kem.publicKey,
      fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE, Fachrichtung.SYSTEMISCH],
      altersgruppen: [Altersgruppe.ERWACHSENE],
      modalitaeten: [Modalitaet.PRAXIS, Modalitaet.VIDEO],
      kostentraeger: [Kostentraeger.GKV, Kostentraeger.SELBSTZAHLER],
      plz: '01067',
      languages: ['de', 'tr', 'gsg'],
      barrierFree: true,
      displayName: 'Praxis am Elbufer',
      profileUrl: 'https://example.org/praxis',
      slots: Array.from({ length: slots }, (_, i) =>
        i === 3
          ? { startMs: NOW + 30 * HOUR_MS, durationMinutes: 100, terminart: Terminart.GRUPPE, groupSize: 9 }
          : { startMs: NOW + (i + 1) * 24 * HOUR_MS + 15 * 60_000, durationMinutes: i === 0 ? 25 : 50, terminart: i === 0 ? Terminart.SPRECHSTUNDE : Terminart.PROBATORIK },
      ),
      sequence: 1_772_441_000,
    },
    NOW + 12_345,
  );
  const { announce } = verifyAnnounce(bytes, { nowMs: NOW + 20_000, trust: createTrustStore([]) });
  return { bytes, announce };
}

describe('compact LoRa announce', () => {
  it('round-trips the searchable facts and verifies only with the therapist key', () => {
    const { announce } = fullAnnounce();
    const compact = encodeCompactAnnounce(announce, therapist);
    const c = verifyCompactAnnounce(compact, therapist.publicKey);
    expect(c).toMatchObject({
      sequence: announce.sequence,
      plz: '01067',
      barrierFree: true,
      fachrichtungen: announce.fachrichtungen,
      altersgruppen: announce.altersgruppen,
      modalitaeten: announce.modalitaeten,
      kostentraeger: announce.kostentraeger,
      languages: announce.languages,
      issuedAtMs: NOW,
      expiresAtMs: announce.expiresAtMs - 12_345,
    });
    expect(c.slots).toEqual(announce.slots.map((s) => ({ startMs: s.startMs, durationMinutes: s.durationMinutes, terminart: s.terminart, groupSize: s.groupSize })));
    expect(compactMatchesAnnounce(c, announce)).toBe(true);
    expect(compactMatchesAnnounce(c, { ...announce, plz: '01069' })).toBe(false);

    expect(meshErrorCode(() => verifyCompactAnnounce(compact, other.publicKey))).toBe('INVALID_KEY');
    expect(meshErrorCode(() => encodeCompactAnnounce(announce, other))).toBe('INVALID_KEY');
    // Signed by another key but claiming the therapist's key reference.
    const forged = encodeCompactAnnounce({ ...announce, therapistKey: other.publicKey }, other);
    forged.set(compact.subarray(1, 9), 1);
    expect(meshErrorCode(() => verifyCompactAnnounce(forged, therapist.publicKey))).toBe('BAD_SIGNATURE');
  });

  it('refuses every single-bit change of the signed bytes', () => {
    const compact = encodeCompactAnnounce(fullAnnounce().announce, therapist);
    for (let i = 0; i < compact.length * 8; i++) {
      const t = compact.slice();
      t[i >> 3]! ^= 0x80 >> (i & 7);
      expect(['MALFORMED', 'TOO_LARGE', 'INVALID_KEY', 'BAD_SIGNATURE']).toContain(meshErrorCode(() => verifyCompactAnnounce(t, therapist.publicKey)));
    }
  });

  it('takes 3 LoRa frames for an announce with 4 slots, MLS-Lite included, against dozens for the full announce', async () => {
    const { bytes: full, announce } = fullAnnounce(4);
    const compact = encodeCompactAnnounce(announce, therapist);
    const group = createMlsLiteGroup({ groupKey: new Uint8Array(32).fill(7), groupId: 1, ownIndex: 0 });
    const sealed = sealMlsLite(group, compact).message;

    const clock = new VirtualClock(0);
    const a = new LoraRadio({ clock });
    const b = new LoraRadio({ clock });
    connectLora(a, b);
    const received: Uint8Array[] = [];
    b.onMessage = (p) => received.push(p);
    const outcome = a.send(sealed);
    clock.run();
    expect((await outcome).kind).toBe('delivered');
    const receiver = createMlsLiteGroup({ groupKey: new Uint8Array(32).fill(7), groupId: 1, ownIndex: 1 });
    const opened = openMlsLite(receiver, received[0]!).message.payload;
    expect(verifyCompactAnnounce(opened, therapist.publicKey).slots).toHaveLength(4);

    const frames = a.log;
    expect(frames.every((f) => f.bytes <= LORA_MAX_FRAME_BYTES)).toBe(true);
    expect(loraFrameCount(compact.length)).toBe(3);
    expect(frames).toHaveLength(loraFrameCount(sealed.length));
    expect(frames).toHaveLength(3);
    expect(loraFrameCount(full.length)).toBeGreaterThan(25);
    const airtime = frames.reduce((n, f) => n + f.airtimeMs, 0);
    console.log(
      `compact announce, 4 slots: ${compact.length} bytes (${compact.length - 64} body + 64 signature) = ${loraFrameCount(compact.length)} frames; ` +
        `with MLS-Lite ${sealed.length} bytes = ${frames.length} frames of <= ${LORA_MAX_FRAME_BYTES} bytes, ${(airtime / 1000).toFixed(1)} s on air; ` +
        `full signed announce ${full.length} bytes = ${loraFrameCount(full.length)} frames (${(full.length / compact.length).toFixed(1)}x larger)`,
    );
  });

  it('rejects malformed fields and never throws anything but a MeshError', () => {
    const { announce } = fullAnnounce();
    const compact = encodeCompactAnnounce(announce, therapist);
    expect(meshErrorCode(() => decodeCompactAnnounce(compact.subarray(0, 64)))).toBe('MALFORMED');
    expect(meshErrorCode(() => decodeCompactAnnounce(new Uint8Array(5000)))).toBe('TOO_LARGE');
    const wrongVersion = compact.slice();
    wrongVersion[0] = 2;
    expect(meshErrorCode(() => decodeCompactAnnounce(wrongVersion))).toBe('MALFORMED');
    const trailing = new Uint8Array(compact.length + 1);
    trailing.set(compact.subarray(0, compact.length - 64));
    trailing.set(compact.subarray(compact.length - 64), compact.length - 63);
    expect(meshErrorCode(() => decodeCompactAnnounce(trailing))).toBe('MALFORMED');
    expect(meshErrorCode(() => encodeCompactAnnounce({ ...announce, languages: ['d1'] }, therapist))).toBe('MALFORMED');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(meshErrorCode(() => verifyCompactAnnounce(bytes, therapist.publicKey))).not.toBe('no error');
      }),
      { numRuns: 500 },
    );
  });
});
