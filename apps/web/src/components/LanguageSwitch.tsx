'use client';

import { usePathname } from 'next/navigation';
import { otherLocale, switchLocalePath, type Locale } from '../i18n/locale-path';
import styles from './site.module.css';

/**
 * A plain link to the same page in the other language. Rendered on the server too, so it
 * works without JavaScript; a full navigation also replaces `<html lang>`.
 */
export function LanguageSwitch({ locale, label, title }: { locale: Locale; label: string; title: string }) {
  const pathname = usePathname() ?? `/${locale}`;
  const to = otherLocale(locale);
  return (
    <a className={styles.switch} href={switchLocalePath(pathname, to)} hrefLang={to} lang={to} title={title}>
      {label}
    </a>
  );
}
