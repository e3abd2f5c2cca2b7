// Browser test of the journeys visualisation at /ui/, run by
// httpapi/ui/browser_test.go, which starts the real API, fills it with
// progress computed by the real engine and passes what the page must show in
// E2E_CONFIG (see e2eConfig there). Every check throws on failure; the
// process then exits non-zero and the Go test fails with this output.
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { audit, overflow } from './lib.mjs';

const cfg = JSON.parse(process.env.E2E_CONFIG ?? 'null');
assert.ok(cfg, 'E2E_CONFIG is not set: run this through go test ./httpapi/ui');

// problems collects console errors, uncaught exceptions and failed requests
// of every page; the test fails if any occurred.
const problems = [];
// During the deliberate wrong sign-in, Chromium's own log line for the 401
// is expected; it is the only console error the test accepts.
let expectingRefusal = false;
// httpErrors collects API answers of status 400 and above; only the one
// deliberate wrong sign-in may be among them.
const httpErrors = [];

const started = Date.now();
const step = (name) => console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const digits = (text) => Number(text.replace(/[^0-9]/g, ''));

function watch(page) {
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expectingRefusal && /status of 401/.test(m.text())) return;
    problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) httpErrors.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
}

// open loads the page, whose key field takes the focus.
async function open(page) {
  await page.goto(cfg.url);
  await page.waitForFunction(() => document.activeElement?.id === 'key');
}

// typeSignIn signs in with the keyboard alone, from the focused key field.
async function typeSignIn(page, secret) {
  await page.keyboard.type(cfg.key);
  await page.keyboard.press('Tab');
  await page.keyboard.type(secret);
  await page.keyboard.press('Enter');
}

async function checkAudit(page, what) {
  assert.deepEqual(await page.evaluate(audit), [], `accessibility problems ${what}`);
}

async function checkNoOverflow(page, what) {
  assert.deepEqual(await page.evaluate(overflow), [], `horizontal overflow at 375 px ${what}`);
}

const shot = (page, name) => page.screenshot({ path: path.join(cfg.screenshots, name), fullPage: true });

// lookUp submits the learner lookup form and waits for its answer.
async function lookUp(page, kind, fields) {
  await page.selectOption('#kind', kind);
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
  await page.evaluate(() => document.getElementById('learner').replaceChildren());
  await page.press(`#${Object.keys(fields).at(-1)}`, 'Enter');
  await page.waitForSelector('#learner-title-results');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'learner-title-results',
    'the results heading takes the focus');
}

// checkLearner compares the lookup's results with the API's progress.
async function checkLearner(page, expected) {
  const shown = await page.$$eval('#learner article', (arts) => arts.map((a) => ({
    journey: a.dataset.journey,
    attempts: a.querySelectorAll('[data-attempt]').length,
    statements: [...a.querySelectorAll('[data-statement]')].map((s) => s.dataset.statement),
    heading: a.querySelector('h4').textContent,
  })));
  assert.equal(shown.length, expected.journeys.length, 'one result per journey with progress');
  for (const want of expected.journeys) {
    const got = shown.find((s) => s.journey === want.journey);
    assert.ok(got, `progress in journey ${want.journey} is shown`);
    assert.equal(got.heading, cfg.journeys.find((j) => j.id === want.journey).description);
    assert.equal(got.attempts, want.attempts, `attempts in journey ${want.journey}`);
    assert.deepEqual([...got.statements].sort(), [...(want.statements ?? [])].sort(),
      `statements that counted in journey ${want.journey}`);
  }
}

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  headless: true,
  // A fresh profile per launch is Playwright's default.
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  watch(page);

  // Sign-in: a wrong secret is refused with a message and no data.
  await open(page);
  expectingRefusal = true;
  await typeSignIn(page, 'not-the-secret');
  await page.waitForSelector('#error .alert-box');
  expectingRefusal = false;
  assert.match(await page.textContent('#error'), /key or the secret is wrong/);
  assert.equal(await page.isHidden('#app'), true, 'no data without valid credentials');
  await checkAudit(page, 'on the sign-in form');
  step('a wrong secret is refused');

  await page.fill('#secret', cfg.secret);
  await page.press('#secret', 'Enter');
  await page.waitForSelector('#app:not([hidden])');
  assert.equal(await page.textContent('#who'), cfg.key);
  assert.equal(await page.isVisible('#error .alert-box'), false, 'the error is cleared');
  assert.equal(await page.inputValue('#secret'), '', 'the secret is cleared from the form');
  assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]), [0, 0, '']);
  assert.ok(!page.url().includes(cfg.secret) && !(await page.content()).includes(cfg.secret),
    'the secret appears in neither the URL nor the document');
  step('signed in with the keyboard; credentials are kept in memory only');

  // Journeys with their status.
  const rows = await page.$$eval('#journeys > li', (lis) => lis.map((li) => ({
    id: li.querySelector('[data-journey]').dataset.journey,
    name: li.querySelector('[data-journey]').textContent,
    text: li.textContent,
  })));
  assert.equal(rows.length, cfg.journeys.length, 'every journey is listed');
  for (const j of cfg.journeys) {
    const row = rows.find((r) => r.id === j.id);
    assert.ok(row, `journey ${j.description} is listed`);
    assert.equal(row.name, j.description);
    assert.ok(row.text.includes(j.status), `journey ${j.description} shows ${j.status}: ${row.text}`);
  }
  assert.match(rows.find((r) => r.id === cfg.recalculating).text, /3,750 of 5,000 statements \(75%\)/);
  step('journeys are listed with their status and recalculation progress');

  // While a journey recalculates, the list refreshes by itself.
  await page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v2/journey', { timeout: 5000 });
  step('the list refreshes by itself during a recalculation');

  // Choose the journey with the keyboard: Tab to it, then Enter.
  await page.focus('#journeys-title');
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((id) => document.activeElement?.dataset.journey === id, cfg.funnelOf)) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.journey), cfg.funnelOf, 'Tab reaches the journey');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'funnel-title'
    && document.querySelector('#funnel [data-metric="owners"]'));
  const title = cfg.journeys.find((j) => j.id === cfg.funnelOf).description;
  assert.equal(await page.textContent('#funnel-title'), `Funnel: ${title}`);

  // The funnel's numbers are the API's.
  const metrics = Object.fromEntries(await page.$$eval('#funnel dd[data-metric]',
    (dds) => dds.map((dd) => [dd.dataset.metric, dd.textContent])));
  for (const name of ['owners', 'inProgress', 'completed', 'completedAttempts']) {
    assert.equal(digits(metrics[name]), cfg.funnel[name], `funnel ${name}`);
  }
  const steps = await page.$$eval('#funnel li.step', (lis) => lis.map((li) => {
    const bar = li.querySelector('.bar').getBoundingClientRect().width;
    return {
      id: li.dataset.waypoint,
      completed: li.querySelector('[data-metric="waypoint"]').textContent,
      filled: li.querySelector('.fill').getBoundingClientRect().width / bar,
    };
  }));
  assert.deepEqual(steps.map((s) => s.id), cfg.funnel.waypoints.map((w) => w.waypoint), 'waypoints in evaluation order');
  assert.deepEqual(steps.map((s) => digits(s.completed)), cfg.funnel.waypoints.map((w) => w.completed), 'waypoint counts');
  for (const [i, s] of steps.entries()) {
    const want = cfg.funnel.waypoints[i].completed / cfg.funnel.owners;
    assert.ok(Math.abs(s.filled - want) < 0.01, `bar ${i + 1} is ${s.filled} full, want ${want}`);
  }
  assert.match(await page.textContent('#funnel'), /1 inactive waypoint is not shown/);
  await checkAudit(page, 'with the funnel shown');
  await shot(page, 'desktop-funnel.png');
  step('the funnel shows the API\'s numbers, chosen with the keyboard');

  // A recalculating journey's funnel says its numbers are partial.
  await page.click(`[data-journey="${cfg.recalculating}"]`);
  await page.waitForFunction((t) => document.getElementById('funnel-title').textContent === `Funnel: ${t}`,
    cfg.journeys.find((j) => j.id === cfg.recalculating).description);
  assert.match(await page.textContent('#funnel'), /numbers grow while the recalculation runs/);
  step('a recalculating journey\'s funnel is marked as partial');

  // Polling shows an edit made elsewhere and keeps opened conditions open.
  await page.click('#funnel .step details summary');
  const changed = await page.getAttribute('#funnel .journey-meta time', 'datetime');
  const res = await fetch(new URL(`../api/v2/journey/${cfg.recalculating}`, cfg.url), {
    method: 'PATCH',
    headers: {
      Authorization: `Basic ${Buffer.from(`${cfg.key}:${cfg.secret}`).toString('base64')}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ isPublic: true }),
  });
  assert.equal(res.status, 200, `PATCH the journey: ${await res.text()}`);
  await page.waitForFunction((before) => document.querySelector('#funnel .journey-meta time')?.dateTime !== before,
    changed, { timeout: 5000 });
  assert.equal(await page.isVisible('#funnel .step details[open] pre'), true, 'the opened conditions stay open');
  step('polling shows changes and keeps opened conditions open');

  // Learner lookup: a missing identifier is pointed out.
  await page.selectOption('#kind', 'mbox');
  await page.fill('#mbox', '');
  await page.press('#mbox', 'Enter');
  await page.waitForSelector('#error .alert-box');
  assert.match(await page.textContent('#error'), /Fill in “Email address”/);
  assert.equal(await page.getAttribute('#mbox', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'mbox');

  // By email address, typed without mailto:.
  await lookUp(page, 'mbox', { mbox: cfg.byMbox.mbox.replace(/^mailto:/, '') });
  assert.equal(await page.isVisible('#error .alert-box'), false, 'the error is cleared');
  await checkLearner(page, cfg.byMbox);
  const times = await page.$$eval('#learner [data-statement] time', (ts) => ts.map((t) => t.dateTime));
  assert.ok(times.length > 0 && times.every((t) => /^\d{4}-\d\d-\d\dT/.test(t)), 'statements are dated');
  await checkAudit(page, 'with learner results');
  await shot(page, 'desktop-learner.png');
  step('the learner lookup by email finds every attempt and the statements that counted');

  // By account: the form shows the account's fields instead.
  await page.selectOption('#kind', 'account');
  assert.equal(await page.isHidden('#mbox'), true);
  await lookUp(page, 'account', { homepage: cfg.byAccount.homePage, 'account-name': cfg.byAccount.name });
  await checkLearner(page, cfg.byAccount);
  step('the learner lookup by account finds their attempts');

  await lookUp(page, 'mbox', { mbox: 'nobody@example.org' });
  assert.equal(await page.textContent('#learner-title-results'), 'No progress found for nobody@example.org');
  step('an unknown learner is reported as such');

  await page.emulateMedia({ colorScheme: 'dark' });
  await lookUp(page, 'mbox', { mbox: cfg.byMbox.mbox });
  await checkAudit(page, 'in the dark colour scheme');
  await shot(page, 'desktop-dark.png');
  step('the dark colour scheme keeps AA contrast');

  await page.click('#signout');
  await page.waitForSelector('#signin-view:not([hidden])');
  assert.equal(await page.evaluate(() => document.querySelectorAll('#journeys li, #funnel *, #learner *').length), 0,
    'signing out removes every shown datum');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'key');
  step('signing out forgets the data');

  // A phone-sized viewport: nothing overflows horizontally.
  const phone = await browser.newContext({
    viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'en-US', timezoneId: 'UTC',
  });
  const small = await phone.newPage();
  watch(small);
  await open(small);
  await checkNoOverflow(small, 'on the sign-in form');
  await typeSignIn(small, cfg.secret);
  await small.waitForSelector('#app:not([hidden])');
  await checkNoOverflow(small, 'on the journey list');
  await small.click(`[data-journey="${cfg.funnelOf}"]`);
  await small.waitForSelector('#funnel [data-metric="owners"]');
  await small.click('#funnel details.conditions summary');
  await checkNoOverflow(small, 'on the funnel');
  await shot(small, 'mobile-funnel.png');
  await lookUp(small, 'account', { homepage: cfg.byAccount.homePage, 'account-name': cfg.byAccount.name });
  await checkNoOverflow(small, 'on the learner results');
  await shot(small, 'mobile-learner.png');
  step('375 px wide: no horizontal overflow');

  assert.deepEqual(problems, [], 'console errors, uncaught exceptions or failed requests');
  assert.deepEqual(httpErrors, ['401 /api/v2/journey'], 'the only failed API call is the wrong sign-in');
  step('no console errors');
} finally {
  await browser.close();
}
