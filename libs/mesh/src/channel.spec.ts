import { signingKeyPairFromSeed, sha256, utf8 } from '@qpc/crypto';
import { describe, expect, it } from 'vitest';
import {
  channelId,
  channelIdOfTopic,
  channelTopic,
  checkChannelFrame,
  CHANNEL_CLOCK_WINDOW_MS,
  MAX_CHANNEL_MESSAGE_BYTES,
  MAX_CHANNEL_PAYLOAD_BYTES,
  openChannelMessage,
  sealChannelMessage,
} from './channel.js';
import { NOW } from './test/keys.js';

const key = sha256(utf8('channel-spec/key'));
const otherKey = sha256(utf8('channel-spec/other'));
const alice = signingKeyPairFromSeed(sha256(utf8('channel-spec/alice')));

describe('broadcast channel messages', () => {
  it('members open what a member sealed: payload, sender and time', () => {
    const bytes = sealChannelMessage(key, alice, utf8('Praxis heute geschlossen'), NOW);
    const m = openChannelMessage(key, bytes, NOW + 1000);
    expect(new TextDecoder().decode(m.payload)).toBe('Praxis heute geschlossen');
    expect(m.senderKey).toEqual(alice.publicKey);
    expect(m.sentAtMs).toBe(NOW);
    // The plaintext is not on the wire.
    expect(Buffer.from(bytes).includes(Buffer.from('Praxis'))).toBe(false);
  });

  it('a relay without the key can check the frame but not open it', () => {
    const bytes = sealChannelMessage(key, alice, utf8('hello'), NOW);
    expect(() => checkChannelFrame(bytes)).not.toThrow();
    expect(() => openChannelMessage(otherKey, bytes, NOW)).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
  });

  it('refuses tampering, messages outside the clock window and bad frames', () => {
    const bytes = sealChannelMessage(key, alice, utf8('hello'), NOW);
    for (const i of [1, 20, bytes.length - 1]) {
      const t = bytes.slice();
      t[i]! ^= 1;
      expect(() => openChannelMessage(key, t, NOW)).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    }
    expect(() => openChannelMessage(key, bytes, NOW + CHANNEL_CLOCK_WINDOW_MS + 1)).toThrow(expect.objectContaining({ code: 'TTL_EXPIRED' }));
    expect(() => openChannelMessage(key, bytes, NOW - CHANNEL_CLOCK_WINDOW_MS - 1)).toThrow(expect.objectContaining({ code: 'TTL_EXPIRED' }));
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(() => checkChannelFrame(v2)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => checkChannelFrame(bytes.subarray(0, 40))).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => checkChannelFrame(new Uint8Array(MAX_CHANNEL_MESSAGE_BYTES + 1).fill(1))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });

  it('limits the payload and the key size', () => {
    expect(sealChannelMessage(key, alice, new Uint8Array(MAX_CHANNEL_PAYLOAD_BYTES), NOW).length).toBe(MAX_CHANNEL_MESSAGE_BYTES);
    expect(() => sealChannelMessage(key, alice, new Uint8Array(MAX_CHANNEL_PAYLOAD_BYTES + 1), NOW)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(() => channelId(key.subarray(0, 16))).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });

  it('names the topic by a hash of the key', () => {
    const topic = channelTopic(channelId(key));
    expect(topic).toMatch(/^\/qpc\/channel\/1\/[0-9a-f]{32}$/);
    expect(channelIdOfTopic(topic)).toBe(topic.slice(-32));
    expect(channelIdOfTopic('/qpc/fapp/1/plz/10')).toBeNull();
    expect(channelTopic(channelId(otherKey))).not.toBe(topic);
  });
});
