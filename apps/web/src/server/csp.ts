/**
 * The pages' Content-Security-Policy: only this origin, plus scripts carrying this request's
 * nonce. No other host may be contacted for scripts, styles, fonts, images or connections.
 */
export function contentSecurityPolicy(nonce: string, dev = false, opts: { wasm?: boolean } = {}): string {
  const directives = [
    "default-src 'self'",
    // 'strict-dynamic' lets Next's nonce'd loader fetch its own chunks from this origin.
    // 'wasm-unsafe-eval' lets the page compile WebAssembly (OPAQUE with Argon2 in the portal)
    // without allowing eval() of strings; only portal pages get it, the patient pages stay without.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.wasm ? " 'wasm-unsafe-eval'" : ''}${dev ? " 'unsafe-eval'" : ''}`,
    `style-src 'self'${dev ? " 'unsafe-inline'" : ` 'nonce-${nonce}'`}`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  return directives.join('; ');
}
