import { describe, expect, it } from 'vitest';
import { decodeAnnounceBatch, encodeAnnounceBatch } from './batch.js';
import { verifyAnnounce } from './index.js';
import { announceBytes, attestationBytes, NOW, trust } from './test/fixtures.js';

// A verified announce is kept for a long time (the server's caches and search index), and all its
// byte fields are views. Views into a batch body would keep the whole body alive for as long as
// any one of its announces is kept.
describe('the bytes a verified announce refers to', () => {
  it('are its own when it was cut from a larger buffer, such as a batch body', () => {
    const items = [announceBytes({ attestation: attestationBytes() }), announceBytes({}), announceBytes({})];
    const body = encodeAnnounceBatch(items);
    const cut = decodeAnnounceBatch(body)[0]!;
    expect(cut.buffer).toBe(body.buffer);

    const v = verifyAnnounce(cut, { nowMs: NOW, trust });
    expect(v.bytes).toEqual(items[0]);
    const views = [v.bytes, v.body, v.announce.therapistKey, v.announce.kemKey, ...v.announce.slots.map((s) => s.id)];
    for (const view of views) {
      expect(view.buffer).not.toBe(body.buffer);
      expect(view.buffer.byteLength).toBe(items[0]!.byteLength);
    }
    // The attestation is kept apart from its announce (the attestation cache), in bytes of its own.
    if (v.status.kind !== 'verified') throw new Error('expected a verified announce');
    for (const view of [v.status.attestation.therapistKey, v.status.attestation.attestationId, v.status.attestation.authorityKey]) {
      expect(view.buffer).not.toBe(body.buffer);
      expect(view.buffer).not.toBe(v.bytes.buffer);
      expect(view.buffer.byteLength).toBeLessThan(items[0]!.byteLength / 4);
    }
  });

  it('are the ones given when they fill their buffer', () => {
    const bytes = announceBytes({});
    expect(bytes.byteLength).toBe(bytes.buffer.byteLength);
    const v = verifyAnnounce(bytes, { nowMs: NOW, trust });
    expect(v.bytes).toBe(bytes);
    expect(v.announce.kemKey.buffer).toBe(bytes.buffer);
  });
});
