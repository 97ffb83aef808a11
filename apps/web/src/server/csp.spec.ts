import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from './csp';

describe('page CSP', () => {
  it("allows WebAssembly compilation only when asked (the portal), never eval of strings", () => {
    const plain = contentSecurityPolicy('n0nce');
    const portal = contentSecurityPolicy('n0nce', false, { wasm: true });
    expect(plain).not.toContain('wasm-unsafe-eval');
    expect(portal).toContain("script-src 'self' 'nonce-n0nce' 'strict-dynamic' 'wasm-unsafe-eval'");
    expect(portal).not.toContain("'unsafe-eval'");
    expect(portal).toContain("connect-src 'self'");
  });
});
