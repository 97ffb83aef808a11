import { notFound } from 'next/navigation';

// Any path under a language that no page claims: render the language's own 404 page
// (inside the shared layout, so it carries the CSP nonce and the site's styles).
export default function UnknownPage(): never {
  notFound();
}
