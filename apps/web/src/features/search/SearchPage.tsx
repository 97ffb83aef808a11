'use client';

import type { AnnounceSlot, SlotFilter, SlotMatch } from '@qpc/fapp';
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { Dictionary } from '../../i18n/de';
import type { Locale } from '../../i18n/locale-path';
import { ApiProblem, fill, problemMessage } from '../fapp/text';
import type { FilterFormErrorCode, FilterFormField, FilterFormValues } from './filter-form';
import type { AuthorityKey, Candidate, RegionSnapshot } from './region-sync';
import styles from './search.module.css';

// The first paint needs only the form. Verification, matching and the result list (with
// @qpc/fapp and the Ed25519 code behind it) load once the patient starts on the form (or
// submits it); the reservation panel (sealing, X-Wing, the proof-of-work worker) only once
// results are shown.
type Engine = typeof import('./engine');
let engineLoad: Promise<Engine> | null = null;
function loadEngine(): Promise<Engine> {
  engineLoad ??= import('./engine').catch((e: unknown) => {
    engineLoad = null;
    throw e;
  });
  return engineLoad;
}
const loadResults = () => import('./SearchResults');
const loadReservePanel = () => import('../reservation/ReservePanel');
const SearchResults = lazy(() => loadResults().then((m) => ({ default: m.SearchResults })));
const ReservePanel = lazy(() => loadReservePanel().then((m) => ({ default: m.ReservePanel })));

/** Runs `task` when the browser is idle, so it never delays input. */
function whenIdle(task: () => void): () => void {
  if (typeof window.requestIdleCallback === 'function') {
    const id = window.requestIdleCallback(task, { timeout: 2_000 });
    return () => window.cancelIdleCallback(id);
  }
  const id = window.setTimeout(task, 200);
  return () => window.clearTimeout(id);
}

export type SearchTexts = Pick<Dictionary, 'search' | 'reserve' | 'errors' | 'labels'>;

/** A region is synced again when the patient searches after this long. */
const RESYNC_AFTER_MS = 60_000;

type Sync = { kind: 'idle' } | { kind: 'syncing'; region: string } | { kind: 'ready'; snapshot: RegionSnapshot } | { kind: 'error'; message: string };

export function SearchPage({ locale, t, powBits, authorities }: { locale: Locale; t: SearchTexts; powBits: number; authorities: AuthorityKey[] }) {
  const s = t.search;
  const [engine, setEngine] = useState<Engine | null>(null);
  const [hydrated, setHydrated] = useState(false);
  const [sync, setSync] = useState<Sync>({ kind: 'idle' });
  const [filter, setFilter] = useState<SlotFilter | null>(null);
  const [errors, setErrors] = useState<Partial<Record<FilterFormField, FilterFormErrorCode>>>({});
  const [selected, setSelected] = useState<{ candidate: Candidate; slot: AnnounceSlot } | null>(null);
  const [taken, setTaken] = useState<Set<string>>(new Set());
  const [nowMs, setNowMs] = useState(0);
  const resultsRef = useRef<HTMLHeadingElement>(null);
  const plzRef = useRef<HTMLInputElement>(null);
  const abortRef = useRef<AbortController | null>(null);

  useEffect(() => {
    setHydrated(true);
    return () => abortRef.current?.abort();
  }, []);

  const preloaded = useRef(false);
  function preloadSearch() {
    if (preloaded.current) return;
    preloaded.current = true;
    void loadEngine().then(setEngine, () => undefined);
    void loadResults().catch(() => undefined);
  }

  const hasResults = sync.kind === 'ready';
  useEffect(() => {
    if (!hasResults) return;
    return whenIdle(() => void loadReservePanel().catch(() => undefined));
  }, [hasResults]);

  const matches: SlotMatch[] = useMemo(() => {
    if (sync.kind !== 'ready' || !filter || !engine) return [];
    const { snapshot } = sync;
    return engine.matchSlots(snapshot.candidates, filter, {
      nowMs,
      isUnavailable: (therapistId, slotIdHex) => snapshot.unavailable.has(`${therapistId}/${slotIdHex}`) || taken.has(`${therapistId}/${slotIdHex}`),
    });
  }, [sync, filter, nowMs, taken, engine]);

  const byTherapist = useMemo(() => {
    const map = new Map<string, Candidate>();
    if (sync.kind === 'ready') for (const c of sync.snapshot.candidates) map.set(c.announce.therapistId, c);
    return map;
  }, [sync]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const values: FilterFormValues = {};
    for (const [key, value] of data.entries()) if (typeof value === 'string') values[key] = value;
    let loaded: Engine;
    try {
      loaded = await loadEngine();
    } catch {
      setSync({ kind: 'error', message: t.errors.network });
      return;
    }
    setEngine(loaded);
    const parsed = loaded.parseFilterForm(values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      if (parsed.errors.plz) plzRef.current?.focus();
      return;
    }
    setErrors({});
    setSelected(null);
    const now = Date.now();
    setNowMs(now);
    setFilter(parsed.filter);
    const current = sync.kind === 'ready' ? sync.snapshot : null;
    if (current && current.region === parsed.region && now - current.syncedAtMs < RESYNC_AFTER_MS) return;
    abortRef.current?.abort();
    const abort = new AbortController();
    abortRef.current = abort;
    setSync({ kind: 'syncing', region: parsed.region });
    try {
      const snapshot = await loaded.syncRegion(parsed.region, loaded.trustStoreOf(authorities), abort.signal);
      if (abort.signal.aborted) return;
      setTaken(new Set());
      setNowMs(Date.now());
      setSync({ kind: 'ready', snapshot });
    } catch (e) {
      if (abort.signal.aborted) return;
      const message = e instanceof ApiProblem ? problemMessage(t.errors, e.code, e.status) : t.errors.generic;
      setSync({ kind: 'error', message });
    }
  }

  function backToResults() {
    setSelected(null);
    setNowMs(Date.now());
    requestAnimationFrame(() => resultsRef.current?.focus());
  }

  const fieldError = (field: FilterFormField) =>
    errors[field] ? (
      <p id={`search-${field}-error`} className={styles.error}>
        {s.formErrors[errors[field]!]}
      </p>
    ) : null;

  const selectField = (name: string, label: string, options: [string, string][]) => (
    <div className={styles.field}>
      <label htmlFor={`search-${name}`}>{label}</label>
      <select id={`search-${name}`} name={name} defaultValue="any">
        <option value="any">{s.form.any}</option>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );

  // Option values are the enum names, in the enums' order (the dictionaries keep it; a unit test checks).
  const labelled = (labels: Record<string, string>) => Object.entries(labels);

  let status = '';
  if (sync.kind === 'syncing') status = fill(s.status.syncing, { region: sync.region });
  else if (sync.kind === 'error') status = sync.message;
  else if (sync.kind === 'ready' && filter) {
    status = matches.length === 0 ? s.status.none : matches.length === 1 ? s.status.one : fill(s.status.many, { count: matches.length });
    if (sync.snapshot.rejected > 0) status += ` ${fill(s.status.rejected, { count: sync.snapshot.rejected })}`;
  }

  return (
    <div className={styles.page}>
      <p className={styles.privacy} data-testid="privacy-sentence">
        {s.privacy}
      </p>
      <noscript>
        <p className={styles.error}>{s.noscript}</p>
      </noscript>

      <form className={styles.form} onSubmit={(e) => void onSubmit(e)} onFocus={preloadSearch} onPointerDown={preloadSearch} noValidate hidden={selected !== null} aria-label={s.form.legend}>
        <div className={styles.field}>
          <label htmlFor="search-plz">{s.form.plz}</label>
          <p id="search-plz-hint" className={styles.hint}>
            {s.form.plzHint}
          </p>
          <input
            ref={plzRef}
            id="search-plz"
            name="plz"
            inputMode="numeric"
            autoComplete="off"
            pattern="[0-9]{2,5}"
            maxLength={5}
            required
            aria-invalid={errors.plz ? true : undefined}
            aria-describedby={`search-plz-hint${errors.plz ? ' search-plz-error' : ''}`}
          />
          {fieldError('plz')}
        </div>
        <details className={styles.more}>
          <summary>{s.form.more}</summary>
          <div className={styles.grid}>
            {selectField('fachrichtung', s.form.fachrichtung, labelled(t.labels.fachrichtung))}
            {selectField('kostentraeger', s.form.kostentraeger, labelled(t.labels.kostentraeger))}
            {selectField('terminart', s.form.terminart, labelled(t.labels.terminart))}
            {selectField('altersgruppe', s.form.altersgruppe, labelled(t.labels.altersgruppe))}
            {selectField('modalitaet', s.form.modalitaet, labelled(t.labels.modalitaet))}
            {selectField('language', s.form.language, Object.entries(t.labels.languages))}
            <div className={styles.field}>
              <label htmlFor="search-from">{s.form.from}</label>
              <input id="search-from" name="from" type="date" aria-invalid={errors.from ? true : undefined} aria-describedby={errors.from ? 'search-from-error' : undefined} />
              {fieldError('from')}
            </div>
            <div className={styles.field}>
              <label htmlFor="search-until">{s.form.until}</label>
              <input id="search-until" name="until" type="date" aria-invalid={errors.until ? true : undefined} aria-describedby={errors.until ? 'search-until-error' : undefined} />
              {fieldError('until')}
            </div>
          </div>
          <div className={styles.checks}>
            <div className={styles.check}>
              <input id="search-barrierFree" name="barrierFree" type="checkbox" />
              <label htmlFor="search-barrierFree">{s.form.barrierFree}</label>
            </div>
            <div className={styles.check}>
              <input id="search-verifiedOnly" name="verifiedOnly" type="checkbox" />
              <label htmlFor="search-verifiedOnly">{s.form.verifiedOnly}</label>
            </div>
          </div>
          {fieldError('language')}
          {fieldError('form')}
        </details>
        {/* Disabled until hydrated: without JavaScript the browser would send the filters in a query string. */}
        <button type="submit" className={styles.submit} disabled={!hydrated || sync.kind === 'syncing'}>
          {s.form.submit}
        </button>
      </form>

      <p aria-live="polite" role="status" className={styles.status} data-testid="search-status">
        {selected ? '' : status}
      </p>

      {selected ? (
        <Suspense fallback={<p role="status">{t.reserve.loading}</p>}>
          <ReservePanel
            locale={locale}
            t={{ reserve: t.reserve, errors: t.errors, labels: t.labels, card: s.card }}
            candidate={selected.candidate}
            slot={selected.slot}
            powBits={powBits}
            onBack={backToResults}
            onTaken={() => setTaken((prev) => new Set(prev).add(`${selected.candidate.announce.therapistId}/${selected.slot.idHex}`))}
          />
        </Suspense>
      ) : (
        sync.kind === 'ready' &&
        matches.length > 0 && (
          <Suspense fallback={null}>
            <SearchResults locale={locale} t={t} matches={matches} byTherapist={byTherapist} headingRef={resultsRef} onReserve={(m) => setSelected({ candidate: byTherapist.get(m.therapistId)!, slot: m.slot })} />
          </Suspense>
        )
      )}
    </div>
  );
}
