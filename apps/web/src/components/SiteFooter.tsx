import { type Dictionary } from '../i18n';
import styles from './site.module.css';

export function SiteFooter({ t }: { t: Dictionary['layout'] }) {
  return (
    <footer className={styles.footer}>
      <p>{t.footerFreeSoftware}</p>
      <p>{t.footerPrivacy}</p>
    </footer>
  );
}
