import { type Dictionary } from '../../i18n/de';
import { ApiProblem } from '../fapp/api';
import { problemMessage } from '../fapp/labels';
import { type PortalSession } from './api';
import { type AccountSecrets, type PortalState, type TherapistKeys } from './keys';

export type PortalTexts = Pick<Dictionary, 'portal' | 'errors' | 'labels'>;

/** The open portal: session, the secrets from the export key, and the decrypted backup. Memory only. */
export interface Unlocked {
  session: PortalSession;
  secrets: AccountSecrets;
  state: PortalState;
  version: number;
  keys: TherapistKeys;
}

/** Applies a change to the backed-up state and stores it (encrypted) before resolving. */
export type Commit = (next: (s: PortalState) => PortalState) => Promise<PortalState>;

/** A translated sentence for any failure: portal codes first, then the shared API ones. */
export function portalProblem(t: PortalTexts, e: unknown): string {
  if (e instanceof ApiProblem) {
    const own = (t.portal.errors as Record<string, string>)[e.code];
    return own ?? problemMessage(t.errors, e.code, e.status);
  }
  return t.errors.generic;
}

/** The numeric members of a protobuf enum, without UNSPECIFIED. */
export function enumValues(e: Record<string, string | number>): number[] {
  return Object.entries(e)
    .filter(([k, v]) => typeof v === 'number' && k !== 'UNSPECIFIED')
    .map(([, v]) => v as number);
}
