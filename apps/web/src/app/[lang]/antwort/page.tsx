import { type Metadata } from 'next';
import { notFound } from 'next/navigation';
import { CrisisNote } from '../../../components/CrisisNote';
import { AnswerPage } from '../../../features/reservation/AnswerPage';
import { getDictionary, isLocale } from '../../../i18n';

type Props = { params: Promise<{ lang: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { lang } = await params;
  return isLocale(lang) ? { title: getDictionary(lang).answer.metaTitle } : {};
}

/** The private answer page: everything it needs is in the URL fragment, which no server sees. */
export default async function Answer({ params }: Props) {
  const { lang } = await params;
  if (!isLocale(lang)) notFound();
  const t = getDictionary(lang);
  return (
    <>
      <h1>{t.answer.title}</h1>
      <AnswerPage locale={lang} t={{ answer: t.answer, errors: t.errors, labels: t.labels, card: t.search.card }} />
      <CrisisNote t={t.crisis} />
    </>
  );
}
