'use client';

import { fromBase64Url, fromHex } from '@qpc/crypto';
import { buildConfirm, buildTherapistRelease, openReservation, signChallenge, type OpenedReservation } from '@qpc/fapp';
import { useCallback, useEffect, useState } from 'react';
import { type Locale } from '../../i18n/locale-path';
import { berlinClock, berlinDate, fill } from '../fapp/format';
import { terminartLabel } from '../fapp/labels';
import { listReservations, postAnswer, postChallenge, postRelease, type HeldSlot } from './api';
import { portalProblem, type PortalTexts, type Unlocked } from './shared';
import styles from './portal.module.css';

/** Slot id (hex) → held or booked, from the last listing. */
export type SlotStates = ReadonlyMap<string, 'held' | 'booked'>;

interface Item {
  held: HeldSlot;
  opened: OpenedReservation | null;
}

export function InboxSection({ t, unlocked, locale, onStates }: { t: PortalTexts; unlocked: Unlocked; locale: Locale; onStates: (s: SlotStates) => void }) {
  const p = t.portal.inbox;
  const [items, setItems] = useState<Item[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [replies, setReplies] = useState<Record<string, string>>({});
  const { signing, kem } = unlocked.keys;

  const refresh = useCallback(async () => {
    setLoading(true);
    try {
      const { challenge } = await postChallenge();
      const { reservations } = await listReservations(signing.publicKey, challenge, signChallenge(signing, fromHex(challenge)));
      // Each reservation is sealed to this browser's reservation key and opened only here.
      const opened = await Promise.all(
        reservations.map(async (held) => {
          try {
            return { held, opened: await openReservation(fromBase64Url(held.reservation), kem.secretKey) };
          } catch {
            return { held, opened: null };
          }
        }),
      );
      setItems(opened);
      onStates(new Map(reservations.map((r) => [r.slotId, r.state])));
    } catch (err) {
      setStatus(portalProblem(t, err));
    } finally {
      setLoading(false);
    }
  }, [signing, kem, onStates, t]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  async function answer(item: Item, decision: 'confirmed' | 'declined') {
    if (!item.opened) return;
    try {
      await postAnswer(await buildConfirm(signing, item.opened, decision, (replies[item.held.slotId] ?? '').trim(), Date.now()));
      setStatus(decision === 'confirmed' ? p.confirmed : p.declined);
      await refresh();
    } catch (err) {
      setStatus(portalProblem(t, err));
    }
  }

  async function release(item: Item) {
    try {
      await postRelease(buildTherapistRelease(signing, fromHex(item.held.slotId), Date.now(), fromHex(item.held.mailboxId)));
      setStatus(p.released);
      await refresh();
    } catch (err) {
      setStatus(portalProblem(t, err));
    }
  }

  function slotText(slotId: string): string {
    const slot = unlocked.state.slots.find((x) => x.id === slotId);
    if (!slot) return p.unknownSlot;
    return `${berlinDate(slot.startMs, locale)}, ${berlinClock(slot.startMs)} · ${terminartLabel(t.labels, slot.terminart)}`;
  }

  const pending = (items ?? []).filter((i) => i.held.state === 'held');
  const booked = (items ?? []).filter((i) => i.held.state === 'booked');

  return (
    <section id="anfragen" className={styles.section} aria-labelledby="inbox-heading">
      <h2 id="inbox-heading">{p.heading}</h2>
      <p>{p.lead}</p>
      <button type="button" className={styles.secondary} onClick={() => void refresh()} disabled={loading} data-testid="inbox-refresh">
        {p.refresh}
      </button>
      <p className={styles.status} role="status" aria-live="polite" data-testid="inbox-status">
        {loading ? p.loading : (status ?? '')}
      </p>
      <h3>{p.pending}</h3>
      {items !== null && pending.length === 0 && <p data-testid="inbox-empty">{p.empty}</p>}
      <ul className={styles.cards} data-testid="inbox">
        {pending.map((item) => (
          <li key={item.held.slotId} className={styles.card} data-testid="request" data-slot-id={item.held.slotId}>
            <p>
              <strong>{p.slot}:</strong> <span data-testid="request-slot">{slotText(item.held.slotId)}</span>
              {item.held.heldUntil && <> · {fill(p.heldUntil, { time: berlinClock(Date.parse(item.held.heldUntil)) })}</>}
            </p>
            {item.opened ? (
              <>
                <p>
                  <strong>{p.contact}:</strong> <span data-testid="request-contact">{item.opened.contact}</span>
                </p>
                <p>
                  <strong>{p.message}:</strong>
                </p>
                <p className={styles.pre} data-testid="request-message">
                  {item.opened.message || p.noMessage}
                </p>
                <div className={styles.field}>
                  <label htmlFor={`reply-${item.held.slotId}`}>{p.replyLabel}</label>
                  <textarea
                    id={`reply-${item.held.slotId}`}
                    maxLength={500}
                    value={replies[item.held.slotId] ?? ''}
                    onChange={(e) => setReplies({ ...replies, [item.held.slotId]: e.target.value })}
                    data-testid="request-reply"
                  />
                </div>
                <div className={styles.actions}>
                  <button type="button" className={styles.button} onClick={() => void answer(item, 'confirmed')} data-testid="request-confirm">
                    {p.confirm}
                  </button>
                  <button type="button" className={styles.secondary} onClick={() => void answer(item, 'declined')} data-testid="request-decline">
                    {p.decline}
                  </button>
                </div>
              </>
            ) : (
              <p className={styles.error}>{p.unreadable}</p>
            )}
          </li>
        ))}
      </ul>
      <h3>{p.booked}</h3>
      {items !== null && booked.length === 0 && <p>{p.noBooked}</p>}
      <ul className={styles.cards} data-testid="booked">
        {booked.map((item) => (
          <li key={item.held.slotId} className={styles.card} data-testid="booked-slot" data-slot-id={item.held.slotId}>
            <p>
              <strong>{p.slot}:</strong> {slotText(item.held.slotId)}
            </p>
            {item.opened && (
              <p>
                <strong>{p.contact}:</strong> {item.opened.contact}
              </p>
            )}
            <button type="button" className={styles.secondary} onClick={() => void release(item)} data-testid="booked-release">
              {p.release}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
