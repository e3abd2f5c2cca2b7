// Browser test of the journey editor at /ui/, run by
// httpapi/ui/editor_test.go against the real journeysd binary, whose
// pipeline computes what the page shows; E2E_CONFIG carries the seeded
// statements' facts (see editorConfig there). Every check throws on
// failure; the process then exits non-zero and the Go test fails.
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { audit, overflow } from './lib.mjs';

const cfg = JSON.parse(process.env.E2E_CONFIG ?? 'null');
assert.ok(cfg, 'E2E_CONFIG is not set: run this through go test ./httpapi/ui');

const problems = [];
const httpErrors = [];
// API answers of status 400 that a step provokes on purpose; Chromium logs
// each as a console error, which is then expected too.
let expecting400 = 0;

const started = Date.now();
const step = (name) => console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const digits = (text) => Number(text.replace(/[^0-9]/g, ''));
const authHeader = `Basic ${Buffer.from(`${cfg.key}:${cfg.secret}`).toString('base64')}`;

function watch(page) {
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expecting400 > 0 && /status of 400/.test(m.text())) return;
    problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
}

// apiCall calls the daemon's API directly, as an independent reader.
async function apiCall(method, p, body, headers = {}) {
  const res = await fetch(new URL(p, cfg.url).href, {
    method,
    headers: { Authorization: authHeader, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// postStatements stores statements through the daemon's xAPI resource.
async function postStatements(statements) {
  const res = await apiCall('POST', '/data/xAPI/statements', statements, { 'X-Experience-API-Version': '1.0.3' });
  assert.equal(res.status, 200, `POST statements: ${JSON.stringify(res.body)}`);
}

function statement(learner, verb) {
  return {
    actor: { objectType: 'Agent', name: `Learner ${learner}`, mbox: `mailto:learner${learner}@example.org` },
    verb: { id: verb, display: { 'en-US': verb.split('/').at(-1) } },
    object: { objectType: 'Activity', id: cfg.activity },
  };
}

async function signIn(page) {
  await page.goto(cfg.url);
  await page.waitForFunction(() => document.activeElement?.id === 'key');
  await page.keyboard.type(cfg.key);
  await page.keyboard.press('Tab');
  await page.keyboard.type(cfg.secret);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#app:not([hidden])');
}

// tabTo presses Tab until the focused element satisfies the page function
// test(el, arg), and fails after max presses.
async function tabTo(page, test, arg, what, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(([src, a]) => new Function('el', 'arg', `return (${src})(el, arg)`)(document.activeElement, a), [test.toString(), arg])) return;
  }
  assert.fail(`Tab never reached ${what}`);
}

const focusedID = (page) => page.evaluate(() => document.activeElement?.id);

// funnelNumbers reads the funnel shown.
async function funnelNumbers(page) {
  return page.evaluate(() => {
    const m = (name) => Number(document.querySelector(`#funnel [data-metric="${name}"]`)?.textContent.replace(/[^0-9]/g, ''));
    return {
      owners: m('owners'),
      completed: m('completed'),
      waypoints: [...document.querySelectorAll('#funnel li.step [data-metric="waypoint"]')].map((e) => Number(e.textContent.replace(/[^0-9]/g, ''))),
    };
  });
}

async function waitFunnel(page, want, what) {
  try {
    await page.waitForFunction((w) => {
      const m = (name) => Number(document.querySelector(`#funnel [data-metric="${name}"]`)?.textContent.replace(/[^0-9]/g, ''));
      const wps = [...document.querySelectorAll('#funnel li.step [data-metric="waypoint"]')].map((e) => Number(e.textContent.replace(/[^0-9]/g, '')));
      return m('owners') === w.owners && m('completed') === w.completed && JSON.stringify(wps) === JSON.stringify(w.waypoints);
    }, want, { timeout: 20_000 });
  } catch {
    assert.fail(`${what}: the funnel shows ${JSON.stringify(await funnelNumbers(page))}, want ${JSON.stringify(want)}`);
  }
}

// chooseVerb picks a verb in a waypoint's verb list with the arrow keys.
async function chooseVerb(page, selectID, verb) {
  for (let i = 0; i < 20 && (await page.inputValue(`#${selectID}`)) !== verb; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await page.inputValue(`#${selectID}`), verb, `the verb list offers ${verb}`);
}

const shot = (page, name) => page.screenshot({ path: path.join(cfg.screenshots, name), fullPage: true });

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  watch(page);
  await signIn(page);
  assert.match(await page.textContent('#journeys-note'), /No journeys yet/);

  // ---- Create a journey with two waypoints through the builder only.
  await page.click('#new-journey');
  await page.waitForSelector('#editor-view:not([hidden])');
  assert.equal(await focusedID(page), 'editor-title');
  await page.fill('#j-description', 'Launch and complete the course');
  const wps = () => page.$$eval('#editor-waypoints > li', (lis) => lis.map((li) => li.dataset.key));
  let keys = await wps();
  assert.equal(keys.length, 1, 'a new journey starts with one waypoint');
  // The verb list offers the verbs of the stored statements, most used first.
  await page.waitForFunction((k) => document.querySelectorAll(`#wp${k}-verb option`).length > 2, keys[0]);
  const offered = await page.$$eval(`#wp${keys[0]}-verb option`, (os) => os.map((o) => o.value));
  assert.deepEqual(offered, ['', cfg.launched, cfg.completed, cfg.passed, '*other'], 'verbs seen, most used first');
  await page.fill(`#wp${keys[0]}-description`, 'Launch');
  await page.selectOption(`#wp${keys[0]}-verb`, cfg.launched);
  // The tester answers as the operator builds: 3 launched of 6 stored.
  await page.waitForFunction(([k, text]) => document.querySelector(`#wp${k}-test [data-test="summary"]`)?.textContent === text,
    [keys[0], `Matches ${cfg.launchedCount} of the ${cfg.stored} statements stored`]);
  assert.match(await page.textContent(`#wp${keys[0]}-test [data-test="index"]`), /candidate index on statement\.verb\.id/);
  await page.click('#add-waypoint');
  keys = await wps();
  assert.equal(keys.length, 2);
  assert.equal(await focusedID(page), `wp${keys[1]}-description`, 'a new waypoint takes the focus');
  await page.fill(`#wp${keys[1]}-description`, 'Complete');
  await page.selectOption(`#wp${keys[1]}-verb`, cfg.completed);
  // A score range makes the tester say the index still serves it, and a
  // bare range that it does not; then back to the verb alone.
  await page.fill(`#wp${keys[1]}-scoreMin`, '0.5');
  await page.waitForFunction((k) => /Matches 0 of/.test(document.querySelector(`#wp${k}-test [data-test="summary"]`)?.textContent ?? ''), keys[1]);
  await page.fill(`#wp${keys[1]}-scoreMin`, '');
  await page.waitForFunction((k) => /Matches 2 of/.test(document.querySelector(`#wp${k}-test [data-test="summary"]`)?.textContent ?? ''), keys[1]);
  assert.match(await page.textContent('#editor-explain'), /calculates its progress from every stored statement/);
  await checkAudit(page, 'in the editor');
  await shot(page, 'desktop-editor.png');
  await page.click('#editor-save');
  await page.waitForSelector('#editor-status [data-recalc]');
  assert.match(await page.textContent('#editor-status'), /^Created\./);
  const list = await apiCall('GET', '../api/v2/journey');
  assert.equal(list.body.length, 1);
  const created = list.body[0];
  assert.equal(created.description, 'Launch and complete the course');
  assert.deepEqual(created.waypoints.map((w) => [w.description, w.conditions, w.count, w.order, w.isActive]), [
    ['Launch', JSON.stringify({ 'statement.verb.id': cfg.launched }), 1, 1, true],
    ['Complete', JSON.stringify({ 'statement.verb.id': cfg.completed }), 1, 2, true],
  ], 'the builder wrote the conditions strings');
  await page.waitForSelector('#editor-status [data-recalc="done"]', { timeout: 30_000 });
  assert.match(await page.textContent('#editor-status'), new RegExp(`Progress recalculated from ${cfg.stored} statements`));
  await waitFunnel(page, cfg.funnel, 'after the creation');
  step('a journey built with the builder only is created and its progress calculated');

  // ---- Post statements and watch the funnel move.
  await postStatements([statement(5, cfg.launched), statement(5, cfg.completed)]);
  const moved = { owners: cfg.funnel.owners + 1, completed: cfg.funnel.completed + 1, waypoints: cfg.funnel.waypoints.map((n) => n + 1) };
  await waitFunnel(page, moved, 'after a new learner launched and completed');
  const apiFunnel = (await apiCall('GET', `../api/v2/journey/${created._id}/funnel`)).body;
  assert.deepEqual([apiFunnel.owners, apiFunnel.completed, apiFunnel.waypoints.map((w) => w.completed)],
    [moved.owners, moved.completed, moved.waypoints], 'the API agrees');
  step('posted statements move the funnel');

  // ---- Every API validation error shows at its field.
  keys = await wps();
  await page.fill(`#wp${keys[0]}-count`, '0');
  await page.click('#add-outcome');
  const outcome = await page.$eval('#editor-outcomes > li', (li) => li.dataset.key);
  await page.fill(`#oc${outcome}-callback`, 'ftp://example.org/hook');
  expecting400++;
  await page.click('#editor-save');
  await page.waitForSelector('#editor-error .alert-box');
  expecting400--;
  const rejected = await apiCall('PUT', `../api/v2/journey/${created._id}`, {
    ...created, waypoints: created.waypoints.map((w, i) => (i === 0 ? { ...w, count: 0 } : w)),
    outcomes: [{ type: 'callback', callback: 'ftp://example.org/hook', description: '' }],
  });
  assert.equal(rejected.status, 400);
  for (const e of rejected.body.errors) {
    const id = e.field === 'waypoints[0].count' ? `wp${keys[0]}-count` : e.field === 'outcomes[0].callback' ? `oc${outcome}-callback` : null;
    assert.ok(id, `unexpected error field ${e.field}`);
    assert.equal(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true', `${e.field} is marked`);
    assert.equal(await page.textContent(`#${id}-error`), e.message, `${e.field} shows the API's message`);
    assert.match(await page.getAttribute(`#${id}`, 'aria-describedby'), new RegExp(`${id}-error`));
  }
  assert.equal(await focusedID(page), `wp${keys[0]}-count`, 'the first invalid field takes the focus');
  await shot(page, 'desktop-editor-errors.png');
  await page.click(`#editor-outcomes [data-action="remove-outcome"]`);
  step('validation errors show at their fields');

  // ---- Edit a waypoint's count and see the recalculation status.
  await page.fill(`#wp${keys[0]}-count`, '2');
  assert.match(await page.textContent('#editor-explain'), /saving recalculates every learner’s progress/);
  await page.click('#editor-save');
  await page.waitForFunction(() => /^Saved\./.test(document.getElementById('editor-status').textContent));
  const seen = new Set();
  const poll = setInterval(() => page.$eval('#editor-status [data-recalc]', (p) => p.dataset.recalc).then((s) => seen.add(s), () => {}), 50);
  await page.waitForSelector('#editor-status [data-recalc="done"]', { timeout: 30_000 });
  clearInterval(poll);
  assert.ok(seen.has('waiting') || seen.has('running'), `the status showed the recalculation under way (saw ${[...seen]})`);
  const after = (await apiCall('GET', `../api/v2/journey/${created._id}`)).body;
  assert.equal(after.waypoints[0].count, 2);
  assert.equal(after.waypoints[1].conditions, created.waypoints[1].conditions, 'an untouched waypoint keeps its stored string');
  assert.match(await page.textContent('#editor-status'),
    new RegExp(`Progress recalculated from ${after.recalculateStatus.totalCount} statements`));
  // Only learner 1 launched twice; learners 1, 3 and 5 completed.
  await waitFunnel(page, { owners: 4, completed: 1, waypoints: [1, 3] }, 'after the count became 2');
  step('editing a count recalculates, with its status shown live');

  // A change that does not affect progress says so.
  await page.fill('#j-description', 'Launch twice and complete');
  assert.match(await page.textContent('#editor-explain'), /do not affect progress/);

  // ---- A bad raw condition shows the API's message at the field.
  keys = await wps(); // a save renders the stored journey afresh
  await page.click(`#editor-waypoints [data-key="${keys[1]}"] [data-action="mode"]`);
  const raw = `#wp${keys[1]}-raw`;
  assert.deepEqual(JSON.parse(await page.inputValue(raw)), { 'statement.verb.id': cfg.completed }, 'the builder round-trips to JSON');
  const bad = '{"statement.verb.id": "x", "$where": "this.score > 1"}';
  expecting400++;
  await page.fill(raw, bad);
  const apiSays = await apiCall('POST', '../api/v2/journey/conditions/test', { conditions: bad });
  assert.equal(apiSays.status, 400);
  await page.waitForFunction(([k, m]) => document.getElementById(`wp${k}-cond-error`).textContent === m, [keys[1], apiSays.body.errors[0].message]);
  expecting400--;
  assert.match(apiSays.body.errors[0].message, /\$where/, 'the message names the operator');
  assert.equal(await page.getAttribute(raw, 'aria-invalid'), 'true');
  assert.match(await page.getAttribute(raw, 'aria-describedby'), new RegExp(`wp${keys[1]}-cond-error`));
  await shot(page, 'desktop-editor-bad-condition.png');
  // Conditions the builder cannot show stay raw; JSON it can show goes back.
  await page.fill(raw, `{"statement.verb.id": {"$in": ["${cfg.completed}", "${cfg.passed}"]}}`);
  await page.waitForFunction((k) => /Matches \d+ of/.test(document.querySelector(`#wp${k}-test [data-test="summary"]`)?.textContent ?? ''), keys[1]);
  await page.click(`#editor-waypoints [data-key="${keys[1]}"] [data-action="mode"]`);
  assert.match(await page.textContent(`#wp${keys[1]}-cond-error`), /builder cannot show these conditions/);
  await page.fill(raw, `{"statement.verb.id": "${cfg.completed}"}`);
  await page.click(`#editor-waypoints [data-key="${keys[1]}"] [data-action="mode"]`);
  assert.equal(await page.inputValue(`#wp${keys[1]}-verb`), cfg.completed, 'JSON the builder can show returns to it');
  step('a bad raw condition shows the API\'s message at the field; the modes round-trip');

  // ---- Reorder, deactivate, then delete with confirmation.
  await page.click(`#editor-waypoints [data-key="${keys[1]}"] [data-action="up"]`);
  assert.deepEqual(await wps(), [keys[1], keys[0]], 'Move up reorders');
  assert.equal(await focusedID(page), `wp${keys[1]}-description`, 'the moved waypoint keeps the focus');
  assert.match(await page.textContent('#editor-explain'), /saving recalculates/);
  await page.click('#editor-save');
  await page.waitForFunction(() => /^Saved\./.test(document.getElementById('editor-status').textContent));
  await page.waitForSelector('#editor-status [data-recalc="done"]', { timeout: 30_000 });
  const reordered = (await apiCall('GET', `../api/v2/journey/${created._id}`)).body;
  assert.deepEqual(reordered.waypoints.map((w) => [w.description, w.order]), [['Complete', 1], ['Launch', 2]]);
  await waitFunnel(page, { owners: 4, completed: 1, waypoints: [3, 1] }, 'after the reordering');

  await page.uncheck('#j-active');
  assert.match(await page.textContent('#editor-explain'), /deactivates the journey: it stops counting statements\. Its progress is kept/);
  await page.click('#editor-save');
  await page.waitForFunction(() => /^Saved\. The journey is inactive/.test(document.getElementById('editor-status').textContent));
  assert.equal((await apiCall('GET', `../api/v2/journey/${created._id}`)).body.isActive, false);
  await page.waitForFunction(() => /Inactive/.test(document.getElementById('journeys').textContent));
  step('reordering recalculates; deactivating keeps the progress');

  await page.click('#editor-delete');
  await page.waitForSelector('#confirm-delete[open]');
  assert.match(await page.textContent('#confirm-delete-text'), /The progress of 4 learners is deleted with it\. This cannot be undone\./);
  assert.equal(await focusedID(page), 'confirm-delete-cancel', 'the safe choice has the focus');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm-delete:not([open])', { state: 'hidden' });
  assert.equal(await focusedID(page), 'editor-delete', 'the focus returns to Delete');
  assert.equal((await apiCall('GET', `../api/v2/journey/${created._id}`)).status, 200, 'Escape keeps the journey');
  await page.click('#editor-delete');
  await page.click('#confirm-delete-ok');
  await page.waitForSelector('#editor-view', { state: 'hidden' });
  assert.equal((await apiCall('GET', `../api/v2/journey/${created._id}`)).status, 404, 'the journey is deleted');
  await page.waitForFunction(() => document.querySelectorAll('#journeys > li').length === 0);
  step('deleting asks first, says what is lost, then deletes');

  // ---- Keyboard-only creation.
  await page.focus('#journeys-title');
  await tabTo(page, (el) => el.id === 'new-journey', null, 'New journey');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'editor-title');
  await page.keyboard.press('Tab');
  assert.equal(await focusedID(page), 'j-description');
  await page.keyboard.type('Pass the course');
  await page.keyboard.press('Tab'); // isActive
  await page.keyboard.press('Tab'); // isSequential
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#j-sequential'), true);
  keys = await wps();
  await tabTo(page, (el, k) => el.id === `wp${k}-description`, keys[0], 'the waypoint');
  await page.keyboard.type('Launch');
  await tabTo(page, (el, k) => el.id === `wp${k}-verb`, keys[0], 'the verb list');
  await page.waitForFunction((k) => document.querySelectorAll(`#wp${k}-verb option`).length > 2, keys[0]);
  await chooseVerb(page, `wp${keys[0]}-verb`, cfg.launched);
  await tabTo(page, (el) => el.id === 'add-waypoint', null, 'Add a waypoint');
  await page.keyboard.press('Enter');
  keys = await wps();
  assert.equal(await focusedID(page), `wp${keys[1]}-description`);
  await page.keyboard.type('Pass');
  await tabTo(page, (el, k) => el.id === `wp${k}-verb`, keys[1], 'the second verb list');
  await chooseVerb(page, `wp${keys[1]}-verb`, cfg.passed);
  await tabTo(page, (el, k) => el.id === `wp${k}-success`, keys[1], 'the result choice');
  await chooseVerb(page, `wp${keys[1]}-success`, 'true');
  await tabTo(page, (el) => el.id === 'editor-save', null, 'Create journey');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'editor-status');
  const typed = (await apiCall('GET', '../api/v2/journey')).body;
  assert.equal(typed.length, 1);
  assert.equal(typed[0].isSequential, true);
  assert.deepEqual(typed[0].waypoints.map((w) => [w.description, w.conditions]), [
    ['Launch', JSON.stringify({ 'statement.verb.id': cfg.launched })],
    ['Pass', JSON.stringify({ 'statement.verb.id': cfg.passed, 'statement.result.success': true })],
  ]);
  await page.waitForSelector('#editor-status [data-recalc="done"]', { timeout: 30_000 });
  step('a journey is created with the keyboard alone');

  // ---- Editing what does not affect progress keeps the stored orders and
  // conditions (written by another client, in its own style).
  const other = await apiCall('POST', '../api/v2/journey', {
    description: 'Written elsewhere',
    waypoints: [
      { description: 'Second', conditions: `{ "statement.verb.id" : "${cfg.completed}" }`, order: 20 },
      { description: 'First', conditions: { 'statement.verb.id': cfg.launched }, order: 10 },
    ],
  });
  assert.equal(other.status, 201);
  let first;
  for (let i = 0; i < 100; i++) {
    first = (await apiCall('GET', `../api/v2/journey/${other.body._id}`)).body.recalculateStatus;
    if (first.finishedAt && !first.inProgress) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(first.finishedAt, 'the new journey is calculated');
  await page.click('#refresh');
  await page.click(`[data-edit="${other.body._id}"]`);
  await page.waitForFunction(() => document.getElementById('editor-title').textContent === 'Edit: Written elsewhere');
  keys = await wps();
  assert.equal(await page.inputValue(`#wp${keys[0]}-description`), 'First', 'waypoints are shown in their order');
  assert.equal(await page.inputValue(`#wp${keys[1]}-verb`), cfg.completed, 'a stored string the builder can show is built');
  await page.fill('#j-description', 'Written elsewhere, renamed here');
  assert.match(await page.textContent('#editor-explain'), /do not affect progress/);
  await page.click('#editor-save');
  await page.waitForFunction(() => /^Saved\. Progress is unchanged\./.test(document.getElementById('editor-status').textContent));
  const renamed = (await apiCall('GET', `../api/v2/journey/${other.body._id}`)).body;
  assert.equal(renamed.description, 'Written elsewhere, renamed here');
  assert.deepEqual(renamed.waypoints.map((w) => [w.order, w.conditions]), other.body.waypoints.map((w) => [w.order, w.conditions]),
    'orders and conditions strings are kept byte for byte');
  // The daemon agrees: the journey's version did not change, so nothing
  // recalculates (a recalculation would start within milliseconds).
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual((await apiCall('GET', `../api/v2/journey/${other.body._id}`)).body.recalculateStatus, first,
    'no recalculation after a description edit');
  step('an edit that does not affect progress keeps orders and conditions as stored');

  // ---- The dark scheme keeps contrast in the editor.
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkAudit(page, 'in the editor, dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // ---- 375 px wide: the editor does not overflow.
  const phone = await browser.newContext({
    viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'en-US', timezoneId: 'UTC',
  });
  const small = await phone.newPage();
  watch(small);
  await signIn(small);
  await small.click(`[data-edit="${typed[0]._id}"]`);
  await small.waitForSelector('#editor-view:not([hidden])');
  const k0 = await small.$eval('#editor-waypoints > li', (li) => li.dataset.key);
  await small.waitForSelector(`#wp${k0}-test [data-test="summary"]`);
  await small.click(`#wp${k0}-test details summary`);
  await small.click('#add-outcome');
  assert.deepEqual(await small.evaluate(overflow), [], 'horizontal overflow at 375 px in the editor');
  await shot(small, 'mobile-editor.png');
  await small.click(`#editor-waypoints [data-key="${k0}"] [data-action="mode"]`);
  assert.deepEqual(await small.evaluate(overflow), [], 'horizontal overflow at 375 px in the raw editor');
  step('375 px wide: no horizontal overflow in the editor');

  assert.deepEqual(problems, [], 'console errors, uncaught exceptions or failed requests');
  const journeyID = created._id;
  assert.deepEqual(httpErrors, [`400 PUT /api/v2/journey/${journeyID}`, '400 POST /api/v2/journey/conditions/test'],
    'the only failed API calls are the deliberate ones');
  step('no console errors');
} finally {
  await browser.close();
}

async function checkAudit(page, what) {
  assert.deepEqual(await page.evaluate(audit), [], `accessibility problems ${what}`);
}
