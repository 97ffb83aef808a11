import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toBase64Url, fromBase64Url, randomBytes } from '@qpc/crypto';
import { buildAnnounce, buildConfirm, decodeMessage, matchSlots, openReservation, signChallenge, verifyAnnounce, zonedParts, type MatchCandidate, type SlotFilter, type SlotMatch } from '@qpc/fapp';
import { FappSignedSchema, Terminart } from '@qpc/proto';
import { type DemoTherapist } from '@qpc/seed';
import { type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailability, launchBrowser, type LaunchedBrowser } from './browser';
import { startWeb, WEB_DIR } from './next-server';
import { postJson, startPlatform, type Platform } from './platform';

const browser = browserAvailability();
const SCREENSHOTS = join(WEB_DIR, '../../.test-reports/web');
const MONTHS_DE = ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'];
const REGION_SYNC = /^\/api\/v1\/fapp\/regions\/\d{2}\/announces\?limit=200(&cursor=[A-Za-z0-9_-]+)?$/;

type Seen = { url: string; method: string; body: string | null; headers: Record<string, string> };

/** The same matcher the page runs, over the same data: what the page must show. */
function expectedMatches(p: Platform, filter: SlotFilter, nowMs: number): SlotMatch[] {
  const candidates: MatchCandidate[] = p.data.announces.map((bytes) => {
    const v = verifyAnnounce(bytes, { nowMs, trust: p.data.authority.trust });
    return { announce: v.announce, verified: v.verified };
  });
  return matchSlots(candidates, { limit: 100, ...filter }, { nowMs });
}

/** `26. Oktober 2026, 09:30 Uhr`, from Berlin wall-clock parts (independent of the page's code). */
function germanSlotText(startMs: number): { date: string; time: string } {
  const z = zonedParts(startMs);
  return { date: `${z.day}. ${MONTHS_DE[z.month - 1]} ${z.year}`, time: `${String(z.hour).padStart(2, '0')}:${String(z.minute).padStart(2, '0')}` };
}

function therapistOf(p: Platform, therapistId: string): DemoTherapist {
  return p.data.therapists.find((t) => Buffer.from(t.signing.publicKey).toString('hex') === therapistId)!;
}

describe.skipIf(browser.kind !== 'available')(`patient search, reservation and answer in Chromium${browser.kind === 'available' ? '' : ` (skipped: ${browser.reason})`}`, () => {
  let p: Platform;
  let launched: LaunchedBrowser;
  const seen: Seen[] = [];
  const consoleErrors: string[] = [];
  /** The web apps this suite started: the only hosts the browser may talk to. */
  const ownOrigins = new Set<string>();
  /** The PLZ the patient types: a full one, so a test can prove it never leaves the device. */
  let plz: string;
  let region: string;

  function apiRequests(): Seen[] {
    return seen.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
  }

  async function newPage(): Promise<Page> {
    const page = await launched.context.newPage();
    page.on('console', (msg) => {
      // A refused or cut-off API call (409, 404, 429, offline) is logged by Chromium itself; everything else is a bug.
      if (msg.type() === 'error' && !/Failed to load resource: (the server responded with a status of (409|404|429)|net::ERR_INTERNET_DISCONNECTED)/.test(msg.text())) consoleErrors.push(`${msg.text()} @ ${msg.location().url}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    return page;
  }

  async function search(page: Page, lang: 'de' | 'en', value: string, more?: (page: Page) => Promise<void>): Promise<void> {
    await page.goto(`${p.web.url}/${lang}/suche`, { waitUntil: 'networkidle' });
    await page.locator('#search-plz').fill(value);
    if (more) {
      await page.locator('summary').click();
      await more(page);
    }
    await page.locator('button[type="submit"]').click();
    await page.getByTestId('results').or(page.getByTestId('search-status').filter({ hasText: lang === 'de' ? 'keine freien Termine' : 'no free appointments' })).first().waitFor();
  }

  async function cardStarts(page: Page): Promise<number[]> {
    return (await page.locator('[data-testid="results"] > li').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-start')))));
  }

  beforeAll(async () => {
    p = await startPlatform({ therapists: 12, powBits: 8, seed: 'web-e2e' });
    // The busiest region of the demo data, and the PLZ of its first therapist.
    const counts = new Map<string, number>();
    for (const t of p.data.therapists) counts.set(t.plz.slice(0, 2), (counts.get(t.plz.slice(0, 2)) ?? 0) + 1);
    region = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    plz = p.data.therapists.find((t) => t.plz.startsWith(region))!.plz;
    ownOrigins.add(p.web.url);
    launched = await launchBrowser(browser.kind === 'available' ? browser.path : '');
    launched.context.on('request', (req: Request) => seen.push({ url: req.url(), method: req.method(), body: req.postData(), headers: req.headers() }));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await launched?.close();
    await p?.stop();
  });

  it('finds slots by PLZ, earliest first, in Berlin time, and says no query leaves the device', async () => {
    const page = await newPage();
    const before = seen.length;
    await search(page, 'de', plz);
    await expect.poll(() => page.getByTestId('privacy-sentence').innerText()).toContain('Ihre Suchangaben werden nicht gesendet');

    const expected = expectedMatches(p, { plzPrefix: plz }, Date.now());
    expect(expected.length).toBeGreaterThan(1);
    const starts = await cardStarts(page);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts).toEqual(expected.map((m) => m.slot.startMs));
    await expect.poll(() => page.getByTestId('search-status').innerText()).toContain(`${expected.length} freie Termine gefunden`);

    // One known slot, shown as the Berlin wall clock says.
    const first = expected[0]!;
    const { date, time } = germanSlotText(first.slot.startMs);
    const card = page.locator(`li[data-slot="${first.slot.idHex}"]`);
    const text = await card.innerText();
    expect(text).toContain(date);
    expect(text).toContain(`${time} Uhr`);
    expect(text).toContain(`PLZ\n${plz}`);
    const verified = first.verified ? `verifiziert durch ${p.data.authority.name}` : 'nicht verifiziert';
    expect(text).toContain(verified);

    // Only region syncs by two digits reached the API, and nothing the patient typed.
    const during = seen.slice(before).filter((r) => new URL(r.url).pathname.startsWith('/api/'));
    expect(during.length).toBeGreaterThan(0);
    for (const r of during) {
      const u = new URL(r.url);
      expect(`${u.pathname}${u.search}`).toMatch(REGION_SYNC);
      expect(u.pathname).toContain(`/regions/${region}/`);
      expect(r.method).toBe('GET');
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'search-de.png'), fullPage: true });
    await page.close();
  });

  it('narrows the results with filters on the device, without sending them', async () => {
    const page = await newPage();
    const before = seen.length;
    const nowMs = Date.now();
    await search(page, 'de', region, async (pg) => {
      await pg.locator('#search-terminart').selectOption('SPRECHSTUNDE');
      await pg.locator('#search-verifiedOnly').check();
    });
    const all = expectedMatches(p, { plzPrefix: region }, nowMs);
    const narrowed = expectedMatches(p, { plzPrefix: region, terminarten: [Terminart.SPRECHSTUNDE], verifiedOnly: true }, nowMs);
    expect(narrowed.length).toBeGreaterThan(0);
    expect(narrowed.length).toBeLessThan(all.length);
    expect(await cardStarts(page)).toEqual(narrowed.map((m) => m.slot.startMs));
    for (const text of await page.locator('[data-testid="results"] > li').allInnerTexts()) {
      expect(text).toContain('Psychotherapeutische Sprechstunde');
      expect(text).toContain('verifiziert durch');
    }
    const typed = [plz, 'SPRECHSTUNDE', 'verifiedOnly', 'terminart'];
    for (const r of seen.slice(before)) {
      for (const value of typed) {
        expect(r.url, r.url).not.toContain(value);
        expect(r.body ?? '', r.url).not.toContain(value);
      }
      const u = new URL(r.url);
      if (u.pathname.startsWith('/api/')) expect(`${u.pathname}${u.search}`).toMatch(REGION_SYNC);
    }
    await page.close();
  });

  it('reserves a slot (sealed, proof of work in a worker), lands on the private link, and shows the confirmation', async () => {
    const patient = await newPage();
    const rival = await newPage();
    await search(patient, 'de', plz);
    await search(rival, 'de', plz);
    const target = expectedMatches(p, { plzPrefix: plz }, Date.now())[0]!;

    // A MutationObserver notices the progress bar however briefly it shows.
    await patient.evaluate(() => {
      const w = window as unknown as { sawProgress: boolean };
      w.sawProgress = false;
      new MutationObserver(() => {
        if (document.querySelector('progress')) w.sawProgress = true;
      }).observe(document.body, { subtree: true, childList: true });
    });
    await patient.locator(`li[data-slot="${target.slot.idHex}"] button`).click();
    await expect.poll(() => patient.locator('h2:focus').innerText()).toBe('Termin anfragen');
    expect(await patient.getByRole('link', { name: '0800 111 0 111' }).count()).toBeGreaterThan(0);
    await patient.getByLabel('Wie darf die Praxis Sie erreichen? (freiwillig)').fill('Signal: @kim');
    await patient.getByLabel('Ihre Nachricht (freiwillig)').fill('Ich suche einen Platz für eine Sprechstunde.');
    expect(await patient.getByLabel('Auf diesem Gerät merken').isChecked()).toBe(false);
    const before = seen.length;
    await patient.getByRole('button', { name: 'Anfrage verschlüsselt senden' }).click();
    const linkBox = patient.getByTestId('private-link');
    await linkBox.waitFor();
    expect(await patient.evaluate(() => (window as unknown as { sawProgress: boolean }).sawProgress)).toBe(true);
    await patient.screenshot({ path: join(SCREENSHOTS, 'reserved-de.png'), fullPage: true });

    const link = await linkBox.inputValue();
    const url = new URL(link);
    expect(url.origin).toBe(p.web.url);
    expect(url.pathname).toBe('/de/antwort');
    expect(url.search).toBe('');
    expect(url.hash).toMatch(/^#[A-Za-z0-9_-]{159}$/);
    const fragment = url.hash.slice(1);
    // Nothing is stored on the device unless asked; the fragment never went over the wire.
    expect(await patient.evaluate(() => window.localStorage.length)).toBe(0);
    const posted = seen.slice(before).filter((r) => new URL(r.url).pathname.startsWith('/api/'));
    expect(posted.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(['POST /api/v1/fapp/reservations']);
    expect(posted[0]!.body).not.toContain('Signal');

    // The rival had the same slot on screen: the server refuses, the page explains kindly.
    await rival.locator(`li[data-slot="${target.slot.idHex}"] button`).click();
    await rival.getByRole('button', { name: 'Anfrage verschlüsselt senden' }).click();
    const alert = rival.getByTestId('problem');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('fapp.slot_held');
    expect(await alert.innerText()).toContain('Dieser Termin wurde gerade von jemand anderem reserviert');
    await rival.getByRole('button', { name: 'Anderen Termin wählen' }).click();
    await rival.getByTestId('results').waitFor();
    expect(await rival.locator(`li[data-slot="${target.slot.idHex}"]`).count()).toBe(0);
    await rival.close();

    // The private link: pending, with the hold's end in Berlin time.
    await patient.getByRole('link', { name: 'Antwortseite öffnen' }).click();
    await patient.waitForURL((u) => u.pathname === '/de/antwort');
    const status = patient.getByTestId('answer-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('pending');
    expect(await status.innerText()).toContain('reserviert bis');
    const { date, time } = germanSlotText(target.slot.startMs);
    const slotLine = await patient.locator('main').innerText();
    expect(slotLine).toContain(date);
    expect(slotLine).toContain(`${time} Uhr`);
    const mailboxCalls = seen.filter((r) => new URL(r.url).pathname === '/api/v1/fapp/mailbox');
    expect(mailboxCalls.length).toBeGreaterThan(0);
    for (const r of mailboxCalls) {
      expect(new URL(r.url).search).toBe('');
      expect(r.headers['x-mailbox-capability']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    for (const r of seen) expect(r.url).not.toContain(fragment.slice(1, 40));

    // The therapist answers through the API, as the portal will.
    const th = therapistOf(p, target.therapistId);
    const { challenge } = (await (await postJson(`${p.api.url}/api/v1/fapp/therapist/challenge`, {})).json()) as { challenge: string };
    const list = await postJson(`${p.api.url}/api/v1/fapp/therapist/reservations`, {
      therapistKey: toBase64Url(th.signing.publicKey),
      challenge,
      signature: toBase64Url(signChallenge(th.signing, fromHex(challenge))),
    });
    expect(list.status).toBe(200);
    const held = ((await list.json()) as { reservations: { slotId: string; reservation: string }[] }).reservations.find((r) => r.slotId === target.slot.idHex)!;
    const opened = await openReservation(fromBase64Url(held.reservation), th.kem.secretKey);
    expect(opened.contact).toBe('Signal: @kim');
    expect(opened.message).toBe('Ich suche einen Platz für eine Sprechstunde.');
    const answer = await buildConfirm(th.signing, opened, 'confirmed', 'Gerne! Bitte klingeln Sie im 2. Stock.', Date.now());
    expect((await postJson(`${p.api.url}/api/v1/fapp/therapist/answers`, { answer: toBase64Url(answer) })).status).toBe(200);

    await patient.getByRole('button', { name: 'Jetzt aktualisieren' }).click();
    await expect.poll(() => status.getAttribute('data-status')).toBe('confirmed');
    await expect.poll(() => patient.getByTestId('reply-message').innerText()).toBe('Gerne! Bitte klingeln Sie im 2. Stock.');
    expect(await status.innerText()).toContain('bestätigt');
    expect(await patient.getByRole('link', { name: /Kalender/ }).getAttribute('download')).toBe('termin.ics');
    await patient.screenshot({ path: join(SCREENSHOTS, 'answer-confirmed-de.png'), fullPage: true });
    await patient.close();
  });

  it('remembers a reservation on the device only when asked, and the patient can withdraw it', async () => {
    const page = await newPage();
    await search(page, 'de', region);
    const starts = await cardStarts(page);
    expect(starts.length).toBeGreaterThan(1);
    await page.locator('[data-testid="results"] > li').last().locator('button').click();
    await page.getByLabel('Auf diesem Gerät merken').check();
    await page.getByRole('button', { name: 'Anfrage verschlüsselt senden' }).click();
    const link = await page.getByTestId('private-link').inputValue();
    expect(new URL(link).hash).toMatch(/^#[A-Za-z0-9_-]{43}$/);
    expect(await page.evaluate(() => window.localStorage.getItem('qpc.reservations.v1'))).toContain('fragment');

    await page.goto(link);
    const status = page.getByTestId('answer-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('pending');
    await page.getByRole('button', { name: 'Anfrage zurückziehen' }).click();
    await page.getByRole('button', { name: 'Ja, Anfrage zurückziehen' }).click();
    await expect.poll(() => status.getAttribute('data-status')).toBe('cancelled');
    expect(await status.innerText()).toContain('zurückgezogen');
    await page.getByRole('button', { name: 'Von diesem Gerät löschen' }).click();
    expect(await page.evaluate(() => window.localStorage.getItem('qpc.reservations.v1'))).toBeNull();
    await page.close();
  });

  it('explains a damaged or unknown link calmly', async () => {
    const page = await newPage();
    const before = seen.length;
    await page.goto(`${p.web.url}/de/antwort#kaputt`, { waitUntil: 'networkidle' });
    await expect.poll(() => page.getByTestId('problem').innerText()).toContain('unvollständig oder beschädigt');
    expect(seen.slice(before).filter((r) => new URL(r.url).pathname.startsWith('/api/'))).toEqual([]);

    await page.goto(`${p.web.url}/de/antwort#${toBase64Url(randomBytes(32))}`, { waitUntil: 'networkidle' });
    await page.reload({ waitUntil: 'networkidle' });
    await expect.poll(() => page.getByTestId('answer-status').innerText()).toContain('Zu diesem Link gibt es keine Anfrage');
    await page.close();
  });

  it('works in English', async () => {
    const page = await newPage();
    await search(page, 'en', plz);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expect.poll(() => page.getByTestId('privacy-sentence').innerText()).toContain('what you enter is never sent');
    const expected = expectedMatches(p, { plzPrefix: plz }, Date.now());
    await expect.poll(() => page.getByTestId('search-status').innerText()).toMatch(/free appointments? found, earliest first/);
    const first = expected.find((m) => m.verified) ?? expected[0]!;
    const text = await page.locator(`li[data-slot="${first.slot.idHex}"]`).innerText();
    expect(text).toContain(germanSlotText(first.slot.startMs).time);
    expect(text).not.toContain('Uhr');
    expect(text).toContain(first.verified ? `verified by ${p.data.authority.name}` : 'not verified');
    await page.screenshot({ path: join(SCREENSHOTS, 'search-en.png'), fullPage: true });

    await page.goto(`${p.web.url}/en/antwort#kaputt`, { waitUntil: 'networkidle' });
    await expect.poll(() => page.getByTestId('problem').innerText()).toContain('incomplete or damaged');
    await page.close();
  });

  it('works on a phone with the keyboard alone, interactive quickly (time printed)', async () => {
    const page = await newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const t0 = performance.now();
    await page.goto(`${p.web.url}/de/suche`);
    await page.locator('button[type="submit"]:enabled').waitFor();
    const interactiveMs = Math.round(performance.now() - t0);
    console.log(`search page interactive after ${interactiveMs} ms (localhost, demo data)`);
    await page.locator('#search-plz').focus();
    await page.keyboard.type(plz);
    await page.keyboard.press('Enter');
    await page.getByTestId('results').waitFor();
    const firstButton = page.locator('[data-testid="results"] > li button').first();
    await firstButton.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Termin anfragen');
    // Nothing overflows sideways on a narrow screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SCREENSHOTS, 'reserve-phone-de.png'), fullPage: true });
    await page.close();
  });

  it('explains a dropped connection and a rate limit calmly', async () => {
    const page = await newPage();
    await page.route('**/api/v1/fapp/regions/**', (route) => route.abort('internetdisconnected'));
    await page.goto(`${p.web.url}/de/suche`, { waitUntil: 'networkidle' });
    await page.locator('#search-plz').fill(plz);
    await page.locator('button[type="submit"]').click();
    await expect.poll(() => page.getByTestId('search-status').innerText()).toContain('Keine Verbindung');
    await page.unroute('**/api/v1/fapp/regions/**');

    await page.route('**/api/v1/fapp/reservations', (route) =>
      route.fulfill({ status: 429, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429, code: 'fapp.rate_limited' }) }),
    );
    await page.locator('button[type="submit"]').click();
    await page.getByTestId('results').waitFor();
    await page.locator('[data-testid="results"] > li button').first().click();
    await page.getByRole('button', { name: 'Anfrage verschlüsselt senden' }).click();
    const problem = page.getByTestId('problem');
    await problem.waitFor();
    expect(await problem.getAttribute('data-code')).toBe('fapp.rate_limited');
    expect(await problem.innerText()).toContain('in einer Minute noch einmal');
    await page.close();
  });

  it('shows the proof-of-work progress and lets the patient cancel it (nothing is sent)', async () => {
    // A second web app asking for a much harder stamp, so the work lasts long enough to cancel.
    const slow = await startWeb({ QPC_API_URL: p.api.url, QPC_FAPP_POW_BITS: '28', QPC_FAPP_AUTHORITIES: p.authorities });
    ownOrigins.add(slow.url);
    try {
      const page = await newPage();
      await page.goto(`${slow.url}/de/suche`, { waitUntil: 'networkidle' });
      await page.locator('#search-plz').fill(plz);
      await page.locator('button[type="submit"]').click();
      await page.getByTestId('results').waitFor();
      await page.locator('[data-testid="results"] > li button').first().click();
      const before = seen.length;
      await page.getByRole('button', { name: 'Anfrage verschlüsselt senden' }).click();
      // The bar appears with the worker's first progress report; its value stays near 0 at this
      // difficulty (2^28 expected tries), so its presence is the event to wait for. If the page
      // shows something else instead (an error), the message says what.
      const working = page.locator('progress');
      const problem = page.getByTestId('problem');
      await working.or(problem).first().waitFor({ timeout: 60_000 });
      expect(await problem.count(), await page.locator('main').innerText()).toBe(0);
      expect(await working.getAttribute('max')).toBe('100');
      await page.getByRole('button', { name: 'Abbrechen' }).click();
      await expect.poll(() => page.locator('main').innerText()).toContain('Sie haben das Senden abgebrochen');
      expect(await page.locator('progress').count()).toBe(0);
      expect(seen.slice(before).filter((r) => r.method === 'POST')).toEqual([]);
      await page.close();
    } finally {
      await slow.stop();
    }
  });

  it('drops announces whose signature or attestation does not verify, and says so', async () => {
    // The server refuses such announces, so they are slipped into the real sync response.
    const inRegion = p.data.therapists.filter((t) => t.plz === plz);
    const elsewhere = p.data.therapists.filter((t) => !t.plz.startsWith(region) && t.attestation);
    expect(elsewhere.length).toBeGreaterThanOrEqual(3);
    const [borrower, flipped, control] = elsewhere as [DemoTherapist, DemoTherapist, DemoTherapist];
    const lender = p.data.therapists.find((t) => t.attestation && t !== borrower)!;
    const forged = inRegion[0]!;
    const id = (t: DemoTherapist) => Buffer.from(t.signing.publicKey).toString('hex');
    /** The last byte of FappSigned bytes (hop_count 0 is not encoded) is the signature's. */
    const flipSignature = (bytes: Uint8Array): Uint8Array => {
      const out = bytes.slice();
      out[out.length - 1]! ^= 0x01;
      expect(decodeMessage(FappSignedSchema, out).signature).not.toEqual(decodeMessage(FappSignedSchema, bytes).signature);
      return out;
    };
    // Signed correctly by the therapist's own key, moved to the patient's PLZ.
    const resign = (t: DemoTherapist, attestation: Uint8Array) => buildAnnounce(t.signing, { ...t.input, plz, attestation, sequence: t.input.sequence + 1 }, Date.now());
    const injected = {
      // the announce of a therapist at this PLZ with one bit of its signature flipped
      [toBase64Url(forged.announce)]: toBase64Url(flipSignature(forged.announce)),
    };
    const extra = [
      resign(borrower, lender.attestation!), // another therapist's licence attestation
      resign(flipped, flipSignature(flipped.attestation!)), // the authority's signature broken
      resign(control, control.attestation!), // untouched: proves re-signed announces do show
    ].map(toBase64Url);

    const page = await newPage();
    let served = 0;
    await page.route(`**/api/v1/fapp/regions/${region}/announces**`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { announces: string[] };
      expect(body.announces).toContain(toBase64Url(forged.announce));
      body.announces = [...body.announces.map((a) => injected[a] ?? a), ...extra];
      served++;
      await route.fulfill({ response, json: body });
    });
    await search(page, 'de', plz);
    expect(served).toBe(1);
    await expect.poll(() => page.getByTestId('search-status').innerText()).toContain('3 Angebote ließen sich nicht prüfen und werden nicht angezeigt.');
    const shown = new Set(await page.locator('[data-testid="results"] > li').evaluateAll((els) => els.map((e) => e.getAttribute('data-therapist'))));
    for (const t of [forged, borrower, flipped]) expect(shown.has(id(t)), t.displayName).toBe(false);
    expect(shown.has(id(control))).toBe(true);
    for (const text of await page.locator(`[data-testid="results"] > li[data-therapist="${id(control)}"]`).allInnerTexts()) {
      expect(text).toContain(`verifiziert durch ${p.data.authority.name}`);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'search-tampered-de.png'), fullPage: true });
    await page.close();
  });

  it('made requests to its own origin only and logged no errors (CSP included)', () => {
    expect(seen.length).toBeGreaterThan(10);
    expect([...new Set(seen.map((r) => new URL(r.url).origin))].sort()).toEqual([...ownOrigins].sort());
    expect(apiRequests().every((r) => !r.headers.cookie)).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
