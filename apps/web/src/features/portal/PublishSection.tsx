'use client';

import { fromBase64Url, fromHex } from '@qpc/crypto';
import { buildAnnounce, isFappError, MAX_SLOT_HORIZON_MS } from '@qpc/fapp';
import { type Altersgruppe, type Fachrichtung, type Kostentraeger, type Modalitaet, type Terminart } from '@qpc/proto';
import { useState } from 'react';
import { ApiProblem } from '../fapp/api';
import { fill } from '../fapp/format';
import { postAnnounce, type AnnounceAccepted } from './api';
import { nextSequence } from './keys';
import { portalProblem, type Commit, type PortalTexts, type Unlocked } from './shared';
import { publishable } from './slots';
import styles from './portal.module.css';

/** Slots must start after the announce's issue time and within its horizon. */
const START_MARGIN_MS = 60_000;

export function PublishSection({ t, unlocked, commit }: { t: PortalTexts; unlocked: Unlocked; commit: Commit }) {
  const p = t.portal.publish;
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [result, setResult] = useState<AnnounceAccepted | null>(null);
  const profile = unlocked.state.profile;
  const complete = profile.plz !== '' && profile.fachrichtungen.length > 0 && profile.altersgruppen.length > 0 && profile.modalitaeten.length > 0 && profile.kostentraeger.length > 0 && profile.languages.length > 0;

  async function onPublish() {
    if (!complete) return setStatus(p.needProfile);
    setBusy(true);
    setStatus(p.working);
    try {
      const now = Date.now();
      // The sequence is saved before the announce leaves: a crash in between can never reuse it.
      const state = await commit((s) => ({
        ...s,
        sequence: nextSequence(s.sequence, now),
        slots: publishable(s.slots, now + START_MARGIN_MS),
      }));
      const slots = state.slots.filter((x) => x.startMs < now + MAX_SLOT_HORIZON_MS);
      const bytes = buildAnnounce(
        unlocked.keys.signing,
        {
          kemPublicKey: unlocked.keys.kem.publicKey,
          ...(state.attestation ? { attestation: fromBase64Url(state.attestation) } : {}),
          fachrichtungen: state.profile.fachrichtungen as Fachrichtung[],
          altersgruppen: state.profile.altersgruppen as Altersgruppe[],
          modalitaeten: state.profile.modalitaeten as Modalitaet[],
          kostentraeger: state.profile.kostentraeger as Kostentraeger[],
          plz: state.profile.plz,
          languages: state.profile.languages,
          barrierFree: state.profile.barrierFree,
          ...(state.profile.profileUrl ? { profileUrl: state.profile.profileUrl } : {}),
          ...(state.profile.displayName ? { displayName: state.profile.displayName } : {}),
          slots: slots.map((x) => ({ id: fromHex(x.id), startMs: x.startMs, durationMinutes: x.durationMinutes, terminart: x.terminart as Terminart, ...(x.groupSize ? { groupSize: x.groupSize } : {}) })),
          sequence: state.sequence,
        },
        now,
      );
      const accepted = await postAnnounce(bytes);
      setResult(accepted);
      setStatus(fill(p.done, { n: accepted.slots, sequence: accepted.sequence }));
    } catch (err) {
      if (isFappError(err)) setStatus(fill(p.failed, { reason: err.message }));
      else if (err instanceof ApiProblem && err.code.startsWith('fapp.') && !(err.code in t.portal.errors)) setStatus(fill(p.failed, { reason: err.message }));
      else setStatus(portalProblem(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section id="veroeffentlichen" className={styles.section} aria-labelledby="publish-heading">
      <h2 id="publish-heading">{p.heading}</h2>
      <p>{p.lead}</p>
      <button type="button" className={styles.button} onClick={() => void onPublish()} disabled={busy} data-testid="publish">
        {p.button}
      </button>
      <p className={styles.status} role="status" aria-live="polite" data-testid="publish-status">
        {status ?? ''}
      </p>
      {result && (
        <p data-testid="verification" data-verified={result.verified ? 'true' : 'false'}>
          <span className={styles.badge}>{result.verified && result.authority ? fill(p.verified, { authority: result.authority }) : p.unverified}</span>
        </p>
      )}
    </section>
  );
}
