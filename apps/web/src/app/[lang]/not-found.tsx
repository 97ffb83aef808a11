import { headers } from 'next/headers';
import Link from 'next/link';
import { defaultLocale, getDictionary, isLocale } from '../../i18n';

/** The 404 page, in the language of the URL's first segment (German if that is not a language). */
export default async function NotFound() {
  // not-found receives no params; the proxy passes the path along.
  const path = (await headers()).get('x-qpc-path') ?? '';
  const first = path.split('/')[1] ?? '';
  const lang = isLocale(first) ? first : defaultLocale;
  const t = getDictionary(lang).notFound;
  return (
    <section aria-labelledby="not-found-heading">
      <h1 id="not-found-heading">{t.title}</h1>
      <p>{t.text}</p>
      <p>
        <Link href={`/${lang}`} prefetch={false}>
          {t.home}
        </Link>
      </p>
    </section>
  );
}
