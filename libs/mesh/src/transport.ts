import type { SigningKeyPair } from '@qpc/crypto';
import { isMeshError, meshFail, MeshError } from './errors.js';
import type { LoraRadio, LoraSendOutcome } from './lora.js';
import {
  MLS_LITE_HEADER_BYTES,
  MLS_LITE_MAX_PAYLOAD_BYTES,
  MLS_LITE_OVERHEAD_BYTES,
  MLS_LITE_SIGNED_OVERHEAD_BYTES,
  openMlsLite,
  sealMlsLite,
  type MlsLiteState,
} from './mls-lite.js';

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

/** A message opened on the LoRa side: which group, which sender index, the plaintext. */
export interface LoraGroupDelivery {
  groupId: number;
  senderIndex: number;
  counter: number;
  payload: Uint8Array;
}

/**
 * The LoRa side of the transport manager (sans-IO over a LoraRadio and its clock): every
 * message is sealed with MLS-Lite for its group BEFORE fragmentation and opened AFTER
 * reassembly, with the group's replay window enforced. A group without a key is refused
 * with INVALID_KEY: nothing goes on air in clear. Messages that do not open (unknown group,
 * replay, bad tag) are dropped and reported through `onRejected`.
 */
export class LoraGroupLink {
  private readonly groups = new Map<number, MlsLiteState>();
  onMessage: (m: LoraGroupDelivery) => void = () => undefined;
  onRejected: (error: MeshError) => void = () => undefined;

  constructor(
    readonly radio: LoraRadio,
    private readonly signer?: SigningKeyPair,
  ) {
    radio.onMessage = (bytes) => this.receive(bytes);
  }

  /** Installs (or replaces, e.g. after an epoch change) the MLS-Lite state of a group. */
  setGroup(state: MlsLiteState): void {
    this.groups.set(state.groupId, state);
  }

  /** Current state of a group (persist it with its replay windows). */
  group(groupId: number): MlsLiteState | undefined {
    return this.groups.get(groupId);
  }

  /** Seals `payload` for `groupId` and queues it on the radio; throws INVALID_KEY without a group key. */
  send(groupId: number, payload: Uint8Array): Promise<LoraSendOutcome> {
    const state = this.groups.get(groupId);
    if (!state) meshFail('INVALID_KEY', `no MLS-Lite key for group ${groupId}: refusing to send over LoRa in clear`);
    const sealed = sealMlsLite(state, payload, this.signer);
    this.groups.set(groupId, sealed.state);
    return this.radio.send(sealed.message);
  }

  /** As a link candidate for chooseLink(): sized for the sealed message. */
  candidate(available = true): LinkCandidate {
    const overhead = this.signer ? MLS_LITE_SIGNED_OVERHEAD_BYTES : MLS_LITE_OVERHEAD_BYTES;
    return {
      name: 'lora',
      maxMessageBytes: MLS_LITE_MAX_PAYLOAD_BYTES,
      available,
      estimateDeliveryMs: (bytes, nowMs) => this.radio.estimateDeliveryMs(bytes + overhead, nowMs),
    };
  }

  private receive(bytes: Uint8Array): void {
    try {
      if (bytes.length < MLS_LITE_HEADER_BYTES) meshFail('MALFORMED', 'LoRa message shorter than an MLS-Lite header');
      const groupId = (bytes[1]! << 8) | bytes[2]!;
      const state = this.groups.get(groupId);
      if (!state) meshFail('INVALID_KEY', `no MLS-Lite key for group ${groupId}`);
      const opened = openMlsLite(state, bytes);
      this.groups.set(groupId, opened.state);
      this.onMessage({ groupId, senderIndex: opened.message.senderIndex, counter: opened.message.counter, payload: opened.message.payload });
    } catch (e) {
      this.onRejected(isMeshError(e) ? e : new MeshError('MALFORMED', 'LoRa message did not open', { cause: e }));
    }
  }
}
