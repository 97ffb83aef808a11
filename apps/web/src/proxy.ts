import { NextResponse, type NextRequest } from 'next/server';
import { contentSecurityPolicy } from './server/csp';

/** The therapist portal runs OPAQUE (WebAssembly) in the page. */
const PORTAL_PATH = /^\/[a-z]{2}\/praxis(\/|$)/;

/**
 * Every page gets a fresh CSP nonce: Next reads it from the request's CSP header and puts it
 * on its own scripts, so nothing without the nonce (an injected script, a foreign host) runs.
 */
export function proxy(request: NextRequest) {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18))));
  const csp = contentSecurityPolicy(nonce, process.env.NODE_ENV === 'development', { wasm: PORTAL_PATH.test(request.nextUrl.pathname) });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('content-security-policy', csp);
  requestHeaders.set('x-nonce', nonce);
  // For pages that get no route params (the 404 page picks its language from the path).
  requestHeaders.set('x-qpc-path', request.nextUrl.pathname);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('content-security-policy', csp);
  return response;
}

export const config = {
  matcher: [
    {
      // Pages only: the API proxy, the health check and static assets set their own headers.
      source: '/((?!api/|api$|healthz|_next/static|_next/image|favicon.ico).*)',
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
};
