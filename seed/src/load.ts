#!/usr/bin/env node
/**
 * Publishes the demo dataset to a running server through its public API (what
 * `npm start` runs after the server is ready). The first run writes a marker under the
 * data directory; later runs reuse the data and only re-publish (with a higher
 * sequence) once the announces are more than a day old, so the demo never goes stale.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toBase64Url, toHex } from '@qpc/crypto';
import { buildAnnounce } from '@qpc/fapp';
import { buildDemoDataset, DEFAULT_DEMO_SEED } from './dataset.js';

const REFRESH_AFTER_MS = 24 * 3600_000;

interface Marker {
  seed: string;
  therapists: number;
  publishedAt: string;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      api: { type: 'string', default: 'http://127.0.0.1:3000' },
      'data-dir': { type: 'string', default: '.data' },
      therapists: { type: 'string', default: '200' },
      seed: { type: 'string', default: DEFAULT_DEMO_SEED },
      force: { type: 'boolean', default: false },
    },
  });
  const count = Number(values.therapists);
  if (!Number.isInteger(count) || count < 1 || count > 20_000) {
    console.error('--therapists must be an integer between 1 and 20000');
    return 64;
  }
  const markerPath = join(values['data-dir'], 'demo-data.json');
  const now = Date.now();
  if (!values.force && existsSync(markerPath)) {
    const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as Marker;
    if (now - Date.parse(marker.publishedAt) < REFRESH_AFTER_MS) {
      console.log(`  demo data already loaded (${marker.therapists} therapists, ${marker.publishedAt})`);
      return 0;
    }
  }

  const data = buildDemoDataset({ therapists: count, now, seed: values.seed });
  // Seconds since the epoch: every refresh supersedes the previous one.
  const sequence = Math.floor(now / 1000);
  let stored = 0;
  for (const t of data.therapists) {
    const bytes = buildAnnounce(t.signing, { ...t.input, sequence }, now);
    const res = await fetch(new URL('/api/v1/fapp/announces', values.api), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ announce: toBase64Url(bytes) }),
    });
    if (res.status === 201) stored++;
    else if (res.status !== 409) {
      console.error(`  announce of ${t.displayName} refused: ${res.status} ${await res.text()}`);
      return 1;
    }
  }
  mkdirSync(values['data-dir'], { recursive: true });
  writeFileSync(markerPath, JSON.stringify({ seed: values.seed, therapists: count, publishedAt: new Date(now).toISOString() } satisfies Marker, null, 2));
  // Demo logins for the therapist side. DEMO keys only: they are derived from a public seed.
  writeFileSync(
    join(values['data-dir'], 'demo-therapists.json'),
    JSON.stringify(
      data.therapists.map((t) => ({
        displayName: t.displayName,
        city: t.city,
        plz: t.plz,
        licenceNumber: t.licenceNumber,
        verified: Boolean(t.attestation),
        signingPublicKey: toHex(t.signing.publicKey),
        signingSecretSeed: toHex(t.signing.secretKey),
        kemSecretSeed: toHex(t.kem.secretKey),
      })),
      null,
      2,
    ),
  );
  console.log(`  demo data published: ${stored} therapists (authority: ${data.authority.name})`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`  loading demo data failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
