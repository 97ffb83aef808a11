import { concatBytes, randomBytes, sha256, sign, toHex, utf8, verify, type SigningKeyPair } from '@qpc/crypto';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { meshSigningInput, u64be } from './codec.js';
import { meshFail } from './errors.js';

/**
 * Broadcast channels: gossipsub topics whose messages are sealed with a symmetric channel
 * key (ChaCha20-Poly1305). Members hold the key and read; relays subscribe to the topic by
 * its id, check only the frame, and forward what they cannot read.
 *
 * Message = version (1) || nonce (12) || AEAD(key, nonce, aad = topic, inner)
 * inner   = sender key (32) || signature (64) || sent_at_ms (8, BE) || payload
 * signature over "qpc-mesh-v1/channel" 0x00 || channel id (16) || sent_at_ms || payload.
 */
export const CHANNEL_TOPIC_PREFIX = '/qpc/channel/1/';
export const CHANNEL_KEY_BYTES = 32;
export const CHANNEL_VERSION = 1;
export const MAX_CHANNEL_PAYLOAD_BYTES = 16 * 1024;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES;
const INNER_HEADER_BYTES = 32 + 64 + 8;
/** Smallest and largest message on the wire. */
export const MIN_CHANNEL_MESSAGE_BYTES = HEADER_BYTES + INNER_HEADER_BYTES + TAG_BYTES;
export const MAX_CHANNEL_MESSAGE_BYTES = MIN_CHANNEL_MESSAGE_BYTES + MAX_CHANNEL_PAYLOAD_BYTES;
/** A message whose sent_at is further than this from the reader's clock is refused (replay bound). */
export const CHANNEL_CLOCK_WINDOW_MS = 5 * 60_000;

/** 16-byte channel id from the key: it names the topic without revealing the key. */
export function channelId(key: Uint8Array): Uint8Array {
  if (key.length !== CHANNEL_KEY_BYTES) meshFail('INVALID_KEY', `channel key must be ${CHANNEL_KEY_BYTES} bytes`);
  return sha256(concatBytes(utf8('qpc-mesh-v1/channel-id\u0000'), key)).slice(0, 16);
}

export function channelTopic(id: Uint8Array): string {
  if (id.length !== 16) meshFail('MALFORMED', 'channel id must be 16 bytes');
  return `${CHANNEL_TOPIC_PREFIX}${toHex(id)}`;
}

/** The channel id a topic names, or null for a topic that is not a channel's. */
export function channelIdOfTopic(topic: string): string | null {
  if (!topic.startsWith(CHANNEL_TOPIC_PREFIX)) return null;
  const id = topic.slice(CHANNEL_TOPIC_PREFIX.length);
  return /^[0-9a-f]{32}$/.test(id) ? id : null;
}

export function generateChannelKey(): Uint8Array {
  return randomBytes(CHANNEL_KEY_BYTES);
}

export interface ChannelMessage {
  senderKey: Uint8Array;
  sentAtMs: number;
  payload: Uint8Array;
}

function aead(mode: 'seal' | 'open', key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array {
  if (mode === 'seal') {
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
    c.setAAD(aad, { plaintextLength: data.length });
    const out = concatBytes(c.update(data), c.final(), c.getAuthTag());
    return out;
  }
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  d.setAAD(aad, { plaintextLength: data.length - TAG_BYTES });
  d.setAuthTag(data.subarray(data.length - TAG_BYTES));
  try {
    return concatBytes(d.update(data.subarray(0, data.length - TAG_BYTES)), d.final());
  } catch (e) {
    return meshFail('BAD_SIGNATURE', 'channel message does not authenticate under this key', e);
  }
}

/** Seals and signs a channel message. */
export function sealChannelMessage(key: Uint8Array, sender: SigningKeyPair, payload: Uint8Array, nowMs: number): Uint8Array {
  if (payload.length > MAX_CHANNEL_PAYLOAD_BYTES) meshFail('TOO_LARGE', `channel payload above ${MAX_CHANNEL_PAYLOAD_BYTES} bytes`);
  const id = channelId(key);
  const sentAt = u64be(nowMs);
  const signature = sign(sender.secretKey, meshSigningInput('channel', id, sentAt, payload));
  const nonce = randomBytes(NONCE_BYTES);
  const inner = concatBytes(sender.publicKey, signature, sentAt, payload);
  return concatBytes(Uint8Array.of(CHANNEL_VERSION), nonce, aead('seal', key, nonce, utf8(channelTopic(id)), inner));
}

/** What a relay checks without the key: version and size. */
export function checkChannelFrame(bytes: Uint8Array): void {
  if (bytes.length < MIN_CHANNEL_MESSAGE_BYTES) meshFail('MALFORMED', 'channel message too short');
  if (bytes.length > MAX_CHANNEL_MESSAGE_BYTES) meshFail('TOO_LARGE', 'channel message too long');
  if (bytes[0] !== CHANNEL_VERSION) meshFail('MALFORMED', `unknown channel message version ${bytes[0]}`);
}

/** Opens a channel message as a member: AEAD, sender signature, clock window. Throws MeshError. */
export function openChannelMessage(key: Uint8Array, bytes: Uint8Array, nowMs: number): ChannelMessage {
  checkChannelFrame(bytes);
  const id = channelId(key);
  const inner = aead('open', key, bytes.subarray(1, HEADER_BYTES), utf8(channelTopic(id)), bytes.subarray(HEADER_BYTES));
  const senderKey = inner.slice(0, 32);
  const signature = inner.subarray(32, 96);
  const sentAt = inner.subarray(96, 104);
  const payload = inner.slice(104);
  let ok: boolean;
  try {
    ok = verify(senderKey, meshSigningInput('channel', id, sentAt, payload), signature);
  } catch {
    ok = false;
  }
  if (!ok) meshFail('BAD_SIGNATURE', 'channel message signature does not verify');
  const sentAtMs = Number(new DataView(sentAt.buffer, sentAt.byteOffset, 8).getBigUint64(0));
  if (Math.abs(nowMs - sentAtMs) > CHANNEL_CLOCK_WINDOW_MS) meshFail('TTL_EXPIRED', 'channel message outside the clock window');
  return { senderKey, sentAtMs, payload };
}
