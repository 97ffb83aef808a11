'use client';

import { type SlotMatch } from '@qpc/fapp';
import { type Ref } from 'react';
import { type Dictionary } from '../../i18n/de';
import { type Locale } from '../../i18n/locale-path';
import { berlinClock, berlinDate, fill } from '../fapp/format';
import { altersgruppeLabel, fachrichtungLabel, kostentraegerLabel, languageLabel, modalitaetLabel, terminartLabel } from '../fapp/labels';
import { type Candidate } from './region-sync';
import styles from './search.module.css';

type ResultTexts = Pick<Dictionary, 'search' | 'labels'>;

/** The result list, earliest first: loaded with the search code, after the page is interactive. */
export function SearchResults({
  locale,
  t,
  matches,
  byTherapist,
  headingRef,
  onReserve,
}: {
  locale: Locale;
  t: ResultTexts;
  matches: SlotMatch[];
  byTherapist: ReadonlyMap<string, Candidate>;
  headingRef: Ref<HTMLHeadingElement>;
  onReserve: (match: SlotMatch) => void;
}) {
  return (
    <section aria-labelledby="results-heading">
      <h2 id="results-heading" ref={headingRef} tabIndex={-1}>
        {t.search.status.resultsHeading}
      </h2>
      <ol className={styles.results} data-testid="results">
        {matches.map((m) => (
          <SlotCard key={`${m.therapistId}/${m.slot.idHex}`} locale={locale} t={t} match={m} onReserve={() => onReserve(m)} authority={byTherapist.get(m.therapistId)?.authority ?? null} />
        ))}
      </ol>
    </section>
  );
}

function SlotCard({ locale, t, match, authority, onReserve }: { locale: Locale; t: ResultTexts; match: SlotMatch; authority: string | null; onReserve: () => void }) {
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
