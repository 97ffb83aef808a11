import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseLink,
  connectLora,
  decodeLoraFrame,
  DutyCycle,
  encodeLoraFrame,
  fragmentMessage,
  libp2pLink,
  LORA_DUTY_WINDOW_MS,
  LORA_FRAGMENT_DATA_BYTES,
  LORA_MAX_FRAME_BYTES,
  LORA_MAX_MESSAGE_BYTES,
  loraAirtimeMs,
  LoraRadio,
  LoraReassembler,
  MeshError,
  seededRandom,
  VirtualClock,
  type LinkCandidate,
  type LoraFrame,
} from './index.js';
import { maxHourlyAirtime } from './test/checks.js';

function payload(n: number): Uint8Array {
  const rnd = seededRandom(n);
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

describe('simulated LoRa link (EU868, SF12)', () => {
  it('computes ~2.5 s time on air for a full 51-byte frame', () => {
    expect(loraAirtimeMs(51)).toBeCloseTo(2465.8, 0);
    expect(loraAirtimeMs(10)).toBeLessThan(loraAirtimeMs(51));
    // 1 % of an hour is 36 s: 14 full frames fit.
    expect(Math.floor(36_000 / loraAirtimeMs(51))).toBe(14);
  });

  it('fragments into 51-byte frames and reassembles out of order', () => {
    const msg = payload(1000);
    const frames = fragmentMessage(7, msg);
    expect(frames).toHaveLength(Math.ceil(1000 / LORA_FRAGMENT_DATA_BYTES));
    expect(frames.every((f) => f.length <= LORA_MAX_FRAME_BYTES)).toBe(true);
    const r = new LoraReassembler();
    const order = [...frames.keys()].reverse();
    let out: Uint8Array | undefined;
    for (const i of order) {
      const res = r.accept(decodeLoraFrame(frames[i]!) as Extract<LoraFrame, { type: 'data' }>, 0);
      if (res.kind === 'complete') out = res.payload;
    }
    expect(out).toEqual(msg);
    expect(r.accept(decodeLoraFrame(frames[0]!) as Extract<LoraFrame, { type: 'data' }>, 0).kind).toBe('duplicate');
    expect(() => fragmentMessage(1, new Uint8Array(LORA_MAX_MESSAGE_BYTES + 1))).toThrow(MeshError);
  });

  it('encodes missing-lists within one frame', () => {
    const f: LoraFrame = { type: 'missing', messageId: 300, count: 255, missing: [0, 7, 8, 254] };
    const b = encodeLoraFrame(f);
    expect(b.length).toBeLessThanOrEqual(LORA_MAX_FRAME_BYTES);
    expect(decodeLoraFrame(b)).toEqual(f);
  });

  it('enforces the duty cycle over a sliding hour', () => {
    const d = new DutyCycle();
    const air = loraAirtimeMs(51);
    let t = 0;
    const starts: number[] = [];
    for (let i = 0; i < 28; i++) {
      t = d.earliestStart(t, air);
      d.record(t, air);
      starts.push(t);
      t += air;
    }
    expect(starts[13]).toBeLessThan(60_000);
    expect(starts[14]).toBeGreaterThanOrEqual(LORA_DUTY_WINDOW_MS);
    expect(() => d.record(starts[27]! + air, air)).toThrow(/duty cycle/);
  });

  it('delivers a 1 KB payload over a lossy link within the duty cycle (virtual time)', async () => {
    const clock = new VirtualClock(0);
    const a = new LoraRadio({ clock, loss: 0.15, random: seededRandom(42) });
    const b = new LoraRadio({ clock, loss: 0.15, random: seededRandom(43) });
    connectLora(a, b);
    const received: Uint8Array[] = [];
    b.onMessage = (p) => received.push(p);
    const msg = payload(1024);
    const outcome = a.send(msg);
    clock.run();
    const o = await outcome;
    expect(o.kind).toBe('delivered');
    expect(received).toEqual([msg]);
    expect(a.log.filter((l) => l.lost).length).toBeGreaterThan(0);
    expect(a.log.length).toBeGreaterThan(23);
    for (const r of [a, b]) expect(maxHourlyAirtime(r.log)).toBeLessThanOrEqual(36_000 + 1e-6);
    // 23 fragments at 14 per hour cannot be through in less than an hour of virtual time.
    expect(o.kind === 'delivered' && o.atMs).toBeGreaterThan(LORA_DUTY_WINDOW_MS);
    expect(clock.pending()).toBe(0);
  });

  it('gives up after the retransmission budget when the peer is silent', async () => {
    const clock = new VirtualClock(0);
    const a = new LoraRadio({ clock, maxRounds: 3 });
    const outcome = a.send(payload(100));
    clock.run();
    const o = await outcome;
    expect(o.kind === 'failed' && o.error.code).toBe('TIMEOUT');
  });

  it('decoder: random frames only ever throw MeshError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (b) => {
        try {
          decodeLoraFrame(b);
        } catch (e) {
          expect(e).toBeInstanceOf(MeshError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('transport manager', () => {
  const clock = new VirtualClock(0);
  const radio = new LoraRadio({ clock });
  const lora: LinkCandidate = { name: 'lora', maxMessageBytes: LORA_MAX_MESSAGE_BYTES, available: true, estimateDeliveryMs: (n, now) => radio.estimateDeliveryMs(n, now) };

  it('prefers libp2p when connected, falls back to LoRa for small messages only', () => {
    const choice = chooseLink([lora, libp2pLink(true, 64 * 1024)], 500, 0);
    expect(choice.kind === 'link' && choice.link.name).toBe('libp2p');
    const offline = chooseLink([lora, libp2pLink(false, 64 * 1024)], 500, 0);
    expect(offline.kind === 'link' && offline.link.name).toBe('lora');
    expect(offline.kind === 'link' && offline.estimateMs).toBeLessThan(60_000);
    const big = chooseLink([lora, libp2pLink(false, 64 * 1024)], 20_000, 0);
    expect(big.kind === 'none' && big.error.code).toBe('NO_LINK');
    // 5 KB fits a LoRa message but needs hours of duty cycle: beyond a one-hour budget.
    const slow = chooseLink([lora], 5000, 0, { maxDeliveryMs: 3600_000 });
    expect(slow.kind).toBe('none');
    expect(radio.estimateDeliveryMs(5000, 0)).toBeGreaterThan(6 * 3600_000);
  });
});
