import Link from 'next/link';
import { type Dictionary, type Locale } from '../i18n';
import { LanguageSwitch } from './LanguageSwitch';
import styles from './site.module.css';

export function SiteHeader({ locale, t }: { locale: Locale; t: Dictionary['layout'] }) {
  return (
    <header className={styles.header}>
      <div className={styles.bar}>
        <Link href={`/${locale}`} className={styles.brand} aria-label={t.brandHome} prefetch={false}>
          {t.brand}
        </Link>
        <nav aria-label={t.languageNav}>
          <LanguageSwitch locale={locale} label={t.switchTo} title={t.switchToLabel} />
        </nav>
      </div>
    </header>
  );
}
