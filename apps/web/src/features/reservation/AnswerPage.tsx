'use client';

import { buildPatientCancel, isFappError, type OpenedReply } from '@qpc/fapp';
import { fromHex, toHex } from '@qpc/crypto';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type Dictionary } from '../../i18n/de';
import { type Locale } from '../../i18n/locale-path';
import { ApiProblem, fetchMailbox, postCancel, type Mailbox } from '../fapp/api';
import { berlinClock, berlinDate, fill } from '../fapp/format';
import { problemMessage, terminartLabel } from '../fapp/labels';
import { findRememberedReservation, forgetReservation, listRememberedReservations } from './device-store';
import { capabilityOf, decodeFragment, encodeCapabilityFragment, FragmentError, type ReservationSecrets } from './fragment';
import { buildIcs } from './ics';
import { openReply } from './reply';
import styles from './reservation.module.css';

export type AnswerTexts = Pick<Dictionary, 'answer' | 'errors' | 'labels'> & { card: Dictionary['search']['card'] };

/** How often a pending request is checked while the page is visible. */
const POLL_MS = 5_000;

type Link =
  | { kind: 'reading' }
  | { kind: 'none'; remembered: ReservationSecrets[] }
  | { kind: 'bad' }
  | { kind: 'ok'; capability: Uint8Array; secrets: ReservationSecrets | null };

type Box = { kind: 'loading' } | { kind: 'ok'; mailbox: Mailbox } | { kind: 'error'; code: string; status: number };

type Reply = { kind: 'none' } | { kind: 'open'; reply: OpenedReply } | { kind: 'unreadable' };

function readLink(hash: string): Link {
  try {
    const d = decodeFragment(hash);
    const capability = capabilityOf(d);
    return { kind: 'ok', capability, secrets: d.kind === 'full' ? d.secrets : findRememberedReservation(capability) };
  } catch (e) {
    if (e instanceof FragmentError && e.code === 'empty') return { kind: 'none', remembered: listRememberedReservations() };
    if (e instanceof FragmentError) return { kind: 'bad' };
    throw e;
  }
}

export function AnswerPage({ locale, t }: { locale: Locale; t: AnswerTexts }) {
  const a = t.answer;
  const [link, setLink] = useState<Link>({ kind: 'reading' });
  const [box, setBox] = useState<Box>({ kind: 'loading' });
  const [reply, setReply] = useState<Reply>({ kind: 'none' });
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [forgotten, setForgotten] = useState(false);
  const [icsUrl, setIcsUrl] = useState<string | null>(null);
  const replyFor = useRef<string | null>(null);

  useEffect(() => {
    const read = () => {
      setLink(readLink(window.location.hash));
      setBox({ kind: 'loading' });
      setReply({ kind: 'none' });
      replyFor.current = null;
    };
    read();
    window.addEventListener('hashchange', read);
    return () => window.removeEventListener('hashchange', read);
  }, []);

  const capability = link.kind === 'ok' ? link.capability : null;
  const secrets = link.kind === 'ok' ? link.secrets : null;

  const refresh = useCallback(
    async (signal?: AbortSignal) => {
      if (!capability) return;
      try {
        const mailbox = await fetchMailbox(capability, signal);
        setBox({ kind: 'ok', mailbox });
      } catch (e) {
        if (signal?.aborted) return;
        setBox(e instanceof ApiProblem ? { kind: 'error', code: e.code, status: e.status } : { kind: 'error', code: 'generic', status: 0 });
      }
    },
    [capability],
  );

  const status = box.kind === 'ok' ? box.mailbox.status : null;

  useEffect(() => {
    if (!capability) return;
    const abort = new AbortController();
    void refresh(abort.signal);
    return () => abort.abort();
  }, [capability, refresh]);

  useEffect(() => {
    // Keep looking while the answer is outstanding (and after a network hiccup).
    if (!capability || (status !== null && status !== 'pending')) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [capability, status, refresh]);

  const replyBytes = box.kind === 'ok' ? box.mailbox.reply : null;
  useEffect(() => {
    if (!replyBytes) return;
    const key = toHex(replyBytes.subarray(0, 64));
    if (replyFor.current === key) return;
    replyFor.current = key;
    if (!secrets) {
      setReply({ kind: 'unreadable' });
      return;
    }
    openReply(replyBytes, secrets).then(
      (opened) => setReply({ kind: 'open', reply: opened }),
      (e: unknown) => {
        if (!isFappError(e)) console.error(e);
        setReply({ kind: 'unreadable' });
      },
    );
  }, [replyBytes, secrets]);

  const ics = useMemo(() => {
    if (status !== 'confirmed' || !secrets) return null;
    return buildIcs({
      uid: toHex(secrets.slotId),
      startMs: secrets.slotStartMs,
      durationMinutes: secrets.durationMinutes,
      summary: a.icsSummary,
      ...(reply.kind === 'open' && reply.reply.message ? { description: reply.reply.message } : {}),
      nowMs: Date.now(),
    });
  }, [status, secrets, reply, a.icsSummary]);

  useEffect(() => {
    if (!ics) return;
    const url = URL.createObjectURL(new Blob([ics], { type: 'text/calendar;charset=utf-8' }));
    setIcsUrl(url);
    return () => {
      URL.revokeObjectURL(url);
      setIcsUrl(null);
    };
  }, [ics]);

  async function cancel() {
    if (link.kind !== 'ok' || box.kind !== 'ok') return;
    setBusy(true);
    setActionError(null);
    try {
      const therapistKey = secrets?.therapistKey ?? fromHex(box.mailbox.therapistId);
      const slotId = secrets?.slotId ?? fromHex(box.mailbox.slotId);
      await postCancel(buildPatientCancel({ therapistKey, slotId, mailboxCapability: link.capability }, Date.now()));
      setAsking(false);
      await refresh();
    } catch (e) {
      setActionError(e instanceof ApiProblem ? problemMessage(t.errors, e.code, e.status) : t.errors.generic);
    } finally {
      setBusy(false);
    }
  }

  function forget() {
    if (!capability) return;
    forgetReservation(capability);
    setForgotten(true);
  }

  const slotLine = secrets
    ? fill(a.slot, {
        date: berlinDate(secrets.slotStartMs, locale),
        time: berlinClock(secrets.slotStartMs),
        minutes: secrets.durationMinutes,
        terminart: terminartLabel(t.labels, secrets.terminart),
      })
    : null;

  const searchAgain = (
    <p>
      <a className={styles.primary} href={`/${locale}/suche`}>
        {a.searchAgain}
      </a>
    </p>
  );

  if (link.kind === 'reading') return <p role="status">{a.loading}</p>;
  if (link.kind === 'bad') {
    return (
      <div role="alert" className={styles.problem} data-testid="problem">
        <p>{a.badLink}</p>
      </div>
    );
  }
  if (link.kind === 'none') {
    return (
      <div>
        <p>{a.noLink}</p>
        {link.remembered.length > 0 && (
          <section aria-labelledby="remembered-heading">
            <h2 id="remembered-heading">{a.remembered}</h2>
            <ul>
              {link.remembered.map((s) => (
                <li key={toHex(s.capability)}>
                  <a href={`#${encodeCapabilityFragment(s.capability)}`}>{fill(a.rememberedItem, { date: berlinDate(s.slotStartMs, locale), time: berlinClock(s.slotStartMs) })}</a>
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    );
  }

  return (
    <div className={styles.answer}>
      {slotLine && <p className={styles.slot}>{slotLine}</p>}
      {!secrets && <p className={styles.hint}>{a.notOnDevice}</p>}

      <div aria-live="polite" role="status" data-testid="answer-status" data-status={status ?? box.kind}>
        {box.kind === 'loading' && <p>{a.loading}</p>}
        {box.kind === 'error' && <p className={styles.problemText}>{problemMessage(t.errors, box.code, box.status)}</p>}
        {status === 'pending' && box.kind === 'ok' && box.mailbox.heldUntil && (
          <p>{fill(a.pending, { date: berlinDate(Date.parse(box.mailbox.heldUntil), locale), time: berlinClock(Date.parse(box.mailbox.heldUntil)) })}</p>
        )}
        {status === 'confirmed' && <p className={styles.good}>{a.confirmed}</p>}
        {status === 'declined' && (
          <>
            <p>{a.declined}</p>
            <p>{a.declinedNext}</p>
          </>
        )}
        {status === 'cancelled' && <p>{a.cancelled}</p>}
        {status === 'released' && <p>{a.released}</p>}
        {status === 'expired' && <p>{a.expired}</p>}
      </div>

      {(status === 'confirmed' || status === 'declined') && (
        <section className={styles.reply} aria-labelledby="reply-heading">
          <h2 id="reply-heading">{a.messageFrom}</h2>
          {reply.kind === 'open' && (reply.reply.message ? <blockquote className={styles.quote} data-testid="reply-message">{reply.reply.message}</blockquote> : <p>{a.noMessage}</p>)}
          {reply.kind === 'unreadable' && <p>{a.unreadable}</p>}
        </section>
      )}

      {status === 'confirmed' && icsUrl && (
        <p>
          <a className={styles.secondary} href={icsUrl} download="termin.ics">
            {a.ics}
          </a>
        </p>
      )}

      {(status === 'pending' || status === null) && box.kind !== 'loading' && (
        <div className={styles.actions}>
          <button type="button" className={styles.secondary} onClick={() => void refresh()}>
            {a.refresh}
          </button>
          {status === 'pending' && !asking && (
            <button type="button" className={styles.secondary} onClick={() => setAsking(true)}>
              {a.cancel}
            </button>
          )}
        </div>
      )}
      {status === 'pending' && <p className={styles.hint}>{a.autoRefresh}</p>}
      {status === 'pending' && asking && (
        <div className={styles.confirmBox} role="group" aria-labelledby="cancel-question">
          <p id="cancel-question">{a.cancelQuestion}</p>
          <div className={styles.actions}>
            <button type="button" className={styles.danger} disabled={busy} onClick={() => void cancel()}>
              {a.cancelConfirm}
            </button>
            <button type="button" className={styles.secondary} disabled={busy} onClick={() => setAsking(false)}>
              {a.cancelKeep}
            </button>
          </div>
        </div>
      )}
      {actionError && (
        <div role="alert" className={styles.problem} data-testid="problem">
          <p>{actionError}</p>
        </div>
      )}

      {(status === 'declined' || status === 'expired' || status === 'cancelled' || status === 'released') && searchAgain}

      {secrets && findRememberedReservation(secrets.capability) && !forgotten && (
        <p>
          <button type="button" className={styles.linkButton} onClick={forget}>
            {a.forget}
          </button>
        </p>
      )}
      {forgotten && <p role="status">{a.forgotten}</p>}
    </div>
  );
}

