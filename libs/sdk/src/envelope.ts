import { fromUtf8, utf8 } from '@qpc/crypto';

/**
 * What travels inside an MLS application message: a small versioned JSON envelope, so later
 * payloads (reactions, edits, files) are new `type`s and the server still sees one opaque
 * ciphertext. `from` is the sender's claimed username; receivers check it against the
 * sender device's key-transparency binding before they show it as verified.
 */
export interface Envelope {
  v: 1;
  type: string;
  /** Unique per message (the client message id). */
  id: string;
  /** ISO-8601 UTC. */
  sentAt: string;
  from: string;
  body: unknown;
}

export interface ConversationMeta {
  name: string;
  kind: 'dm' | 'group';
  members: string[];
}

/** The payload types this SDK version understands; others are passed through as `type`. */
export const ENVELOPE_TYPES = ['text', 'conversation'] as const;

/** Largest envelope this SDK encodes (the server's message limit applies on top). */
export const MAX_ENVELOPE_BYTES = 60_000;

export function encodeEnvelope(e: Envelope): Uint8Array {
  return utf8(JSON.stringify(e));
}

/**
 * Decodes an envelope. Anything that is not one (an older client's raw UTF-8 text) becomes a
 * text envelope without a sender, so nothing is dropped silently.
 */
export function decodeEnvelope(bytes: Uint8Array, fallbackId: string): Envelope {
  const raw = fromUtf8(bytes);
  try {
    const e = JSON.parse(raw) as Partial<Envelope>;
    if (e && e.v === 1 && typeof e.type === 'string' && typeof e.id === 'string' && typeof e.sentAt === 'string' && typeof e.from === 'string') {
      return { v: 1, type: e.type, id: e.id, sentAt: e.sentAt, from: e.from, body: e.body };
    }
  } catch {
    // not JSON: plain text
  }
  return { v: 1, type: 'text', id: fallbackId, sentAt: new Date(0).toISOString(), from: '', body: raw };
}

/** The displayable text of an envelope (`[type]` for types without text). */
export function envelopeText(e: Envelope): string {
  if (e.type === 'text') return typeof e.body === 'string' ? e.body : String(e.body);
  return `[${e.type}]`;
}

export function isConversationMeta(b: unknown): b is ConversationMeta {
  const m = b as ConversationMeta;
  return !!m && typeof m.name === 'string' && (m.kind === 'dm' || m.kind === 'group') && Array.isArray(m.members) && m.members.every((x) => typeof x === 'string');
}
