import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailability, launchBrowser, type LaunchedBrowser } from './browser';
import { WEB_DIR } from './next-server';
import { startPlatform, type Platform } from './platform';

const browser = browserAvailability();
const SCREENSHOTS = join(WEB_DIR, '../../.test-reports/web');
const USERNAME = 'praxis-lindner';
const PASSWORD = 'Kastanienallee 7, dritter Stock!';

type Seen = { url: string; method: string; body: string | null };

describe.skipIf(browser.kind !== 'available')(`therapist portal in Chromium${browser.kind === 'available' ? '' : ` (skipped: ${browser.reason})`}`, () => {
  let p: Platform;
  const browsers: LaunchedBrowser[] = [];
  const seen: Seen[] = [];
  const consoleErrors: string[] = [];
  let plz: string;
  let therapist: Page;
  let firstSequence = 0;
  let slotIds: string[] = [];

  async function openContext(): Promise<BrowserContext> {
    const launched = await launchBrowser(browser.kind === 'available' ? browser.path : '');
    browsers.push(launched);
    launched.context.on('request', (req: Request) => seen.push({ url: req.url(), method: req.method(), body: req.postData() }));
    return launched.context;
  }

  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (msg) => {
      // Refusals the page explains (401 wrong password, 404 no backup yet, 409) are logged by Chromium itself.
      if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|404|409)/.test(msg.text())) consoleErrors.push(`${msg.text()} @ ${msg.location().url}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    return page;
  }

  async function signIn(page: Page, lang: 'de' | 'en', mode: 'signIn' | 'signUp', password = PASSWORD): Promise<void> {
    await page.goto(`${p.web.url}/${lang}/praxis`, { waitUntil: 'networkidle' });
    if (mode === 'signUp') await page.getByRole('button', { name: lang === 'de' ? 'Noch kein Konto? Konto anlegen' : 'No account yet? Create one' }).click();
    await page.locator('#portal-username').fill(USERNAME);
    await page.locator('#portal-password').fill(password);
    await page.getByTestId('auth-submit').click();
  }

  beforeAll(async () => {
    p = await startPlatform({ therapists: 4, powBits: 8, seed: 'portal-e2e', webEnv: { QPC_DEMO: '1' } });
    // A region none of the demo therapists is in: the search then shows exactly the portal's slots.
    const used = new Set(p.data.therapists.map((t) => t.plz.slice(0, 2)));
    plz = ['99084', '18055', '24103', '66111', '01067'].find((c) => !used.has(c.slice(0, 2)))!;
    therapist = await newPage(await openContext());
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await p?.stop();
  });

  it('signs up with OPAQUE, makes keys in the browser, and publishes two weekly slots with a DEMO attestation', async () => {
    await signIn(therapist, 'de', 'signUp');
    await therapist.getByTestId('portal').waitFor();
    expect(await therapist.getByTestId('portal-notice').innerText()).toContain('Neue Schlüssel wurden in Ihrem Browser erzeugt');
    const csp = (await therapist.request.get(`${p.web.url}/de/praxis`)).headers()['content-security-policy'];
    expect(csp).toContain("'wasm-unsafe-eval'");
    expect((await therapist.request.get(`${p.web.url}/de/suche`)).headers()['content-security-policy']).not.toContain('wasm');

    await therapist.locator('#profile-name').fill('Praxis Lindner');
    await therapist.locator('#profile-plz').fill(plz);
    await therapist.getByTestId('profile-fachrichtungen').getByLabel('Verhaltenstherapie').check();
    await therapist.getByTestId('profile-altersgruppen').getByLabel('Erwachsene').check();
    await therapist.getByTestId('profile-modalitaeten').getByLabel('in der Praxis').check();
    await therapist.getByTestId('profile-kostentraeger').getByLabel('Gesetzliche Krankenversicherung').check();
    await therapist.getByTestId('profile-save').click();
    await expect.poll(() => therapist.getByTestId('profile-status').innerText()).toBe('Profil gespeichert.');

    expect(await therapist.getByTestId('demo-attestation').innerText()).toContain('nicht echt');
    await therapist.getByTestId('demo-attest').click();
    await expect.poll(() => therapist.getByTestId('attestation-status').innerText()).toBe('Nachweis gespeichert.');
    expect(await therapist.getByTestId('attestation-current').innerText()).toContain('Verhaltenstherapie');

    // The form's default date is next Monday; two weeks at 09:00 Berlin time.
    await therapist.locator('#slot-time').fill('09:00');
    await therapist.locator('#slot-duration').selectOption('50');
    await therapist.locator('#slot-repeat').selectOption('2');
    await therapist.getByTestId('slot-add').click();
    await expect.poll(() => therapist.getByTestId('slot-status').innerText()).toContain('2 Termin(e) hinzugefügt');
    expect(await therapist.getByTestId('slot').count()).toBe(1);
    expect(await therapist.getByTestId('slot').first().innerText()).toContain('09:00');

    await therapist.getByTestId('publish').click();
    await expect.poll(() => therapist.getByTestId('publish-status').innerText()).toMatch(/^Veröffentlicht: 2 Termine \(Version \d+\)\.$/);
    firstSequence = Number(/Version (\d+)/.exec(await therapist.getByTestId('publish-status').innerText())![1]);
    expect(firstSequence).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 120);
    expect(await therapist.getByTestId('verification').innerText()).toBe(`verifiziert durch ${p.data.authority.name}`);
    await therapist.screenshot({ path: join(SCREENSHOTS, 'portal-published-de.png'), fullPage: true });
  });

  it('a patient in another browser finds both slots, reserves one, and the portal opens and confirms it', async () => {
    const patient = await newPage(await openContext());
    await patient.goto(`${p.web.url}/de/suche`, { waitUntil: 'networkidle' });
    await patient.locator('#search-plz').fill(plz);
    await patient.locator('button[type="submit"]').click();
    const results = patient.getByTestId('results');
    await results.waitFor();
    const cards = results.locator('> li');
    await expect.poll(() => cards.count()).toBe(2);
    slotIds = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-slot')!));
    const firstCard = await cards.first().innerText();
    expect(firstCard).toContain('09:00 Uhr');
    expect(firstCard).toContain(`verifiziert durch ${p.data.authority.name}`);
    expect(firstCard).toContain('Praxis Lindner');

    await cards.first().locator('button').click();
    await patient.getByLabel('Wie darf die Praxis Sie erreichen? (freiwillig)').fill('Telefon: 0151 2345678');
    await patient.getByLabel('Ihre Nachricht (freiwillig)').fill('Ich hätte gern ein Erstgespräch.');
    await patient.getByRole('button', { name: 'Anfrage verschlüsselt senden' }).click();
    await patient.getByTestId('private-link').waitFor();
    await patient.getByRole('link', { name: 'Antwortseite öffnen' }).click();
    await patient.waitForURL((u) => u.pathname === '/de/antwort');
    const status = patient.getByTestId('answer-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('pending');

    await therapist.getByTestId('inbox-refresh').click();
    const request = therapist.getByTestId('request');
    await request.waitFor();
    expect(await request.getAttribute('data-slot-id')).toBe(slotIds[0]);
    expect(await request.getByTestId('request-contact').innerText()).toBe('Telefon: 0151 2345678');
    expect(await request.getByTestId('request-message').innerText()).toBe('Ich hätte gern ein Erstgespräch.');
    expect(await request.getByTestId('request-slot').innerText()).toContain('09:00');
    await expect.poll(() => therapist.locator(`[data-testid="slot"][data-slot-id="${slotIds[0]}"] [data-testid="slot-state"]`).innerText()).toBe('angefragt');
    await therapist.screenshot({ path: join(SCREENSHOTS, 'portal-inbox-de.png'), fullPage: true });
    await request.getByTestId('request-reply').fill('Gerne, bis Montag!');
    await request.getByTestId('request-confirm').click();
    await expect.poll(() => therapist.getByTestId('inbox-status').innerText()).toBe('Zugesagt.');
    await expect.poll(() => therapist.getByTestId('booked-slot').count()).toBe(1);
    expect(await therapist.getByTestId('booked-slot').innerText()).toContain('Telefon: 0151 2345678');
    await expect.poll(() => therapist.locator(`[data-testid="slot"][data-slot-id="${slotIds[0]}"] [data-testid="slot-state"]`).innerText()).toBe('gebucht');

    await patient.getByRole('button', { name: 'Jetzt aktualisieren' }).click();
    await expect.poll(() => status.getAttribute('data-status')).toBe('confirmed');
    await expect.poll(() => patient.getByTestId('reply-message').innerText()).toBe('Gerne, bis Montag!');
    await patient.close();

    // Signing out ends the session on the server and leaves nothing in the tab.
    const token = await therapist.evaluate(() => (JSON.parse(window.sessionStorage.getItem('qpc.portal.session.v1')!) as { token: string }).token);
    await therapist.getByTestId('sign-out').click();
    await therapist.getByTestId('auth-form').waitFor();
    await expect.poll(async () => (await fetch(`${p.api.url}/api/v1/accounts/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect(await therapist.evaluate(() => window.sessionStorage.length)).toBe(0);
  });

  it('refuses a wrong password without saying which part was wrong', async () => {
    const page = await newPage(await openContext());
    await signIn(page, 'de', 'signIn', 'falsches Passwort 123');
    await expect.poll(() => page.getByTestId('auth-error').innerText()).toBe('Benutzername oder Passwort stimmen nicht.');
    expect(await page.getByTestId('portal').count()).toBe(0);
    await page.close();
  });

  it('signing in in a fresh browser (English) restores the keys; publishing again uses a higher sequence', async () => {
    const page = await newPage(await openContext());
    await signIn(page, 'en', 'signIn');
    await page.getByTestId('portal').waitFor();
    expect(await page.getByTestId('portal-notice').innerText()).toBe('Your keys were restored from the encrypted backup.');
    expect(await page.locator('#profile-plz').inputValue()).toBe(plz);
    expect(await page.getByTestId('attestation-current').innerText()).toContain('behavioural');
    // The booked slot is listed again: the restored keys sign the challenge and open the reservation.
    await expect.poll(() => page.getByTestId('booked-slot').count()).toBe(1);
    expect(await page.getByTestId('booked-slot').innerText()).toContain('0151 2345678');

    // A group slot next to the two from the first browser.
    await page.locator('#slot-time').fill('18:00');
    await page.locator('#slot-duration').selectOption('100');
    await page.locator('#slot-terminart').selectOption({ label: 'Group therapy' });
    await page.locator('#slot-group').selectOption('6');
    await page.getByTestId('slot-add').click();
    await expect.poll(() => page.getByTestId('slot-status').innerText()).toContain('1 appointment(s) added');
    expect(await page.getByTestId('week').innerText()).toContain('6 places');

    await page.getByTestId('publish').click();
    await expect.poll(() => page.getByTestId('publish-status').innerText()).toMatch(/^Published: 3 appointments \(version \d+\)\.$/);
    const second = Number(/version (\d+)/.exec(await page.getByTestId('publish-status').innerText())![1]);
    expect(second).toBeGreaterThan(firstSequence);
    expect(await page.getByTestId('verification').innerText()).toBe(`verified by ${p.data.authority.name}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-restored-en.png'), fullPage: true });

    // Releasing the booked slot frees it for patients again.
    await page.getByTestId('booked-release').click();
    await expect.poll(() => page.getByTestId('inbox-status').innerText()).toBe('The appointment is free again.');
    await expect.poll(() => page.getByTestId('booked-slot').count()).toBe(0);

    // Keys live in memory only: a reload ends the session and asks for the password again.
    await page.reload({ waitUntil: 'networkidle' });
    await page.getByTestId('auth-form').waitFor();
    await expect.poll(() => page.locator('#portal-username').inputValue()).toBe(USERNAME);
    expect(await page.evaluate(() => [window.sessionStorage.length, window.localStorage.length])).toEqual([0, 0]);
    await page.close();
  });

  it('never sent the password anywhere, and talked to no other host', () => {
    expect(seen.length).toBeGreaterThan(0);
    const origin = new URL(p.web.url).origin;
    const needles = [PASSWORD, encodeURIComponent(PASSWORD), JSON.stringify(PASSWORD).slice(1, -1)];
    for (const r of seen) {
      expect(new URL(r.url).origin, r.url).toBe(origin);
      for (const n of needles) {
        expect(r.url).not.toContain(n);
        expect(r.body ?? '').not.toContain(n);
      }
    }
    const opaqueCalls = seen.filter((r) => /\/api\/v1\/(accounts\/registration|sessions)\//.test(new URL(r.url).pathname));
    expect(opaqueCalls.length).toBeGreaterThanOrEqual(4);
    expect(consoleErrors).toEqual([]);
  });
});
