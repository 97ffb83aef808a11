import { type Metadata } from 'next';
import { notFound } from 'next/navigation';
import { CrisisNote } from '../../../components/CrisisNote';
import { SearchPage } from '../../../features/search/SearchPage';
import { getDictionary, isLocale } from '../../../i18n';
import { fappWebConfig } from '../../../server/fapp-config';

type Props = { params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang } = await params;
  return isLocale(lang) ? { title: getDictionary(lang).search.metaTitle } : {};
}

/** Anonymous search: the region's announces are synced and filtered in the browser. */
export default async function Search({ params }: Props) {
  const { lang } = await params;
  if (!isLocale(lang)) notFound();
  const t = getDictionary(lang);
  // Read per request, like the API URL: one build serves every deployment.
  const config = fappWebConfig();
  return (
    <>
      <h1>{t.search.title}</h1>
      <p>{t.search.lead}</p>
      <SearchPage
        locale={lang}
        t={{ search: t.search, reserve: t.reserve, errors: t.errors, labels: t.labels }}
        powBits={config.powBits}
        authorities={config.authorities}
      />
      <CrisisNote t={t.crisis} />
    </>
  );
}
