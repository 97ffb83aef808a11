import { meshAddress, randomBytes, sha256, signingKeyPairFromSeed, toHex, utf8 } from '@qpc/crypto';
import { describe, expect, it } from 'vitest';
import { createFappMeshEnvelope, decodeFappMeshMessage, encodeFappMeshMessage, MAX_ENVELOPE_TTL_MS, MAX_PAYLOAD_BYTES, openMeshEnvelope, replyAddressOf, reservationReplyIdentity } from './index.js';
import { meshErrorCode } from './test/checks.js';

const NOW = Date.UTC(2026, 2, 2, 8, 0);

describe('FappMeshMessage', () => {
  it('round-trips a reserve and a confirm', () => {
    for (const kind of ['reserve', 'confirm'] as const) {
      const bytes = randomBytes(100);
      const m = decodeFappMeshMessage(encodeFappMeshMessage({ kind, bytes }));
      expect(m.kind).toBe(kind);
      expect(toHex(m.bytes)).toBe(toHex(bytes));
    }
  });

  it('refuses an empty message, an empty value, bad wire data and an over-long payload', () => {
    expect(meshErrorCode(() => decodeFappMeshMessage(new Uint8Array(0)))).toBe('MALFORMED');
    expect(meshErrorCode(() => decodeFappMeshMessage(encodeFappMeshMessage({ kind: 'reserve', bytes: new Uint8Array(0) })))).toBe('MALFORMED');
    expect(meshErrorCode(() => decodeFappMeshMessage(Uint8Array.of(0x0a, 0xff)))).toBe('MALFORMED');
    expect(meshErrorCode(() => decodeFappMeshMessage(new Uint8Array(MAX_PAYLOAD_BYTES + 1)))).toBe('TOO_LARGE');
  });
});

describe('reservation reply identity', () => {
  it('is derived from the capability, differs per capability, and is not the mailbox id', () => {
    const cap = sha256(utf8('capability-1'));
    const a = reservationReplyIdentity(cap);
    expect(toHex(reservationReplyIdentity(cap).publicKey)).toBe(toHex(a.publicKey));
    expect(toHex(reservationReplyIdentity(sha256(utf8('capability-2'))).publicKey)).not.toBe(toHex(a.publicKey));
    expect(toHex(a.secretKey)).not.toBe(toHex(cap));
    expect(toHex(replyAddressOf(a.publicKey))).toBe(toHex(meshAddress(a.publicKey)));
    expect(meshErrorCode(() => reservationReplyIdentity(new Uint8Array(15)))).toBe('INVALID_KEY');
  });
});

describe('createFappMeshEnvelope', () => {
  it('signs an envelope whose payload decodes, with the lifetime capped at the envelope maximum', () => {
    const sender = signingKeyPairFromSeed(sha256(utf8('sender')));
    const bytes = createFappMeshEnvelope({ sender, recipient: new Uint8Array(16).fill(1), message: { kind: 'confirm', bytes: Uint8Array.of(1, 2, 3) }, nowMs: NOW, ttlMs: 60 * 24 * 3600_000 });
    const e = openMeshEnvelope(bytes, NOW);
    expect(e.expiresAtMs - e.createdAtMs).toBe(MAX_ENVELOPE_TTL_MS);
    expect(decodeFappMeshMessage(e.payload)).toEqual({ kind: 'confirm', bytes: Uint8Array.of(1, 2, 3) });
  });
});
