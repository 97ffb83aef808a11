'use client';

import { type AnnounceSlot, MAX_CONTACT_BYTES, MAX_RESERVATION_MESSAGE_BYTES } from '@qpc/fapp';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { type Dictionary } from '../../i18n/de';
import { type Locale } from '../../i18n/locale-path';
import { ApiProblem, postReservation } from '../fapp/api';
import { berlinClock, berlinDate, fill } from '../fapp/format';
import { problemMessage, terminartLabel } from '../fapp/labels';
import { type Candidate } from '../search/region-sync';
import { rememberReservation } from './device-store';
import { encodeCapabilityFragment, encodeFullFragment, type ReservationSecrets } from './fragment';
import { type ReserveReply, type ReserveRequest } from './reserve-protocol';
import styles from './reservation.module.css';

export type ReserveTexts = Pick<Dictionary, 'reserve' | 'errors' | 'labels'> & { card: Dictionary['search']['card'] };

type State =
  | { kind: 'form'; notice?: string }
  | { kind: 'working'; tries: number }
  | { kind: 'sending' }
  | { kind: 'done'; link: string; heldUntilMs: number; remembered: boolean }
  | { kind: 'error'; code: string; message: string };

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Chance that a stamp of `bits` is found within `tries`: a smooth, honest progress value. */
function progressPercent(tries: number, bits: number): number {
  return Math.min(99, Math.round(100 * (1 - Math.exp(-tries / 2 ** bits))));
}

/** Slot taken by someone else: the page should stop offering it. */
export const TAKEN_CODES = new Set(['fapp.slot_held', 'fapp.slot_booked', 'fapp.unknown_slot', 'fapp.slot_in_past']);

export function ReservePanel({
  locale,
  t,
  candidate,
  slot,
  powBits,
  onBack,
  onTaken,
}: {
  locale: Locale;
  t: ReserveTexts;
  candidate: Candidate;
  slot: AnnounceSlot;
  powBits: number;
  onBack: () => void;
  onTaken: () => void;
}) {
  const [state, setState] = useState<State>({ kind: 'form' });
  const [contact, setContact] = useState('');
  const [message, setMessage] = useState('');
  const [remember, setRemember] = useState(false);
  const [copied, setCopied] = useState(false);
  const workerRef = useRef<Worker | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const doneRef = useRef<HTMLHeadingElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  const ids = useId();
  const r = t.reserve;

  useEffect(() => {
    headingRef.current?.focus();
    return () => workerRef.current?.terminate();
  }, []);

  useEffect(() => {
    if (state.kind === 'done') doneRef.current?.focus();
    if (state.kind === 'error') errorRef.current?.focus();
  }, [state.kind]);

  const contactTooLong = utf8Length(contact) > MAX_CONTACT_BYTES;
  const messageTooLong = utf8Length(message) > MAX_RESERVATION_MESSAGE_BYTES;

  function stopWorker() {
    workerRef.current?.terminate();
    workerRef.current = null;
  }

  async function send(done: Extract<ReserveReply, { type: 'done' }>) {
    setState({ kind: 'sending' });
    try {
      const { heldUntil } = await postReservation(done.reservation);
      const secrets: ReservationSecrets = {
        capability: done.capability,
        replySecretKey: done.replySecretKey,
        therapistKey: done.therapistKey,
        slotId: done.slotId,
        slotStartMs: slot.startMs,
        durationMinutes: slot.durationMinutes,
        terminart: slot.terminart,
      };
      const remembered = remember && rememberReservation(secrets, Date.now());
      const fragment = remembered ? encodeCapabilityFragment(secrets.capability) : encodeFullFragment(secrets);
      secrets.replySecretKey.fill(0);
      setState({ kind: 'done', link: `${window.location.origin}/${locale}/antwort#${fragment}`, heldUntilMs: Date.parse(heldUntil), remembered });
    } catch (e) {
      const code = e instanceof ApiProblem ? e.code : 'generic';
      const status = e instanceof ApiProblem ? e.status : 0;
      if (TAKEN_CODES.has(code)) onTaken();
      setState({ kind: 'error', code, message: problemMessage(t.errors, code, status) });
    }
  }

  function start(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (contactTooLong || messageTooLong || state.kind === 'working' || state.kind === 'sending') return;
    stopWorker();
    const worker = new Worker(new URL('./reserve.worker.ts', import.meta.url), { type: 'module' });
    workerRef.current = worker;
    setState({ kind: 'working', tries: 0 });
    worker.onmessage = (ev: MessageEvent<ReserveReply>) => {
      const reply = ev.data;
      if (workerRef.current !== worker) return;
      if (reply.type === 'progress') setState({ kind: 'working', tries: reply.tries });
      else if (reply.type === 'error') {
        stopWorker();
        if (TAKEN_CODES.has(reply.code)) onTaken();
        setState({ kind: 'error', code: reply.code, message: problemMessage(t.errors, reply.code) });
      } else {
        stopWorker();
        void send(reply);
      }
    };
    worker.onerror = () => {
      // A worker cancelled while its script was still loading reports an error: not ours to show.
      if (workerRef.current !== worker) return;
      stopWorker();
      setState({ kind: 'error', code: 'generic', message: t.errors.generic });
    };
    const request: ReserveRequest = {
      type: 'reserve',
      announce: candidate.bytes,
      slotId: slot.id,
      contact: contact.trim(),
      message: message.trim(),
      difficultyBits: powBits,
      nowMs: Date.now(),
    };
    worker.postMessage(request);
  }

  function cancel() {
    stopWorker();
    setState({ kind: 'form', notice: r.cancelled });
  }

  async function copy(link: string) {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  const when = `${berlinDate(slot.startMs, locale)}, ${fill(t.card.time, { time: berlinClock(slot.startMs) })}`;
  const name = candidate.announce.displayName ?? t.card.noName;
  const busy = state.kind === 'working' || state.kind === 'sending';

  if (state.kind === 'done') {
    return (
      <section className={styles.panel} aria-labelledby={`${ids}-done`}>
        <h2 id={`${ids}-done`} ref={doneRef} tabIndex={-1}>
          {r.doneHeading}
        </h2>
        <p>{fill(r.doneText, { time: `${berlinDate(state.heldUntilMs, locale)}, ${berlinClock(state.heldUntilMs)}` })}</p>
        <label htmlFor={`${ids}-link`} className={styles.label}>
          {r.linkLabel}
        </label>
        <input id={`${ids}-link`} className={styles.link} readOnly value={state.link} onFocus={(e) => e.currentTarget.select()} data-testid="private-link" />
        <p className={styles.advice}>{state.remembered ? `${r.keepLink} ${r.keepLinkRemembered}` : r.keepLink}</p>
        <div className={styles.actions}>
          <button type="button" className={styles.secondary} onClick={() => void copy(state.link)}>
            {r.copy}
          </button>
          <a className={styles.primary} href={state.link}>
            {r.open}
          </a>
        </div>
        <p role="status" className={styles.copied}>
          {copied ? r.copied : ''}
        </p>
      </section>
    );
  }

  return (
    <section className={styles.panel} aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`} ref={headingRef} tabIndex={-1}>
        {r.heading}
      </h2>
      <p className={styles.slot}>
        <strong>{when}</strong> · {fill(t.card.minutes, { minutes: slot.durationMinutes })} · {terminartLabel(t.labels, slot.terminart)}
        <br />
        {name} · {t.card.plz} {candidate.announce.plz}
      </p>
      <p>{r.intro}</p>
      <p className={styles.crisis}>
        {r.crisisNow} <a href="tel:08001110111">0800 111 0 111</a> · {r.crisisEmergency} <a href="tel:112">112</a>
      </p>

      <form onSubmit={start} noValidate>
        <div className={styles.field}>
          <label htmlFor={`${ids}-contact`}>{r.contact}</label>
          <p id={`${ids}-contact-hint`} className={styles.hint}>
            {r.contactHint}
          </p>
          <input
            id={`${ids}-contact`}
            type="text"
            autoComplete="off"
            value={contact}
            disabled={busy}
            aria-describedby={`${ids}-contact-hint${contactTooLong ? ` ${ids}-contact-error` : ''}`}
            aria-invalid={contactTooLong}
            onChange={(e) => setContact(e.target.value)}
          />
          {contactTooLong && (
            <p id={`${ids}-contact-error`} className={styles.error}>
              {r.tooLong}
            </p>
          )}
        </div>
        <div className={styles.field}>
          <label htmlFor={`${ids}-message`}>{r.message}</label>
          <p id={`${ids}-message-hint`} className={styles.hint}>
            {r.messageHint}
          </p>
          <textarea
            id={`${ids}-message`}
            rows={5}
            value={message}
            disabled={busy}
            aria-describedby={`${ids}-message-hint${messageTooLong ? ` ${ids}-message-error` : ''}`}
            aria-invalid={messageTooLong}
            onChange={(e) => setMessage(e.target.value)}
          />
          {messageTooLong && (
            <p id={`${ids}-message-error`} className={styles.error}>
              {r.tooLong}
            </p>
          )}
        </div>
        <div className={styles.check}>
          <input id={`${ids}-remember`} type="checkbox" checked={remember} disabled={busy} aria-describedby={`${ids}-remember-hint`} onChange={(e) => setRemember(e.target.checked)} />
          <label htmlFor={`${ids}-remember`}>{r.remember}</label>
          <p id={`${ids}-remember-hint`} className={styles.hint}>
            {r.rememberHint}
          </p>
        </div>

        <div className={styles.actions}>
          <button type="submit" className={styles.primary} disabled={busy}>
            {r.submit}
          </button>
          {state.kind === 'working' ? (
            <button type="button" className={styles.secondary} onClick={cancel}>
              {r.cancel}
            </button>
          ) : (
            <button type="button" className={styles.secondary} onClick={onBack} disabled={busy}>
              {r.back}
            </button>
          )}
        </div>
      </form>

      <div aria-live="polite" className={styles.live}>
        {state.kind === 'working' && (
          <div className={styles.working}>
            <p>{r.working}</p>
            <progress max={100} value={progressPercent(state.tries, powBits)} aria-label={r.progress} />
          </div>
        )}
        {state.kind === 'sending' && <p>{r.sending}</p>}
        {state.kind === 'form' && state.notice && <p>{state.notice}</p>}
      </div>
      {state.kind === 'error' && (
        <div role="alert" ref={errorRef} tabIndex={-1} className={styles.problem} data-code={state.code} data-testid="problem">
          <p>{state.message}</p>
          <div className={styles.actions}>
            {TAKEN_CODES.has(state.code) ? (
              <button type="button" className={styles.primary} onClick={onBack}>
                {r.otherSlot}
              </button>
            ) : (
              <button type="button" className={styles.secondary} onClick={() => setState({ kind: 'form' })}>
                {r.retry}
              </button>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
