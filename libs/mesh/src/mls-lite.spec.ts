import { sha256, utf8 } from '@qpc/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advanceMlsLiteEpoch,
  createMlsLiteGroup,
  LORA_FRAGMENT_DATA_BYTES,
  MLS_LITE_OVERHEAD_BYTES,
  MLS_LITE_REPLAY_WINDOW,
  MLS_LITE_SIGNED_OVERHEAD_BYTES,
  openMlsLite,
  sealMlsLite,
  type MlsLiteState,
} from './index.js';
import { keysFor } from './test/keys.js';
import { meshErrorCode } from './test/checks.js';

const GROUP_KEY = sha256(utf8('mesh-test/mls-lite-group'));
const alice = keysFor('mls-alice');
const bob = keysFor('mls-bob');

function pair(opts: { signed?: boolean } = {}): { a: MlsLiteState; b: MlsLiteState } {
  const memberKeys = opts.signed ? [alice.publicKey, bob.publicKey] : undefined;
  return {
    a: createMlsLiteGroup({ groupKey: GROUP_KEY, groupId: 0x0a11, ownIndex: 0, memberKeys }),
    b: createMlsLiteGroup({ groupKey: GROUP_KEY, groupId: 0x0a11, ownIndex: 1, memberKeys }),
  };
}

/** Seals n messages from `a`, returning them in send order. */
function sealMany(a: MlsLiteState, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = a;
  for (let i = 0; i < n; i++) {
    const r = sealMlsLite(s, utf8(`m${i}`));
    s = r.state;
    out.push(r.message);
  }
  return out;
}

describe('MLS-Lite', () => {
  it('round-trips unsigned and signed messages and reports its overhead', () => {
    const { a, b } = pair();
    const payload = utf8('Termin frei Di 10:00');
    const sealed = sealMlsLite(a, payload);
    expect(sealed.message.length - payload.length).toBe(MLS_LITE_OVERHEAD_BYTES);
    const opened = openMlsLite(b, sealed.message);
    expect(opened.message).toMatchObject({ senderIndex: 0, epoch: 0, counter: 0, signed: false, payload });
    expect(sealed.state.sendCounter).toBe(1);

    const s = pair({ signed: true });
    const signed = sealMlsLite(s.a, payload, alice);
    expect(signed.message.length - payload.length).toBe(MLS_LITE_SIGNED_OVERHEAD_BYTES);
    expect(openMlsLite(s.b, signed.message).message).toMatchObject({ signed: true, payload });
    console.log(
      `MLS-Lite overhead: ${MLS_LITE_OVERHEAD_BYTES} bytes unsigned, ${MLS_LITE_SIGNED_OVERHEAD_BYTES} signed (LoRa fragment carries ${LORA_FRAGMENT_DATA_BYTES})`,
    );
    expect(MLS_LITE_OVERHEAD_BYTES).toBe(26);
    expect(MLS_LITE_SIGNED_OVERHEAD_BYTES).toBe(90);
  });

  it('refuses every single-byte change with a MeshError', () => {
    for (const signed of [false, true]) {
      const { a, b } = pair({ signed });
      const { message } = sealMlsLite(a, utf8('payload under test'), signed ? alice : undefined);
      for (let i = 0; i < message.length; i++) {
        const t = message.slice();
        t[i]! ^= 0x01;
        expect(['BAD_SIGNATURE', 'MALFORMED', 'STALE_SEQUENCE', 'REPLAYED']).toContain(meshErrorCode(() => openMlsLite(b, t)));
      }
      expect(meshErrorCode(() => openMlsLite(b, message.subarray(0, message.length - 1)))).toBe('BAD_SIGNATURE');
    }
  });

  it('refuses a replay and a counter below the window, accepts out of order within it', () => {
    const { a, b } = pair();
    const msgs = sealMany(a, MLS_LITE_REPLAY_WINDOW + 10);
    let s = openMlsLite(b, msgs[5]!).state;
    expect(meshErrorCode(() => openMlsLite(s, msgs[5]!))).toBe('REPLAYED');
    // Earlier counters, arriving late, are still inside the window.
    s = openMlsLite(s, msgs[2]!).state;
    s = openMlsLite(s, msgs[0]!).state;
    expect(meshErrorCode(() => openMlsLite(s, msgs[2]!))).toBe('REPLAYED');
    // Jump ahead: counter 73 makes the window 10..73.
    s = openMlsLite(s, msgs[MLS_LITE_REPLAY_WINDOW + 9]!).state;
    expect(meshErrorCode(() => openMlsLite(s, msgs[9]!))).toBe('STALE_SEQUENCE');
    s = openMlsLite(s, msgs[10]!).state;
    expect(meshErrorCode(() => openMlsLite(s, msgs[10]!))).toBe('REPLAYED');
    expect(meshErrorCode(() => openMlsLite(s, msgs[MLS_LITE_REPLAY_WINDOW + 9]!))).toBe('REPLAYED');
    // A failed open leaves the state untouched (the window moves only after authentication).
    const forged = msgs[11]!.slice();
    forged[forged.length - 1]! ^= 0xff;
    expect(meshErrorCode(() => openMlsLite(s, forged))).toBe('BAD_SIGNATURE');
    expect(openMlsLite(s, msgs[11]!).message.counter).toBe(11);
  });

  it('refuses a wrong key, another group, an old epoch and a reflected own message', () => {
    const { a, b } = pair();
    const { message } = sealMlsLite(a, utf8('x'));
    const stranger = createMlsLiteGroup({ groupKey: sha256(utf8('other key')), groupId: 0x0a11, ownIndex: 1 });
    expect(meshErrorCode(() => openMlsLite(stranger, message))).toBe('BAD_SIGNATURE');
    const otherGroup = createMlsLiteGroup({ groupKey: GROUP_KEY, groupId: 0x0a12, ownIndex: 1 });
    expect(meshErrorCode(() => openMlsLite(otherGroup, message))).toBe('MALFORMED');
    expect(meshErrorCode(() => openMlsLite(a, message))).toBe('REPLAYED');

    const b1 = advanceMlsLiteEpoch(b, 1);
    expect(meshErrorCode(() => openMlsLite(b1, message))).toBe('STALE_SEQUENCE');
    const a1 = advanceMlsLiteEpoch(a, 1);
    const next = sealMlsLite(a1, utf8('y'));
    expect(next.message.subarray(6, 10)).toEqual(Uint8Array.of(0, 0, 0, 0));
    expect(openMlsLite(b1, next.message).message).toMatchObject({ epoch: 1, counter: 0 });
    expect(meshErrorCode(() => openMlsLite(b, next.message))).toBe('STALE_SEQUENCE');
    expect(meshErrorCode(() => advanceMlsLiteEpoch(b1, 1))).toBe('STALE_SEQUENCE');
  });

  it('requires a valid signature by the sender when the group lists member keys', () => {
    const { a, b } = pair({ signed: true });
    // The sender refuses to send what receivers would refuse...
    expect(meshErrorCode(() => sealMlsLite(a, utf8('unsigned')))).toBe('INVALID_KEY');
    expect(meshErrorCode(() => sealMlsLite(a, utf8('as bob'), bob))).toBe('INVALID_KEY');
    // ...and receivers refuse it from a sender that does not know the member list.
    const loose = { ...a, memberKeys: undefined };
    expect(meshErrorCode(() => openMlsLite(b, sealMlsLite(loose, utf8('unsigned')).message))).toBe('BAD_SIGNATURE');
    // Signed with the wrong member key: the AEAD passes, the signature does not.
    expect(meshErrorCode(() => openMlsLite(b, sealMlsLite(loose, utf8('as bob'), bob).message))).toBe('BAD_SIGNATURE');
    // A signed message in a group without member keys cannot be bound to anyone.
    const plain = pair();
    expect(meshErrorCode(() => openMlsLite(plain.b, sealMlsLite(plain.a, utf8('s'), alice).message))).toBe('BAD_SIGNATURE');
  });

  it('limits: group key length, payload size, sender index', () => {
    expect(meshErrorCode(() => createMlsLiteGroup({ groupKey: new Uint8Array(16), groupId: 1, ownIndex: 0 }))).toBe('INVALID_KEY');
    expect(meshErrorCode(() => createMlsLiteGroup({ groupKey: GROUP_KEY, groupId: 1, ownIndex: 256 }))).toBe('MALFORMED');
    expect(meshErrorCode(() => createMlsLiteGroup({ groupKey: GROUP_KEY, groupId: 0x10000, ownIndex: 0 }))).toBe('MALFORMED');
    const { a } = pair();
    expect(meshErrorCode(() => sealMlsLite(a, new Uint8Array(20_000)))).toBe('TOO_LARGE');
    expect(meshErrorCode(() => sealMlsLite({ ...a, sendCounter: 0x1_0000_0000 }, utf8('x')))).toBe('QUEUE_FULL');
  });

  it('never throws anything but a MeshError on random or mutated bytes', () => {
    const { a, b } = pair({ signed: true });
    const valid = sealMlsLite(a, utf8('valid'), alice).message;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(meshErrorCode(() => openMlsLite(b, bytes))).not.toBe('no error');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const t = valid.slice();
        t[i]! ^= x;
        expect(meshErrorCode(() => openMlsLite(b, t))).not.toBe('no error');
      }),
      { numRuns: 300 },
    );
  });
});
