'use client';

import { randomBytes, toHex } from '@qpc/crypto';
import { addDays, MAX_GROUP_SIZE, MIN_GROUP_SIZE, wallTimeToUtc } from '@qpc/fapp';
import { Terminart } from '@qpc/proto';
import { useMemo, useState, type FormEvent } from 'react';
import { type Locale } from '../../i18n/locale-path';
import { berlinClock, berlinDate, fill } from '../fapp/format';
import { terminartLabel } from '../fapp/labels';
import { portalProblem, enumValues, type Commit, type PortalTexts, type Unlocked } from './shared';
import type { SlotStates } from './InboxSection';
import { formatDate, mondayOf, parseDate, planSlots, sameDay, weekDays, type DayDate } from './slots';
import styles from './portal.module.css';

const DURATIONS = [25, 50, 100] as const;
const WEEKS = [1, 2, 4, 8, 12];
const noon = (d: DayDate) => wallTimeToUtc({ ...d, hour: 12, minute: 0 });

export function SlotsSection({ t, unlocked, commit, locale, slotStates }: { t: PortalTexts; unlocked: Unlocked; commit: Commit; locale: Locale; slotStates: SlotStates }) {
  const s = t.portal.slots;
  const [monday, setMonday] = useState<DayDate>(() => mondayOf(Date.now()));
  const [date, setDate] = useState(() => formatDate(addDays(mondayOf(Date.now()), 7)));
  const [time, setTime] = useState('09:00');
  const [duration, setDuration] = useState<25 | 50 | 100>(50);
  const [terminart, setTerminart] = useState<number>(Terminart.SPRECHSTUNDE);
  const [weeks, setWeeks] = useState(1);
  const [groupSize, setGroupSize] = useState(6);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const days = useMemo(() => weekDays(monday), [monday]);
  const slots = unlocked.state.slots;
  const terminarten = enumValues(Terminart);
  const group = terminart === Terminart.GRUPPE;

  async function onAdd(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const d = parseDate(date);
    const m = /^(\d{2}):(\d{2})$/.exec(time);
    if (!d || !m) return setStatus(s.invalid);
    const req = { date: d, hour: Number(m[1]), minute: Number(m[2]), durationMinutes: duration, terminart, weeks, ...(group ? { groupSize } : {}) };
    const now = Date.now();
    const check = planSlots(slots, req, now, () => toHex(randomBytes(16)));
    if (check.kind !== 'ok') return setStatus(check.kind === 'overlap' ? s.overlap : s.past);
    setBusy(true);
    try {
      let added = 0;
      await commit((st) => {
        const r = planSlots(st.slots, req, now, () => toHex(randomBytes(16)));
        if (r.kind !== 'ok') return st;
        added = r.slots.length - st.slots.length;
        return { ...st, slots: r.slots };
      });
      setStatus(fill(s.added, { n: added }));
      setMonday(mondayOf(noon(d)));
    } catch (err) {
      setStatus(portalProblem(t, err));
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: string) {
    try {
      await commit((st) => ({ ...st, slots: st.slots.filter((x) => x.id !== id) }));
    } catch (err) {
      setStatus(portalProblem(t, err));
    }
  }

  return (
    <section id="termine" className={styles.section} aria-labelledby="slots-heading">
      <h2 id="slots-heading">{s.heading}</h2>
      <p>{s.lead}</p>
      <div className={styles.bar}>
        <h3 id="week-heading" aria-live="polite">
          {fill(s.weekOf, { from: berlinDate(noon(days[0]!), locale), to: berlinDate(noon(days[6]!), locale) })}
        </h3>
        <div className={styles.actions}>
          <button type="button" className={styles.secondary} onClick={() => setMonday(addDays(monday, -7))}>
            {s.previousWeek}
          </button>
          <button type="button" className={styles.secondary} onClick={() => setMonday(mondayOf(Date.now()))}>
            {s.thisWeek}
          </button>
          <button type="button" className={styles.secondary} onClick={() => setMonday(addDays(monday, 7))} data-testid="next-week">
            {s.nextWeek}
          </button>
        </div>
      </div>
      <div className={styles.week} data-testid="week">
        {days.map((d) => {
          const today = slots.filter((x) => sameDay(x.startMs, d));
          return (
            <div key={formatDate(d)} className={styles.day} data-date={formatDate(d)}>
              <h4>{berlinDate(noon(d), locale)}</h4>
              {today.length === 0 ? (
                <p className={styles.hint}>{s.noSlots}</p>
              ) : (
                <ul className={styles.slotList}>
                  {today.map((x) => {
                    const state = slotStates.get(x.id);
                    return (
                      <li key={x.id} data-testid="slot" data-slot-id={x.id} data-start={x.startMs}>
                        <strong>{berlinClock(x.startMs)}</strong> · {fill(s.minutes, { n: x.durationMinutes })}
                        <br />
                        {terminartLabel(t.labels, x.terminart)}
                        {x.groupSize ? ` · ${fill(s.groupOf, { n: x.groupSize })}` : ''}
                        <br />
                        <span className={styles.badge} data-testid="slot-state">
                          {state === 'booked' ? s.booked : state === 'held' ? s.held : s.free}
                        </span>{' '}
                        {!state && (
                          <button
                            type="button"
                            className={styles.secondary}
                            onClick={() => void remove(x.id)}
                            aria-label={fill(s.removeLabel, { date: berlinDate(x.startMs, locale), time: berlinClock(x.startMs) })}
                          >
                            {s.remove}
                          </button>
                        )}
                      </li>
                    );
                  })}
                </ul>
              )}
            </div>
          );
        })}
      </div>

      <h3>{s.addHeading}</h3>
      <form onSubmit={onAdd} noValidate data-testid="slot-form">
        <div className={styles.grid}>
          <div className={styles.field}>
            <label htmlFor="slot-date">{s.date}</label>
            <input id="slot-date" type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
          </div>
          <div className={styles.field}>
            <label htmlFor="slot-time">{s.time}</label>
            <input id="slot-time" type="time" step={300} value={time} onChange={(e) => setTime(e.target.value)} required />
          </div>
          <div className={styles.field}>
            <label htmlFor="slot-duration">{s.duration}</label>
            <select id="slot-duration" value={duration} onChange={(e) => setDuration(Number(e.target.value) as 25 | 50 | 100)}>
              {DURATIONS.map((n) => (
                <option key={n} value={n}>
                  {fill(s.minutes, { n })}
                </option>
              ))}
            </select>
          </div>
          <div className={styles.field}>
            <label htmlFor="slot-terminart">{s.terminart}</label>
            <select id="slot-terminart" value={terminart} onChange={(e) => setTerminart(Number(e.target.value))}>
              {terminarten.map((v) => (
                <option key={v} value={v}>
                  {terminartLabel(t.labels, v)}
                </option>
              ))}
            </select>
          </div>
          {group && (
            <div className={styles.field}>
              <label htmlFor="slot-group">{s.groupSize}</label>
              <select id="slot-group" value={groupSize} onChange={(e) => setGroupSize(Number(e.target.value))}>
                {Array.from({ length: MAX_GROUP_SIZE - MIN_GROUP_SIZE + 1 }, (_, i) => MIN_GROUP_SIZE + i).map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
          )}
          <div className={styles.field}>
            <label htmlFor="slot-repeat">{s.repeat}</label>
            <select id="slot-repeat" value={weeks} onChange={(e) => setWeeks(Number(e.target.value))}>
              {WEEKS.map((n) => (
                <option key={n} value={n}>
                  {n === 1 ? s.once : fill(s.weekly, { n })}
                </option>
              ))}
            </select>
          </div>
        </div>
        <p className={styles.status} role="status" aria-live="polite" data-testid="slot-status">
          {status ?? ''}
        </p>
        <button type="submit" className={styles.button} disabled={busy} data-testid="slot-add">
          {s.add}
        </button>
      </form>
    </section>
  );
}
