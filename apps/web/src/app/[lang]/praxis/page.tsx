import { type Metadata } from 'next';
import { notFound } from 'next/navigation';
import { PortalPage } from '../../../features/portal/PortalPage';
import { getDictionary, isLocale } from '../../../i18n';

type Props = { params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang } = await params;
  return isLocale(lang) ? { title: getDictionary(lang).portal.metaTitle } : {};
}

/** The therapist portal: OPAQUE sign-in, keys and signing in the browser. */
export default async function Praxis({ params }: Props) {
  const { lang } = await params;
  if (!isLocale(lang)) notFound();
  const t = getDictionary(lang);
  // Read per request: one build serves demo and real deployments.
  const demo = process.env.QPC_DEMO === '1';
  return (
    <>
      <h1>{t.portal.title}</h1>
      <p>{t.portal.lead}</p>
      <noscript>
        <p>{t.portal.noscript}</p>
      </noscript>
      <PortalPage locale={lang} t={{ portal: t.portal, errors: t.errors, labels: t.labels }} demo={demo} />
    </>
  );
}
