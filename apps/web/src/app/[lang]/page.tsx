import { notFound } from 'next/navigation';
import { LandingPage } from '../../features/landing/LandingPage';
import { getDictionary, isLocale } from '../../i18n';

export default async function Home({ params }: { params: Promise<{ lang: string }> }) {
  const { lang } = await params;
  if (!isLocale(lang)) notFound();
  return <LandingPage locale={lang} t={getDictionary(lang)} />;
}
