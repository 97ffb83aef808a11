'use client';

import { matchSlots, type AnnounceSlot, type SlotFilter, type SlotMatch } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { type Dictionary } from '../../i18n/de';
import { type Locale } from '../../i18n/locale-path';
import { ApiProblem } from '../fapp/api';
import { berlinClock, berlinDate, fill } from '../fapp/format';
import { altersgruppeLabel, fachrichtungLabel, kostentraegerLabel, languageLabel, modalitaetLabel, problemMessage, terminartLabel } from '../fapp/labels';
import { ReservePanel } from '../reservation/ReservePanel';
import { parseFilterForm, type FilterFormErrorCode, type FilterFormField, type FilterFormValues } from './filter-form';
import { syncRegion, trustStoreOf, type AuthorityKey, type Candidate, type RegionSnapshot } from './region-sync';
import styles from './search.module.css';

export type SearchTexts = Pick<Dictionary, 'search' | 'reserve' | 'errors' | 'labels'>;

/** A region is synced again when the patient searches after this long. */
const RESYNC_AFTER_MS = 60_000;

type Sync = { kind: 'idle' } | { kind: 'syncing'; region: string } | { kind: 'ready'; snapshot: RegionSnapshot } | { kind: 'error'; message: string };

function enumNames(e: Record<string, string | number>): string[] {
  return Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== 'UNSPECIFIED');
}

export function SearchPage({ locale, t, powBits, authorities }: { locale: Locale; t: SearchTexts; powBits: number; authorities: AuthorityKey[] }) {
  const s = t.search;
  const trust = useMemo(() => trustStoreOf(authorities), [authorities]);
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

  const matches: SlotMatch[] = useMemo(() => {
    if (sync.kind !== 'ready' || !filter) return [];
    const { snapshot } = sync;
    return matchSlots(snapshot.candidates, filter, {
      nowMs,
      isUnavailable: (therapistId, slotIdHex) => snapshot.unavailable.has(`${therapistId}/${slotIdHex}`) || taken.has(`${therapistId}/${slotIdHex}`),
    });
  }, [sync, filter, nowMs, taken]);

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
    const parsed = parseFilterForm(values);
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
      const snapshot = await syncRegion(parsed.region, trust, abort.signal);
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

  const labelled = <E extends Record<string, string | number>>(e: E, labels: Record<string, string>) => enumNames(e).map((n): [string, string] => [n, labels[n] ?? n]);

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

      <form className={styles.form} onSubmit={(e) => void onSubmit(e)} noValidate hidden={selected !== null} aria-label={s.form.legend}>
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
            {selectField('fachrichtung', s.form.fachrichtung, labelled(Fachrichtung, t.labels.fachrichtung))}
            {selectField('kostentraeger', s.form.kostentraeger, labelled(Kostentraeger, t.labels.kostentraeger))}
            {selectField('terminart', s.form.terminart, labelled(Terminart, t.labels.terminart))}
            {selectField('altersgruppe', s.form.altersgruppe, labelled(Altersgruppe, t.labels.altersgruppe))}
            {selectField('modalitaet', s.form.modalitaet, labelled(Modalitaet, t.labels.modalitaet))}
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
        <ReservePanel
          locale={locale}
          t={{ reserve: t.reserve, errors: t.errors, labels: t.labels, card: s.card }}
          candidate={selected.candidate}
          slot={selected.slot}
          powBits={powBits}
          onBack={backToResults}
          onTaken={() => setTaken((prev) => new Set(prev).add(`${selected.candidate.announce.therapistId}/${selected.slot.idHex}`))}
        />
      ) : (
        sync.kind === 'ready' &&
        matches.length > 0 && (
          <section aria-labelledby="results-heading">
            <h2 id="results-heading" ref={resultsRef} tabIndex={-1}>
              {s.status.resultsHeading}
            </h2>
            <ol className={styles.results} data-testid="results">
              {matches.map((m) => (
                <SlotCard key={`${m.therapistId}/${m.slot.idHex}`} locale={locale} t={t} match={m} onReserve={() => setSelected({ candidate: byTherapist.get(m.therapistId)!, slot: m.slot })} authority={byTherapist.get(m.therapistId)?.authority ?? null} />
              ))}
            </ol>
          </section>
        )
      )}
    </div>
  );
}

function SlotCard({ locale, t, match, authority, onReserve }: { locale: Locale; t: SearchTexts; match: SlotMatch; authority: string | null; onReserve: () => void }) {
  const c = t.search.card;
  const { announce, slot } = match;
  const date = berlinDate(slot.startMs, locale);
  const clock = berlinClock(slot.startMs);
  return (
    <li className={styles.card} data-slot={slot.idHex} data-therapist={match.therapistId} data-start={slot.startMs}>
      <h3 className={styles.when}>
        <time dateTime={new Date(slot.startMs).toISOString()}>
          {date}, {fill(c.time, { time: clock })}
        </time>
      </h3>
      <p className={styles.kind}>
        {terminartLabel(t.labels, slot.terminart)} · {fill(c.minutes, { minutes: slot.durationMinutes })}
        {slot.groupSize > 0 && ` · ${fill(c.groupSize, { size: slot.groupSize })}`}
      </p>
      <p className={styles.who}>
        <span className={styles.name}>{announce.displayName ?? c.noName}</span>{' '}
        {match.verified && authority ? (
          <span className={styles.verified}>{fill(c.verifiedBy, { authority })}</span>
        ) : (
          <span className={styles.unverified} title={c.unverifiedHint}>
            {c.unverified}
          </span>
        )}
      </p>
      <dl className={styles.facts}>
        <div>
          <dt>{c.plz}</dt>
          <dd>{announce.plz}</dd>
        </div>
        <div>
          <dt>{c.fachrichtung}</dt>
          <dd>{announce.fachrichtungen.map((f) => fachrichtungLabel(t.labels, f)).join(', ')}</dd>
        </div>
        <div>
          <dt>{c.modalitaet}</dt>
          <dd>
            {announce.modalitaeten.map((m) => modalitaetLabel(t.labels, m)).join(', ')}
            {announce.barrierFree && ` · ${c.barrierFree}`}
          </dd>
        </div>
        <div>
          <dt>{c.kostentraeger}</dt>
          <dd>{announce.kostentraeger.map((k) => kostentraegerLabel(t.labels, k)).join(', ')}</dd>
        </div>
        <div>
          <dt>{c.languages}</dt>
          <dd>{announce.languages.map((l) => languageLabel(t.labels, l)).join(', ')}</dd>
        </div>
        <div>
          <dt>{c.altersgruppe}</dt>
          <dd>{announce.altersgruppen.map((a) => altersgruppeLabel(t.labels, a)).join(', ')}</dd>
        </div>
      </dl>
      <button type="button" className={styles.reserve} onClick={onReserve} aria-label={fill(c.reserveLabel, { date, time: clock })}>
        {c.reserve}
      </button>
    </li>
  );
}
