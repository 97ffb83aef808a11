import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

// The monorepo root: Turbopack and output tracing must see the hoisted node_modules
// and the workspace libraries, not just apps/web.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// Headers for every response. The Content-Security-Policy for pages carries a fresh nonce
// per request and is set in src/proxy.ts; API and health responses get a deny-all policy here.
const securityHeaders = [
  { key: 'Referrer-Policy', value: 'no-referrer' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Cross-Origin-Resource-Policy', value: 'same-origin' },
  { key: 'X-DNS-Prefetch-Control', value: 'off' },
  { key: 'Strict-Transport-Security', value: 'max-age=63072000; includeSubDomains' },
  {
    key: 'Permissions-Policy',
    value: [
      'accelerometer=()',
      'browsing-topics=()',
      'camera=()',
      'display-capture=()',
      'geolocation=()',
      'gyroscope=()',
      'magnetometer=()',
      'microphone=()',
      'payment=()',
      'usb=()',
    ].join(', '),
  },
];

const denyAllCsp = { key: 'Content-Security-Policy', value: "default-src 'none'; frame-ancestors 'none'" };

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // Workspace libraries ship TypeScript sources; the portal and search pages will import them.
  transpilePackages: ['@qpc/proto', '@qpc/crypto', '@qpc/fapp'],
  async headers() {
    return [
      { source: '/:path*', headers: securityHeaders },
      { source: '/api/:path*', headers: [denyAllCsp] },
      { source: '/healthz', headers: [denyAllCsp] },
    ];
  },
  async redirects() {
    // German first: the bare origin is the German site.
    return [{ source: '/', destination: '/de', permanent: false }];
  },
};

export default nextConfig;
