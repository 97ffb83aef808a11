import { type Dictionary } from '../i18n';
import styles from './site.module.css';

/** Who to call right now. Shown on every patient-facing page: this is a mental-health service. */
export function CrisisNote({ t }: { t: Dictionary['crisis'] }) {
  return (
    <aside className={styles.crisis} aria-labelledby="crisis-heading">
      <h2 id="crisis-heading">{t.heading}</h2>
      <p>{t.intro}</p>
      <ul>
        <li>
          {t.telefonseelsorge} <a href="tel:08001110111">0800 111 0 111</a> {t.or}{' '}
          <a href="tel:08001110222">0800 111 0 222</a>
        </li>
        <li>
          {t.bereitschaftsdienst} <a href="tel:116117">116 117</a>
        </li>
        <li>
          {t.emergency} <a href="tel:112">112</a>
        </li>
      </ul>
    </aside>
  );
}
