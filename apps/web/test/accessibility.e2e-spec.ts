import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailability, launchBrowser, type LaunchedBrowser } from './browser';
import { WEB_DIR } from './next-server';
import { startPlatform, type Platform } from './platform';

const browser = browserAvailability();
const SCREENSHOTS = join(WEB_DIR, '../../.test-reports/web');
/** WCAG 2.0 and 2.1, levels A and AA: the rules axe-core runs for these tags, none turned off. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const USERNAME = 'praxis-tastatur';
const PASSWORD = 'Lindenstraße 12, Hinterhaus';

/** Every violation axe-core finds on the page as it is now, one line each (empty means none). */
async function axeViolations(page: Page): Promise<string[]> {
  // Legacy mode runs axe in the page itself; the default opens an extra page per run to merge
  // frame results, which these pages (no iframes) do not need.
  const result = await new AxeBuilder({ page }).withTags(WCAG_21_AA).setLegacyMode(true).analyze();
  return result.violations.map((v) => `${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
}

/**
 * Presses Tab until the focused element matches `selector`, as a keyboard user would move
 * through the page; fails if it is not reached within `max` presses, or if the element it
 * reaches shows no focus outline (WCAG 2.4.7, which axe-core cannot check).
 */
async function tabTo(page: Page, selector: string, { max = 60, backwards = false } = {}): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const outline = await page.evaluate((s) => {
      const el = document.activeElement;
      return el?.matches(s) ? getComputedStyle(el).outlineStyle : null;
    }, selector);
    if (outline === null) continue;
    expect(outline, `focus outline of ${selector}`).not.toBe('none');
    return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

describe.skipIf(browser.kind !== 'available')(`accessibility and keyboard use in Chromium${browser.kind === 'available' ? '' : ` (skipped: ${browser.reason})`}`, () => {
  let p: Platform;
  let launched: LaunchedBrowser;
  let therapist: Page;
  let plz: string;
  /** The patient's private answer link (fragment included). */
  let answerLink: string;
  const checked: string[] = [];

  /** Runs axe-core on the page and records what it checked. */
  async function expectAccessible(page: Page, state: string): Promise<void> {
    expect(await axeViolations(page), state).toEqual([]);
    checked.push(state);
  }

  async function typeInto(page: Page, selector: string, text: string): Promise<void> {
    await tabTo(page, selector);
    await page.keyboard.type(text);
  }

  beforeAll(async () => {
    p = await startPlatform({ therapists: 3, powBits: 8, seed: 'a11y-e2e', webEnv: { QPC_DEMO: '1' } });
    const used = new Set(p.data.therapists.map((t) => t.plz.slice(0, 2)));
    plz = ['99084', '18055', '24103', '66111', '01067'].find((c) => !used.has(c.slice(0, 2)))!;
    launched = await launchBrowser(browser.kind === 'available' ? browser.path : '');
    therapist = await launched.context.newPage();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await launched?.close();
    await p?.stop();
  });

  it('the portal works with the keyboard alone: sign up, profile, add a slot, publish, open the inbox', async () => {
    const page = therapist;
    await page.goto(`${p.web.url}/de/praxis`, { waitUntil: 'networkidle' });
    await page.locator('[data-testid="auth-submit"]:enabled').waitFor();
    await expectAccessible(page, 'de: portal sign-in');

    // Sign-up is a toggle button after the submit button.
    await tabTo(page, 'button[type="button"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#portal-auth').innerText()).toBe('Neues Konto');
    await tabTo(page, '#portal-username', { backwards: true });
    await page.keyboard.type(USERNAME);
    await typeInto(page, '#portal-password', PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByTestId('portal').waitFor();
    await expect.poll(() => page.getByTestId('portal-notice').innerText()).toContain('Neue Schlüssel');

    // The in-page navigation moves the keyboard to the profile; typed fields, checkboxes toggled
    // with Space, saved with Enter on the button.
    await tabTo(page, 'a[href="#profil"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => window.location.hash)).toBe('#profil');
    await typeInto(page, '#profile-name', 'Praxis Tastatur');
    await typeInto(page, '#profile-plz', plz);
    for (const group of ['fachrichtungen', 'altersgruppen', 'modalitaeten', 'kostentraeger']) {
      await tabTo(page, `[data-testid="profile-${group}"] input[type="checkbox"]`);
      await page.keyboard.press('Space');
    }
    await tabTo(page, '[data-testid="profile-save"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('profile-status').innerText()).toBe('Profil gespeichert.');
    await tabTo(page, '[data-testid="demo-attest"]');
    await page.keyboard.press('Space');
    await expect.poll(() => page.getByTestId('attestation-status').innerText()).toBe('Nachweis gespeichert.');

    // One slot on the form's defaults (next Monday, 09:00, 50 minutes), added with Enter.
    await tabTo(page, '[data-testid="slot-add"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('slot-status').innerText()).toContain('1 Termin(e) hinzugefügt');
    await expectAccessible(page, 'de: portal profile and calendar');

    await tabTo(page, '[data-testid="publish"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('publish-status').innerText()).toMatch(/^Veröffentlicht: 1 Termine? \(Version \d+\)\.$/);

    // The inbox follows the publish button.
    await tabTo(page, '[data-testid="inbox-refresh"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('inbox-empty').waitFor();
    await expectAccessible(page, 'de: portal inbox (empty) after publishing');
  });

  it('patient pages have no WCAG 2.1 AA violations (German): search, results, reservation, answer, 404', async () => {
    const page = await launched.context.newPage();
    await page.goto(`${p.web.url}/de`, { waitUntil: 'networkidle' });
    await expectAccessible(page, 'de: landing');
    // The checker is live in this setup (CSP, playwright-core's page): a planted image without alt text is found.
    await page.evaluate(() => {
      const img = document.createElement('img');
      img.src = '/icon.svg';
      document.querySelector('main')!.append(img);
    });
    expect((await axeViolations(page)).join('\n')).toContain('image-alt');
    await page.goto(`${p.web.url}/de/gibt-es-nicht`, { waitUntil: 'networkidle' });
    await expectAccessible(page, 'de: 404');

    await page.goto(`${p.web.url}/de/suche`, { waitUntil: 'networkidle' });
    await page.locator('button[type="submit"]:enabled').waitFor();
    await page.locator('summary').click();
    await expectAccessible(page, 'de: search form with all filters');
    await page.locator('button[type="submit"]').click();
    await page.locator('#search-plz-error').waitFor();
    await expectAccessible(page, 'de: search form with an error');

    await page.locator('#search-plz').fill(plz);
    await page.locator('button[type="submit"]').click();
    await page.getByTestId('results').waitFor();
    await expectAccessible(page, 'de: results');
    await page.locator('[data-testid="results"] > li button').first().click();
    await expect.poll(() => page.locator('h2:focus').innerText()).toBe('Termin anfragen');
    await expectAccessible(page, 'de: reservation form');
    await page.getByLabel('Wie darf die Praxis Sie erreichen? (freiwillig)').fill('E-Mail: kim@example.org');
    await page.getByLabel('Ihre Nachricht (freiwillig)').fill('Ich suche ein Erstgespräch.');
    await page.getByRole('button', { name: 'Anfrage verschlüsselt senden' }).click();
    const link = page.getByTestId('private-link');
    await link.waitFor();
    answerLink = await link.inputValue();
    await expectAccessible(page, 'de: reservation sent, private link');

    await page.goto(answerLink, { waitUntil: 'networkidle' });
    await expect.poll(() => page.getByTestId('answer-status').getAttribute('data-status')).toBe('pending');
    await expectAccessible(page, 'de: answer page, pending');
    await page.goto(`${p.web.url}/de/antwort#kaputt`, { waitUntil: 'networkidle' });
    await page.getByTestId('problem').waitFor();
    await expectAccessible(page, 'de: answer page, damaged link');
    await page.close();
  });

  it('the therapist declines with a short message in the portal; the patient answer page shows it', async () => {
    await therapist.getByTestId('inbox-refresh').click();
    const request = therapist.getByTestId('request');
    await request.waitFor();
    expect(await request.getByTestId('request-contact').innerText()).toBe('E-Mail: kim@example.org');
    await expectAccessible(therapist, 'de: portal inbox with a request');
    await therapist.screenshot({ path: join(SCREENSHOTS, 'portal-request-de.png'), fullPage: true });

    await request.getByTestId('request-reply').fill('Leider ist der Termin doch vergeben. Alles Gute!');
    await request.getByTestId('request-decline').click();
    await expect.poll(() => therapist.getByTestId('inbox-status').innerText()).toBe('Abgesagt.');
    await expect.poll(() => therapist.getByTestId('request').count()).toBe(0);
    expect(await therapist.getByTestId('booked-slot').count()).toBe(0);

    const patient = await launched.context.newPage();
    await patient.goto(answerLink, { waitUntil: 'networkidle' });
    const status = patient.getByTestId('answer-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('declined');
    expect(await status.innerText()).toContain('kann den Termin leider nicht vergeben');
    expect(await patient.getByTestId('reply-message').innerText()).toBe('Leider ist der Termin doch vergeben. Alles Gute!');
    expect(await patient.getByRole('link', { name: /Kalender/ }).count()).toBe(0);
    await expectAccessible(patient, 'de: answer page, declined');
    await patient.screenshot({ path: join(SCREENSHOTS, 'answer-declined-de.png'), fullPage: true });

    // The same link in English.
    await patient.goto(answerLink.replace('/de/antwort', '/en/antwort'), { waitUntil: 'networkidle' });
    await expect.poll(() => status.getAttribute('data-status')).toBe('declined');
    expect(await status.innerText()).toContain('cannot give you this appointment');
    await expectAccessible(patient, 'en: answer page, declined');
    await patient.close();
  });

  it('patient pages and the portal have no WCAG 2.1 AA violations (English, dark colour scheme)', async () => {
    const page = await launched.context.newPage();
    // German ran in the light scheme; English runs in the dark one, so both palettes meet the contrast rules.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${p.web.url}/en`, { waitUntil: 'networkidle' });
    await expectAccessible(page, 'en: landing');
    await page.goto(`${p.web.url}/en/no-such-page`, { waitUntil: 'networkidle' });
    await expectAccessible(page, 'en: 404');
    await page.goto(`${p.web.url}/en/suche`, { waitUntil: 'networkidle' });
    await page.locator('button[type="submit"]:enabled').waitFor();
    await page.locator('summary').click();
    await expectAccessible(page, 'en: search form with all filters');
    // The declined slot is free again; the demo therapists fill a second region.
    await page.locator('#search-plz').fill(plz);
    await page.locator('button[type="submit"]').click();
    await page.getByTestId('results').waitFor();
    await expectAccessible(page, 'en: results');
    await page.locator('[data-testid="results"] > li button').first().click();
    await expect.poll(() => page.locator('h2:focus').innerText()).toBe('Request an appointment');
    await expectAccessible(page, 'en: reservation form');

    await page.goto(`${p.web.url}/en/praxis`, { waitUntil: 'networkidle' });
    await page.locator('[data-testid="auth-submit"]:enabled').waitFor();
    await expectAccessible(page, 'en: portal sign-in');
    await page.locator('#portal-username').fill(USERNAME);
    await page.locator('#portal-password').fill(PASSWORD);
    await page.getByTestId('auth-submit').click();
    await page.getByTestId('portal').waitFor();
    await page.getByTestId('inbox-empty').waitFor();
    await expectAccessible(page, 'en: portal profile, calendar and inbox');
    await page.close();
    expect(checked.length).toBe(22);
  });
});
