// Headless Chromium for the end-to-end tests of the web app and the SDK: the system's Chromium
// driven by playwright-core (no browser downloads; the machines have no internet access).
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const DEFAULT_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `CHROMIUM_PATH` if set (and only it), else the Debian location; null when none is usable. */
export function findChromium(env: Record<string, string | undefined> = process.env): string | null {
  const explicit = env.CHROMIUM_PATH?.trim();
  if (explicit) return isExecutable(explicit) ? explicit : null;
  return DEFAULT_CANDIDATES.find(isExecutable) ?? null;
}

export type BrowserAvailability =
  | { kind: 'available'; path: string }
  /** Outside CI: browser tests are skipped, loudly. */
  | { kind: 'skip'; reason: string }
  /** Under CI=true a missing browser is a failure, never a skip. */
  | { kind: 'required'; reason: string };

export function browserAvailability(env: Record<string, string | undefined> = process.env): BrowserAvailability {
  const path = findChromium(env);
  if (path) return { kind: 'available', path };
  const where = env.CHROMIUM_PATH ? `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable` : `no Chromium at ${DEFAULT_CANDIDATES.join(' or ')}`;
  const reason = `${where}; install it (apt-get install -y chromium) or set CHROMIUM_PATH`;
  if (env.CI === 'true') return { kind: 'required', reason: `Browser tests must run under CI=true: ${reason}` };
  const banner = '!'.repeat(78);
  console.warn(`\n${banner}\n!! SKIPPING BROWSER TESTS: ${reason}\n${banner}\n`);
  return { kind: 'skip', reason };
}

export type LaunchedBrowser = { context: BrowserContext; close(): Promise<void> };

/** A headless Chromium with a fresh, throw-away profile. */
export async function launchBrowser(executablePath: string): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'qpc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: 'de-DE',
    timezoneId: 'Europe/Berlin',
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
