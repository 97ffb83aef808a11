import { MeshError } from './errors.js';

/** What the transport manager needs to know about one link to a destination. */
export interface LinkCandidate {
  name: string;
  /** Largest message the link carries. */
  maxMessageBytes: number;
  /** Reachable right now (connected peer, radio in range). */
  available: boolean;
  /** Expected time until a message of this size is through. */
  estimateDeliveryMs(bytes: number, nowMs: number): number;
}

export interface LinkPolicy {
  /** Give up on a link whose estimate exceeds this (e.g. a 60 KB envelope over LoRa). */
  maxDeliveryMs: number;
}

export const DEFAULT_LINK_POLICY: LinkPolicy = { maxDeliveryMs: 6 * 3600_000 };

export type LinkChoice = { kind: 'link'; link: LinkCandidate; estimateMs: number } | { kind: 'none'; error: MeshError };

/**
 * Picks the link for a message by size: among available links that carry the size within
 * the delivery budget, the one with the smallest estimate. libp2p estimates milliseconds,
 * the LoRa link hours, so LoRa is the fallback when no IP path exists and the message is small.
 */
export function chooseLink(links: readonly LinkCandidate[], bytes: number, nowMs: number, policy: LinkPolicy = DEFAULT_LINK_POLICY): LinkChoice {
  let best: { link: LinkCandidate; estimateMs: number } | undefined;
  let reason = 'no link is available';
  for (const link of links) {
    if (!link.available) continue;
    if (bytes > link.maxMessageBytes) {
      reason = `${bytes} bytes exceed what ${link.name} carries (${link.maxMessageBytes})`;
      continue;
    }
    const estimateMs = link.estimateDeliveryMs(bytes, nowMs);
    if (estimateMs > policy.maxDeliveryMs) {
      reason = `${link.name} would need ${Math.round(estimateMs / 1000)} s`;
      continue;
    }
    if (!best || estimateMs < best.estimateMs) best = { link, estimateMs };
  }
  return best ? { kind: 'link', ...best } : { kind: 'none', error: new MeshError('NO_LINK', reason) };
}

/** A libp2p connection as a link candidate: fast, large messages, available while connected. */
export function libp2pLink(connected: boolean, maxMessageBytes: number, rttMs = 50): LinkCandidate {
  return { name: 'libp2p', maxMessageBytes, available: connected, estimateDeliveryMs: () => rttMs };
}
