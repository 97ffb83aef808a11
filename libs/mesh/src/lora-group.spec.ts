import { sha256, utf8 } from '@qpc/crypto';
import { describe, expect, it } from 'vitest';
import {
  connectLora,
  createMlsLiteGroup,
  LORA_DUTY_WINDOW_MS,
  LoraGroupLink,
  LoraRadio,
  MLS_LITE_SIGNED_OVERHEAD_BYTES,
  seededRandom,
  VirtualClock,
  type LoraGroupDelivery,
  type MeshError,
} from './index.js';
import { keysFor } from './test/keys.js';
import { maxHourlyAirtime } from './test/checks.js';

const GROUP_KEY = sha256(utf8('mesh-test/lora-group'));
const GROUP = 0x0c01;
const alice = keysFor('lora-alice');
const bob = keysFor('lora-bob');

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function setup(opts: { loss?: number } = {}) {
  const clock = new VirtualClock(0);
  const ra = new LoraRadio({ clock, loss: opts.loss, random: seededRandom(7) });
  const rb = new LoraRadio({ clock, loss: opts.loss, random: seededRandom(8) });
  connectLora(ra, rb);
  // What actually arrives after reassembly at b's radio (the bytes that went over the air).
  const onAir: Uint8Array[] = [];
  const a = new LoraGroupLink(ra, alice);
  const b = new LoraGroupLink(rb, bob);
  const bRadioHandler = rb.onMessage;
  rb.onMessage = (p) => {
    onAir.push(p);
    bRadioHandler(p);
  };
  const memberKeys = [alice.publicKey, bob.publicKey];
  a.setGroup(createMlsLiteGroup({ groupKey: GROUP_KEY, groupId: GROUP, ownIndex: 0, memberKeys }));
  b.setGroup(createMlsLiteGroup({ groupKey: GROUP_KEY, groupId: GROUP, ownIndex: 1, memberKeys }));
  const got: LoraGroupDelivery[] = [];
  const rejected: MeshError[] = [];
  b.onMessage = (m) => got.push(m);
  b.onRejected = (e) => rejected.push(e);
  return { clock, ra, rb, a, b, onAir, got, rejected };
}

describe('LoRa side of the transport manager with MLS-Lite', () => {
  it('seals before fragmentation, opens after reassembly (round trip over a lossy link)', async () => {
    const s = setup({ loss: 0.1 });
    const text = utf8('slot 2026-12-01T09:00 therapist 4711 region 10115: free');
    const outcome = s.a.send(GROUP, text);
    s.clock.run();
    expect((await outcome).kind).toBe('delivered');
    expect(s.got).toHaveLength(1);
    expect(s.got[0]).toMatchObject({ groupId: GROUP, senderIndex: 0, counter: 0 });
    expect(s.got[0]!.payload).toEqual(text);
    // The radio carried the sealed form only: longer by the signed overhead, no plaintext inside.
    expect(s.onAir).toHaveLength(1);
    expect(s.onAir[0]!.length).toBe(text.length + MLS_LITE_SIGNED_OVERHEAD_BYTES);
    expect(contains(s.onAir[0]!, utf8('therapist 4711'))).toBe(false);
    expect(s.rejected).toEqual([]);
  });

  it('refuses a group without a key with INVALID_KEY and puts nothing on air', () => {
    const s = setup();
    expect(() => s.a.send(0x0fff, utf8('hello'))).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }) as Error);
    s.clock.run();
    expect(s.ra.log).toHaveLength(0);
  });

  it('refuses a message replayed over the radio (replay window after reassembly)', async () => {
    const s = setup();
    const first = s.a.send(GROUP, utf8('reserve slot 3'));
    s.clock.run();
    expect((await first).kind).toBe('delivered');
    expect(s.got).toHaveLength(1);
    // An attacker records the sealed message and sends it again from its own radio.
    const eve = new LoraRadio({ clock: s.clock });
    connectLora(eve, s.rb);
    // Eve's radio numbers its messages from 0 like Alice's: a filler first (dropped by the
    // radio's own dedup of id 0), so the replay carries a fresh link-level message id.
    const clear = eve.send(utf8('x'));
    const replay = eve.send(s.onAir[0]!);
    s.clock.run();
    expect((await clear).kind).toBe('delivered');
    expect((await replay).kind).toBe('delivered'); // the radio acknowledges the frames ...
    expect(s.got).toHaveLength(1); // ... but the group layer delivers neither
    expect(s.rejected.map((e) => e.code)).toEqual(['REPLAYED']);
  });

  it('refuses a message sealed under another key', async () => {
    const s = setup();
    const mallory = new LoraGroupLink(new LoraRadio({ clock: s.clock }));
    mallory.setGroup(createMlsLiteGroup({ groupKey: sha256(utf8('wrong key')), groupId: GROUP, ownIndex: 0 }));
    connectLora(mallory.radio, s.rb);
    const o = mallory.send(GROUP, utf8('forged'));
    s.clock.run();
    expect((await o).kind).toBe('delivered');
    expect(s.got).toEqual([]);
    expect(s.rejected.map((e) => e.code)).toEqual(['BAD_SIGNATURE']);
  });

  it('still respects the 1 % duty cycle under load (virtual time)', async () => {
    const s = setup();
    const outcomes = Array.from({ length: 12 }, (_, i) => s.a.send(GROUP, utf8(`announce ${i} `.repeat(8))));
    s.clock.run();
    for (const o of outcomes) expect((await o).kind).toBe('delivered');
    expect(s.got.map((m) => m.counter)).toEqual([...Array(12).keys()]);
    for (const r of [s.ra, s.rb]) expect(maxHourlyAirtime(r.log)).toBeLessThanOrEqual(36_000 + 1e-6);
    // 12 messages of 3 frames each are more than one hour's 14 frames: the link had to wait.
    expect(s.ra.log.length).toBeGreaterThanOrEqual(36);
    expect(s.clock.now()).toBeGreaterThan(LORA_DUTY_WINDOW_MS);
  });
});
