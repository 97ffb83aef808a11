import { encodeMlsMessage } from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { CryptoError } from './errors.js';
import { decodeKeyPackage, decodeMlsMessageBytes, peekMlsMessage, type MlsWireFormat } from './mls.js';
import vectors from './test/fixtures/mls-messages.json' with { type: 'json' };

// Official MLS interop vectors (messages.json): every framed message goes through the
// wrapper's decoder and keyless peek, and re-encodes to the same bytes.
const GROUP = 'c1669bbc8763d989c4afc4ccbdfb615a';
const cases: { name: keyof typeof vectors; wire: MlsWireFormat; group?: string; epoch?: bigint; content?: string }[] = [
  { name: 'mls_welcome', wire: 'mls_welcome' },
  { name: 'mls_group_info', wire: 'mls_group_info', group: GROUP, epoch: 0n },
  { name: 'mls_key_package', wire: 'mls_key_package' },
  { name: 'public_message_application', wire: 'mls_public_message', group: GROUP, epoch: 1n, content: 'application' },
  { name: 'public_message_proposal', wire: 'mls_public_message', group: GROUP, epoch: 0n, content: 'proposal' },
  { name: 'public_message_commit', wire: 'mls_public_message', group: GROUP, epoch: 0n, content: 'commit' },
  { name: 'private_message', wire: 'mls_private_message', group: GROUP, epoch: 1n, content: 'application' },
];

describe('MLS interop vectors through the wrapper', () => {
  it.each(cases)('$name: peek, decode, re-encode', (c) => {
    const bytes = fromHex(vectors[c.name]);
    const peek = peekMlsMessage(bytes);
    expect(peek.wireFormat).toBe(c.wire);
    if (c.group) expect(toHex(peek.groupId!)).toBe(c.group);
    if (c.epoch !== undefined) expect(peek.epoch).toBe(c.epoch);
    if (c.content) expect(peek.contentType).toBe(c.content);
    expect(encodeMlsMessage(decodeMlsMessageBytes(bytes))).toEqual(bytes);
  });

  it('key package decodes with its credential; trailing or missing bytes are MALFORMED', () => {
    const bytes = fromHex(vectors.mls_key_package);
    const kp = decodeKeyPackage(bytes);
    expect(kp.cipherSuite).toBe('MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519');
    expect(kp.leafNode.credential).toEqual({ credentialType: 'basic', identity: new TextEncoder().encode('Alice') });
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => peekMlsMessage(longer)).toThrow(CryptoError);
    expect(() => peekMlsMessage(bytes.subarray(0, bytes.length - 1))).toThrow(CryptoError);
  });
});
