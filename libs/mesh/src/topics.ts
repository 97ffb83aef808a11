import { MeshError } from './errors.js';

/** Protocol identifiers spoken by quicprochat mesh nodes (libp2p protocol ids and topics). */
export const PROTOCOL_PREFIX = '/qpc';
export const FAPP_TOPIC_PREFIX = `${PROTOCOL_PREFIX}/fapp/1/plz/`;

/**
 * FAPP announces are gossiped per PLZ region: the topic is named by the first two digits
 * (the Leitregion), so a node subscribes to the regions it serves and a patient's client
 * can sync one region without revealing a finer location.
 */
export function fappTopicForPlz(plzOrPrefix: string): string {
  if (!/^\d{2,5}$/.test(plzOrPrefix)) throw new MeshError('INVALID_REGION', `not a PLZ or PLZ prefix: ${JSON.stringify(plzOrPrefix)}`);
  return `${FAPP_TOPIC_PREFIX}${plzOrPrefix.slice(0, 2)}`;
}

/** The region (2-digit Leitregion) a topic carries, or null for a topic that is not FAPP's. */
export function regionOfTopic(topic: string): string | null {
  if (!topic.startsWith(FAPP_TOPIC_PREFIX)) return null;
  const region = topic.slice(FAPP_TOPIC_PREFIX.length);
  return /^\d{2}$/.test(region) ? region : null;
}
