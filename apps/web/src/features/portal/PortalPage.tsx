'use client';

import { zeroize } from '@qpc/crypto';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { type Locale } from '../../i18n/locale-path';
import { ApiProblem } from '../fapp/api';
import { fill } from '../fapp/format';
import { getBackup, loadOpaque, putBackup, signIn, signOut, signUp, type PortalSession, type SignedIn } from './api';
import { InboxSection, type SlotStates } from './InboxSection';
import { keysOf, newPortalState, openState, sealState, type PortalState } from './keys';
import { ProfileSection } from './ProfileSection';
import { PublishSection } from './PublishSection';
import { portalProblem, type PortalTexts, type Unlocked } from './shared';
import { SlotsSection } from './SlotsSection';
import styles from './portal.module.css';

const SESSION_KEY = 'qpc.portal.session.v1';
const USERNAME = /^[a-z0-9][a-z0-9_.-]{2,31}$/;
const MIN_PASSWORD = 10;

async function unlock(signed: SignedIn): Promise<{ unlocked: Unlocked; restored: boolean }> {
  const { session, secrets } = signed;
  const stored = await getBackup(session.token);
  if (stored) {
    const state = await openState(secrets, stored.ciphertext, stored.version);
    return { unlocked: { session, secrets, state, version: stored.version, keys: keysOf(state) }, restored: true };
  }
  const state = newPortalState();
  await putBackup(session.token, await sealState(secrets, state, 1), 1, 0);
  return { unlocked: { session, secrets, state, version: 1, keys: keysOf(state) }, restored: false };
}

export function PortalPage({ locale, t, demo }: { locale: Locale; t: PortalTexts; demo: boolean }) {
  const p = t.portal;
  const [hydrated, setHydrated] = useState(false);
  const [mode, setMode] = useState<'signIn' | 'signUp'>('signIn');
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [authError, setAuthError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [unlocked, setUnlocked] = useState<Unlocked | null>(null);
  const [slotStates, setSlotStates] = useState<SlotStates>(new Map());
  const current = useRef<Unlocked | null>(null);
  const saving = useRef<Promise<unknown>>(Promise.resolve());
  const passwordRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setHydrated(true);
    // Keys live in memory only: after a reload the old session is ended and the password asked again.
    const stale = sessionStorage.getItem(SESSION_KEY);
    if (stale) {
      sessionStorage.removeItem(SESSION_KEY);
      try {
        const s = JSON.parse(stale) as PortalSession;
        setUsername(s.username);
        void signOut(s.token).catch(() => undefined);
      } catch {
        // unreadable: nothing to end
      }
    }
  }, []);

  /** Writes the next state to the encrypted backup (compare-and-swap on its version), one write at a time. */
  const commit = useCallback((next: (s: PortalState) => PortalState): Promise<PortalState> => {
    const run = saving.current.then(async () => {
      const u = current.current;
      if (!u) throw new Error('locked');
      const state = next(u.state);
      const version = u.version + 1;
      await putBackup(u.session.token, await sealState(u.secrets, state, version), version, u.version);
      const updated = { ...u, state, version };
      current.current = updated;
      setUnlocked(updated);
      return state;
    });
    saving.current = run.catch(() => undefined);
    return run;
  }, []);

  async function onAuth(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    // A JS string cannot be wiped, only dropped: it is read from the field here, used by OPAQUE
    // in this page, and the field is cleared once signed in.
    const password = passwordRef.current?.value ?? '';
    const name = username.trim();
    if (!USERNAME.test(name)) return setAuthError(p.auth.usernameInvalid);
    if (mode === 'signUp' && password.length < MIN_PASSWORD) return setAuthError(p.auth.passwordShort);
    setBusy(true);
    setAuthError(null);
    try {
      const signed = mode === 'signUp' ? await signUp(name, password) : await signIn(name, password);
      if (!signed) {
        setAuthError(p.auth.wrongPassword);
        return;
      }
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(signed.session));
      let result: Awaited<ReturnType<typeof unlock>>;
      try {
        result = await unlock(signed);
      } catch (err) {
        setAuthError(err instanceof ApiProblem ? portalProblem(t, err) : p.auth.restoreFailed);
        return;
      }
      if (passwordRef.current) passwordRef.current.value = '';
      current.current = result.unlocked;
      setUnlocked(result.unlocked);
      setNotice(result.restored ? p.auth.keysRestored : p.auth.keysCreated);
    } catch (err) {
      if (err instanceof ApiProblem && err.code === 'accounts.username_taken') setAuthError(p.auth.usernameTaken);
      else if (err instanceof ApiProblem && err.code === 'auth.invalid_credentials') setAuthError(p.auth.wrongPassword);
      else setAuthError(portalProblem(t, err));
    } finally {
      setBusy(false);
    }
  }

  async function onSignOut() {
    const u = current.current;
    current.current = null;
    setUnlocked(null);
    setSlotStates(new Map());
    setNotice(null);
    sessionStorage.removeItem(SESSION_KEY);
    if (!u) return;
    await signOut(u.session.token).catch(() => undefined);
    // Best effort: the key bytes are overwritten, though copies the engine made cannot be reached.
    for (const k of [u.secrets.backupSecretKey, u.secrets.deviceSigning.secretKey, u.keys.signing.secretKey, u.keys.kem.secretKey]) zeroize(k);
  }

  if (!unlocked) {
    const signUpMode = mode === 'signUp';
    return (
      <section className={styles.section} aria-labelledby="portal-auth">
        <h2 id="portal-auth">{signUpMode ? p.auth.signUpHeading : p.auth.signInHeading}</h2>
        <form onSubmit={onAuth} onFocus={() => void loadOpaque().catch(() => undefined)} noValidate data-testid="auth-form">
          <div className={styles.field}>
            <label htmlFor="portal-username">{p.auth.username}</label>
            <input
              id="portal-username"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              value={username}
              onChange={(e) => setUsername(e.target.value.toLowerCase())}
              aria-describedby="portal-username-hint"
              required
            />
            <p id="portal-username-hint" className={styles.hint}>
              {p.auth.usernameHint}
            </p>
          </div>
          <div className={styles.field}>
            <label htmlFor="portal-password">{p.auth.password}</label>
            <input
              id="portal-password"
              name="password"
              type="password"
              ref={passwordRef}
              autoComplete={signUpMode ? 'new-password' : 'current-password'}
              aria-describedby={signUpMode ? 'portal-password-hint' : undefined}
              required
            />
            {signUpMode && (
              <p id="portal-password-hint" className={styles.hint}>
                {p.auth.passwordHint}
              </p>
            )}
          </div>
          <p className={styles.status} role="status" aria-live="polite" data-testid="auth-status">
            {busy ? p.auth.working : ''}
          </p>
          {authError && (
            <p className={styles.error} role="alert" data-testid="auth-error">
              {authError}
            </p>
          )}
          <div className={styles.actions}>
            <button type="submit" className={styles.button} disabled={!hydrated || busy} data-testid="auth-submit">
              {signUpMode ? p.auth.signUp : p.auth.signIn}
            </button>
            <button
              type="button"
              className={styles.secondary}
              disabled={busy}
              onClick={() => {
                setMode(signUpMode ? 'signIn' : 'signUp');
                setAuthError(null);
              }}
            >
              {signUpMode ? p.auth.toSignIn : p.auth.toSignUp}
            </button>
          </div>
        </form>
      </section>
    );
  }

  return (
    <div data-testid="portal">
      <div className={styles.bar}>
        <p data-testid="signed-in">{fill(p.auth.signedInAs, { name: unlocked.session.username })}</p>
        <button type="button" className={styles.secondary} onClick={() => void onSignOut()} data-testid="sign-out">
          {p.auth.signOut}
        </button>
      </div>
      {notice && (
        <p className={styles.status} role="status" data-testid="portal-notice">
          {notice}
        </p>
      )}
      <nav aria-label={p.nav.label}>
        <ul className={styles.nav}>
          <li>
            <a href="#profil">{p.nav.profile}</a>
          </li>
          <li>
            <a href="#termine">{p.nav.slots}</a>
          </li>
          <li>
            <a href="#veroeffentlichen">{p.nav.publish}</a>
          </li>
          <li>
            <a href="#anfragen">{p.nav.inbox}</a>
          </li>
        </ul>
      </nav>
      <ProfileSection t={t} unlocked={unlocked} commit={commit} demo={demo} locale={locale} />
      <SlotsSection t={t} unlocked={unlocked} commit={commit} locale={locale} slotStates={slotStates} />
      <PublishSection t={t} unlocked={unlocked} commit={commit} />
      <InboxSection t={t} unlocked={unlocked} locale={locale} onStates={setSlotStates} />
    </div>
  );
}
