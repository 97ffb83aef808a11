import { type Metadata, type Viewport } from 'next';
import { connection } from 'next/server';
import { type ReactNode } from 'react';
import { SiteFooter } from '../../components/SiteFooter';
import { SiteHeader } from '../../components/SiteHeader';
import { defaultLocale, getDictionary, isLocale, locales } from '../../i18n';
import '../globals.css';

type LayoutProps = { children: ReactNode; params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Omit<LayoutProps, 'children'>): Promise<Metadata> {
  const { lang } = await params;
  const t = getDictionary(isLocale(lang) ? lang : defaultLocale);
  return {
    title: t.meta.title,
    description: t.meta.description,
    // Patients may be searching in secret: no page address ever leaves in a Referer header.
    referrer: 'no-referrer',
    alternates: { languages: Object.fromEntries(locales.map((l) => [l, `/${l}`])) },
  };
}

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  colorScheme: 'light dark',
};

/**
 * The root layout for every page: one per language so `<html lang>` is right without JavaScript.
 */
export default async function LocaleLayout({ children, params }: LayoutProps) {
  // Pages carry a per-request CSP nonce (src/proxy.ts), so they must render per request.
  await connection();
  const { lang: requested } = await params;
  // An unknown first segment is a 404 (raised by the page), shown in German inside this layout.
  const lang = isLocale(requested) ? requested : defaultLocale;
  const t = getDictionary(lang);
  return (
    <html lang={lang}>
      <body>
        <a className="skip-link" href="#main">
          {t.layout.skipToContent}
        </a>
        <SiteHeader locale={lang} t={t.layout} />
        <main id="main" tabIndex={-1}>
          {children}
        </main>
        <SiteFooter t={t.layout} />
      </body>
    </html>
  );
}
