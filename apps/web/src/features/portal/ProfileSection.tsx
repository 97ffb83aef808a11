'use client';

import { fromBase64Url, sha256, signingKeyPairFromSeed, toBase64Url, utf8 } from '@qpc/crypto';
import { createTrustStore, decodeMessage, DAY_MS, isValidPlz, issueAttestation, verifyAttestation, type Attestation } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, FappSignedSchema, Kostentraeger, Modalitaet } from '@qpc/proto';
import { useState, type FormEvent } from 'react';
import { type Locale } from '../../i18n/locale-path';
import { berlinDate, fill } from '../fapp/format';
import { altersgruppeLabel, fachrichtungLabel, kostentraegerLabel, languageLabel, modalitaetLabel } from '../fapp/labels';
import { type PortalProfile } from './keys';
import { portalProblem, enumValues, type Commit, type PortalTexts, type Unlocked } from './shared';
import styles from './portal.module.css';

/**
 * The DEMO licensing authority (see seed/src/authority.ts): its key comes from a public label,
 * so anyone can sign as it. Only offered when the deployment runs with QPC_DEMO=1.
 */
const DEMO_AUTHORITY_SEED_LABEL = 'quicprochat/demo-licensing-authority/v1 (public demo key, not a real Kammer)';

/** Signature, therapist key and validity of an attestation, checked against its own signer. */
export function readAttestation(b64: string, therapistKey: Uint8Array, nowMs: number): Attestation | null {
  try {
    const bytes = fromBase64Url(b64.trim());
    const env = decodeMessage(FappSignedSchema, bytes);
    return verifyAttestation(bytes, therapistKey, createTrustStore([{ name: 'signer', publicKey: env.signerKey }]), nowMs).attestation;
  } catch {
    return null;
  }
}

type ProfileErrors = Partial<Record<'plz' | 'profileUrl' | 'fachrichtungen' | 'altersgruppen' | 'modalitaeten' | 'kostentraeger' | 'languages', string>>;

export function ProfileSection({ t, unlocked, commit, demo, locale }: { t: PortalTexts; unlocked: Unlocked; commit: Commit; demo: boolean; locale: Locale }) {
  const p = t.portal;
  const [draft, setDraft] = useState<PortalProfile>(unlocked.state.profile);
  const [errors, setErrors] = useState<ProfileErrors>({});
  const [status, setStatus] = useState<string | null>(null);
  const [attStatus, setAttStatus] = useState<string | null>(null);
  const [pasted, setPasted] = useState('');
  const [busy, setBusy] = useState(false);
  const nowMs = Date.now();
  const current = unlocked.state.attestation ? readAttestation(unlocked.state.attestation, unlocked.keys.signing.publicKey, nowMs) : null;

  const toggle = (field: 'fachrichtungen' | 'altersgruppen' | 'modalitaeten' | 'kostentraeger', v: number) =>
    setDraft((d) => ({ ...d, [field]: d[field].includes(v) ? d[field].filter((x) => x !== v) : [...d[field], v].sort((a, b) => a - b) }));
  const toggleLanguage = (code: string) => setDraft((d) => ({ ...d, languages: d.languages.includes(code) ? d.languages.filter((x) => x !== code) : [...d.languages, code] }));

  async function onSave(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const errs: ProfileErrors = {};
    if (!isValidPlz(draft.plz)) errs.plz = p.profile.plzInvalid;
    if (draft.profileUrl !== '' && !/^https:\/\/[^\s@]+$/.test(draft.profileUrl)) errs.profileUrl = p.profile.urlInvalid;
    for (const f of ['fachrichtungen', 'altersgruppen', 'modalitaeten', 'kostentraeger', 'languages'] as const) if (draft[f].length === 0) errs[f] = p.profile.needOne;
    setErrors(errs);
    if (Object.keys(errs).length > 0) return setStatus(p.profile.invalid);
    setBusy(true);
    try {
      await commit((s) => ({ ...s, profile: { ...draft, displayName: draft.displayName.trim(), profileUrl: draft.profileUrl.trim() } }));
      setStatus(p.profile.saved);
    } catch (err) {
      setStatus(portalProblem(t, err));
    } finally {
      setBusy(false);
    }
  }

  async function attach(b64: string) {
    if (!readAttestation(b64, unlocked.keys.signing.publicKey, Date.now())) return setAttStatus(p.attestation.invalid);
    try {
      await commit((s) => ({ ...s, attestation: b64.trim() }));
      setPasted('');
      setAttStatus(p.attestation.attached);
    } catch (err) {
      setAttStatus(portalProblem(t, err));
    }
  }

  async function issueDemo() {
    const fachrichtungen = unlocked.state.profile.fachrichtungen;
    if (fachrichtungen.length === 0) return setAttStatus(p.attestation.demoNeedsFachrichtung);
    const now = Date.now();
    const authority = signingKeyPairFromSeed(sha256(utf8(DEMO_AUTHORITY_SEED_LABEL)));
    const issued = issueAttestation(
      authority,
      { therapistKey: unlocked.keys.signing.publicKey, licenceNumber: `DEMO-${unlocked.session.username}`, fachrichtungen: fachrichtungen as Fachrichtung[], validUntilMs: now + 365 * DAY_MS },
      now,
    );
    await attach(toBase64Url(issued.bytes));
  }

  function checks(field: 'fachrichtungen' | 'altersgruppen' | 'modalitaeten' | 'kostentraeger', legend: string, values: number[], label: (v: number) => string) {
    return (
      <fieldset className={styles.fieldset} aria-describedby={errors[field] ? `err-${field}` : undefined} data-testid={`profile-${field}`}>
        <legend className={styles.legend}>{legend}</legend>
        {values.map((v) => (
          <label key={v} className={styles.check}>
            <input type="checkbox" checked={draft[field].includes(v)} onChange={() => toggle(field, v)} value={v} />
            {label(v)}
          </label>
        ))}
        {errors[field] && (
          <p id={`err-${field}`} className={styles.error}>
            {errors[field]}
          </p>
        )}
      </fieldset>
    );
  }

  return (
    <section id="profil" className={styles.section} aria-labelledby="profile-heading">
      <h2 id="profile-heading">{p.profile.heading}</h2>
      <form onSubmit={onSave} noValidate data-testid="profile-form">
        <div className={styles.grid}>
          <div className={styles.field}>
            <label htmlFor="profile-name">{p.profile.displayName}</label>
            <input id="profile-name" maxLength={80} value={draft.displayName} onChange={(e) => setDraft({ ...draft, displayName: e.target.value })} />
          </div>
          <div className={styles.field}>
            <label htmlFor="profile-plz">{p.profile.plz}</label>
            <input
              id="profile-plz"
              inputMode="numeric"
              maxLength={5}
              value={draft.plz}
              onChange={(e) => setDraft({ ...draft, plz: e.target.value.trim() })}
              aria-invalid={errors.plz ? true : undefined}
              aria-describedby={errors.plz ? 'err-plz' : undefined}
            />
            {errors.plz && (
              <p id="err-plz" className={styles.error}>
                {errors.plz}
              </p>
            )}
          </div>
          <div className={styles.field}>
            <label htmlFor="profile-url">{p.profile.profileUrl}</label>
            <input
              id="profile-url"
              type="url"
              value={draft.profileUrl}
              onChange={(e) => setDraft({ ...draft, profileUrl: e.target.value })}
              aria-invalid={errors.profileUrl ? true : undefined}
              aria-describedby={errors.profileUrl ? 'err-url' : undefined}
            />
            {errors.profileUrl && (
              <p id="err-url" className={styles.error}>
                {errors.profileUrl}
              </p>
            )}
          </div>
        </div>
        <label className={styles.check}>
          <input type="checkbox" checked={draft.barrierFree} onChange={(e) => setDraft({ ...draft, barrierFree: e.target.checked })} />
          {p.profile.barrierFree}
        </label>
        <div className={styles.grid}>
          {checks('fachrichtungen', p.profile.fachrichtungen, enumValues(Fachrichtung), (v) => fachrichtungLabel(t.labels, v))}
          {checks('altersgruppen', p.profile.altersgruppen, enumValues(Altersgruppe), (v) => altersgruppeLabel(t.labels, v))}
          {checks('modalitaeten', p.profile.modalitaeten, enumValues(Modalitaet), (v) => modalitaetLabel(t.labels, v))}
          {checks('kostentraeger', p.profile.kostentraeger, enumValues(Kostentraeger), (v) => kostentraegerLabel(t.labels, v))}
          <fieldset className={styles.fieldset} data-testid="profile-languages" aria-describedby={errors.languages ? 'err-languages' : undefined}>
            <legend className={styles.legend}>{p.profile.languages}</legend>
            {Object.keys(t.labels.languages).map((code) => (
              <label key={code} className={styles.check}>
                <input type="checkbox" checked={draft.languages.includes(code)} onChange={() => toggleLanguage(code)} value={code} />
                {languageLabel(t.labels, code)}
              </label>
            ))}
            {errors.languages && (
              <p id="err-languages" className={styles.error}>
                {errors.languages}
              </p>
            )}
          </fieldset>
        </div>
        <p className={styles.status} role="status" aria-live="polite" data-testid="profile-status">
          {status ?? ''}
        </p>
        <button type="submit" className={styles.button} disabled={busy} data-testid="profile-save">
          {p.profile.save}
        </button>
      </form>

      <h3>{p.attestation.heading}</h3>
      <p>{p.attestation.lead}</p>
      <p data-testid="attestation-current">
        {current
          ? fill(p.attestation.current, {
              fachrichtungen: current.fachrichtungen.map((f) => fachrichtungLabel(t.labels, f)).join(', '),
              until: berlinDate(current.validUntilMs, locale),
            })
          : p.attestation.none}
      </p>
      <div className={styles.field}>
        <label htmlFor="attestation-paste">{p.attestation.label}</label>
        <textarea id="attestation-paste" spellCheck={false} value={pasted} onChange={(e) => setPasted(e.target.value)} />
      </div>
      <div className={styles.actions}>
        <button type="button" className={styles.secondary} onClick={() => void attach(pasted)} disabled={pasted.trim() === ''}>
          {p.attestation.attach}
        </button>
        {unlocked.state.attestation && (
          <button type="button" className={styles.secondary} onClick={() => void commit((s) => ({ ...s, attestation: null })).catch((err: unknown) => setAttStatus(portalProblem(t, err)))}>
            {p.attestation.remove}
          </button>
        )}
      </div>
      {demo && (
        <div className={styles.demo} data-testid="demo-attestation">
          <h4>{p.attestation.demoHeading}</h4>
          <p>{p.attestation.demoLead}</p>
          <button type="button" className={styles.secondary} onClick={() => void issueDemo()} data-testid="demo-attest">
            {p.attestation.demoIssue}
          </button>
        </div>
      )}
      <p className={styles.status} role="status" aria-live="polite" data-testid="attestation-status">
        {attStatus ?? ''}
      </p>
    </section>
  );
}
