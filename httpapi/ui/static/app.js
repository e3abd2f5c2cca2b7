// The journeys visualisation: journeys with their status, a journey's
// funnel and a learner lookup, read through the daemon's HTTP API, and the
// journey editor (editor.js) that writes through it.
//
// Everything shown comes from API responses and is inserted as text (never
// as HTML), so a journey description or learner name cannot inject markup.
// The credentials exist only as the `auth` header value below: nothing is
// written to storage, cookies or the URL.
import { createEditor } from './editor.js';

(() => {
  const $ = (id) => document.getElementById(id);

  // API paths are relative to the page (/ui/), so the page keeps working
  // behind a reverse proxy that serves the daemon under a path prefix.
  const API = '../api/';
  // Journeys are re-read this often while one of them is recalculating, so
  // its progress moves without a manual refresh.
  const POLL_MS = 2000;
  // The API's largest page; an organisation with more journeys is told so.
  const PAGE = 1000;

  const numberFormat = new Intl.NumberFormat();
  const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

  // Session state. session counts sign-ins and sign-outs: a response that
  // arrives after the session it belongs to has ended is dropped.
  let auth = null;
  let session = 0;
  let journeys = [];
  let selected = null;
  let pollTimer = 0;
  // What the journey list and the funnel show, as JSON: polling re-renders
  // only what changed, so focus, hover and opened details survive it.
  let listShown = '';
  let funnelShown = '';

  // ApiError is a failed API request: status is the HTTP status (0 when
  // the daemon could not be reached), errors the invalid fields.
  class ApiError extends Error {
    constructor(status, message, errors) {
      super(message);
      this.status = status;
      this.errors = errors || [];
    }
  }

  // Superseded marks a response of a session that has ended.
  class Superseded extends Error {}

  // nodes flattens children into nodes and strings, leaving out null and
  // false so that optional parts can be written inline.
  function nodes(children) {
    return children.flat().filter((c) => c != null && c !== false).map((c) => (c instanceof Node ? c : String(c)));
  }

  // h builds an element: attributes from props (null and false are left
  // out, true sets an empty attribute), children as for nodes.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      el.setAttribute(name, value === true ? '' : String(value));
    }
    el.append(...nodes(children));
    return el;
  }

  // fill replaces the content of the element with id.
  function fill(id, ...children) {
    $(id).replaceChildren(...nodes(children));
  }

  // basic returns the HTTP Basic header value, encoding as UTF-8 (btoa
  // alone rejects characters outside Latin-1).
  function basic(key, secret) {
    let bin = '';
    for (const b of new TextEncoder().encode(`${key}:${secret}`)) bin += String.fromCharCode(b);
    return `Basic ${btoa(bin)}`;
  }

  // api requests an API path (relative to /api/) with params and returns
  // the decoded JSON body (null for 204). init.method defaults to GET;
  // init.body is sent as JSON.
  async function api(path, params, init) {
    const url = new URL(API + path, document.baseURI);
    for (const [k, v] of Object.entries(params || {})) {
      if (v !== '' && v != null) url.searchParams.set(k, v);
    }
    const mine = session;
    let res;
    try {
      // credentials 'omit': the header is the only credential, and a 401
      // then never opens the browser's own sign-in dialog.
      const headers = { Authorization: auth, Accept: 'application/json' };
      if (init && init.body !== undefined) headers['Content-Type'] = 'application/json';
      res = await fetch(url, {
        method: (init && init.method) || 'GET',
        headers,
        body: init && init.body !== undefined ? JSON.stringify(init.body) : undefined,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, `The daemon cannot be reached (${err.message}).`);
    }
    const body = res.status === 204 ? null : await res.json().catch(() => null);
    if (mine !== session) throw new Superseded();
    if (!res.ok) {
      throw new ApiError(res.status, (body && body.message) || `HTTP ${res.status}`, body && body.errors);
    }
    return body;
  }

  // ---- messages -----------------------------------------------------------

  function announce(text) {
    $('status').textContent = text;
  }

  // showError fills the alert region; its content is inserted fresh so that
  // assistive technology announces every error.
  function showError(message, errors) {
    const box = h('div', { class: 'alert-box' }, h('p', null, message));
    if (errors && errors.length) {
      box.append(h('ul', null, errors.map((e) => h('li', null, `${e.field}: ${e.message}`))));
    }
    fill('error', box);
  }

  function clearError() {
    fill('error');
  }

  // fail reports a failed action. Refused credentials end the session.
  function fail(err) {
    if (err instanceof Superseded) return;
    if (err instanceof ApiError) {
      if (err.status === 401) {
        signOut('The daemon no longer accepts these credentials. Sign in again.');
        return;
      }
      showError(err.message, err.errors);
      return;
    }
    showError(`Unexpected error: ${err.message}`);
  }

  // ---- formatting ---------------------------------------------------------

  const num = (n) => numberFormat.format(n);

  function plural(n, one, many) {
    return `${num(n)} ${n === 1 ? one : many}`;
  }

  function time(iso) {
    const d = new Date(iso);
    return h('time', { datetime: iso, title: iso }, Number.isNaN(d.getTime()) ? iso : timeFormat.format(d));
  }

  function journeyName(j) {
    return j.description || `Journey ${j._id}`;
  }

  function waypointName(j, id, index) {
    const w = j && j.waypoints.find((x) => x._id === id);
    return (w && w.description) || `Waypoint ${index + 1}`;
  }

  // ownerLabel describes a progress owner's ident for people.
  function ownerLabel(ident) {
    if (ident.mbox) return ident.mbox.replace(/^mailto:/, '');
    if (ident.account) return `${ident.account.name} on ${ident.account.homePage}`;
    if (ident.persona) return ident.display ? `${ident.display} (persona ${ident.persona})` : `persona ${ident.persona}`;
    return ident.mbox_sha1sum || ident.openid || JSON.stringify(ident);
  }

  // status classifies a journey for its badge.
  function status(j) {
    const r = j.recalculateStatus || {};
    if (r.inProgress) return { kind: 'recalculating', label: 'Recalculating' };
    if (r.error) return { kind: 'failed', label: 'Recalculation failed' };
    return j.isActive ? { kind: 'active', label: 'Active' } : { kind: 'inactive', label: 'Inactive' };
  }

  function badge(s) {
    return h('span', { class: `badge ${s.kind}` }, s.label);
  }

  // recalculation shows a running recalculation's progress, or its failure.
  function recalculation(j) {
    const r = j.recalculateStatus || {};
    if (!r.inProgress) {
      return r.error ? h('p', { class: 'recalc failed' }, `Last recalculation failed: ${r.error}`) : null;
    }
    if (!r.totalCount) return h('p', { class: 'recalc' }, 'Recalculating: counting the statements to read…');
    const done = Math.max(0, r.totalCount - r.remainingCount);
    const pct = Math.floor((100 * done) / r.totalCount);
    return h('div', { class: 'recalc' },
      h('progress', { max: r.totalCount, value: done, 'aria-hidden': 'true' }),
      h('p', null, `Recalculating: ${num(done)} of ${plural(r.totalCount, 'statement', 'statements')} (${pct}%)`));
  }

  // ---- sign-in ------------------------------------------------------------

  async function signIn(ev) {
    ev.preventDefault();
    clearError();
    const key = $('key').value;
    const secret = $('secret').value;
    if (!key || !secret) {
      showError('Enter both the key and the secret.');
      $(key ? 'secret' : 'key').focus();
      return;
    }
    if (key.includes(':')) {
      showError('A key cannot contain a colon: HTTP Basic would split the credentials there.');
      $('key').focus();
      return;
    }
    const button = ev.submitter || $('signin').querySelector('button');
    button.disabled = true;
    auth = basic(key, secret);
    session++;
    try {
      await loadJourneys();
    } catch (err) {
      auth = null;
      if (err instanceof ApiError && err.status === 401) showError('The key or the secret is wrong.');
      else if (err instanceof ApiError && err.status === 403) showError('This client may not read journeys: it needs the all, all/read or a journey view scope.');
      else fail(err);
      $('secret').focus();
      return;
    } finally {
      button.disabled = false;
    }
    $('secret').value = '';
    $('who').textContent = key;
    $('signin-view').hidden = true;
    $('session').hidden = false;
    $('app').hidden = false;
    announce(`Signed in. ${plural(journeys.length, 'journey', 'journeys')}.`);
    $('journeys-title').focus();
  }

  function signOut(message) {
    auth = null;
    session++;
    clearTimeout(pollTimer);
    editor.close();
    journeys = [];
    selected = null;
    listShown = '';
    funnelShown = '';
    for (const id of ['journeys', 'funnel', 'learner']) fill(id);
    fill('lookup-journey', h('option', { value: '' }, 'All journeys'));
    $('funnel-title').textContent = 'Funnel';
    $('funnel-hint').hidden = false;
    $('app').hidden = true;
    $('session').hidden = true;
    $('signin-view').hidden = false;
    if (message) showError(message);
    else clearError();
    announce('Signed out.');
    $('key').focus();
  }

  // ---- journeys -----------------------------------------------------------

  async function loadJourneys() {
    const list = await api('v2/journey', { limit: PAGE });
    if (!auth) return; // signed out meanwhile
    list.sort((a, b) => journeyName(a).localeCompare(journeyName(b)) || a._id.localeCompare(b._id));
    journeys = list;
    const shown = JSON.stringify(list);
    if (shown !== listShown) {
      listShown = shown;
      renderJourneys(list.length === PAGE);
      renderJourneyOptions();
    }
    schedulePoll();
  }

  function renderJourneys(truncated) {
    const focused = document.activeElement && document.activeElement.dataset.journey;
    const note = $('journeys-note');
    note.hidden = !truncated && journeys.length > 0;
    note.textContent = journeys.length === 0
      ? 'No journeys yet. Create one with “New journey”.'
      : `Showing the first ${num(PAGE)} journeys.`;
    fill('journeys', ...journeys.map((j) => {
      const metaID = `meta-${j._id}`;
      const facts = [
        j.isSequential ? 'in order' : 'any order',
        j.isRepeatable ? 'repeatable' : 'once',
        `by ${j.trackBy}`,
        plural(j.waypoints.filter((w) => w.isActive).length, 'waypoint', 'waypoints'),
      ];
      return h('li', { class: 'journey' },
        h('button', {
          type: 'button', class: 'journey-button', 'data-journey': j._id,
          'aria-current': j._id === selected ? 'true' : null, 'aria-describedby': metaID,
        }, journeyName(j)),
        h('div', { id: metaID, class: 'journey-meta' },
          badge(status(j)), h('span', { class: 'muted' }, facts.join(' · '))),
        recalculation(j),
        h('button', { type: 'button', class: 'secondary small-button edit', 'data-edit': j._id, 'aria-label': `Edit “${journeyName(j)}”` }, 'Edit'));
    }));
    if (focused) {
      const again = $('journeys').querySelector(`[data-journey="${focused}"]`);
      if (again) again.focus();
    }
  }

  // renderJourneyOptions lists the journeys in the lookup's journey choice,
  // keeping the current choice when it still exists.
  function renderJourneyOptions() {
    const sel = $('lookup-journey');
    const current = sel.value;
    fill('lookup-journey', h('option', { value: '' }, 'All journeys'),
      ...journeys.map((j) => h('option', { value: j._id }, journeyName(j))));
    sel.value = journeys.some((j) => j._id === current) ? current : '';
  }

  // schedulePoll re-reads the journeys and the funnel shown while any
  // journey is recalculating or a funnel is shown, so that both move as
  // statements arrive.
  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!selected && !journeys.some((j) => j.recalculateStatus && j.recalculateStatus.inProgress)) return;
    pollTimer = setTimeout(() => refresh(false).catch(fail), POLL_MS);
  }

  // refresh re-reads the journeys and the funnel shown. A poll that fails
  // reports it and stops; the Refresh button starts over.
  async function refresh(manual) {
    if (manual) clearError();
    await loadJourneys();
    if (selected) await loadFunnel(false);
    if (manual) announce('Refreshed.');
  }

  // ---- funnel -------------------------------------------------------------

  async function selectJourney(id) {
    selected = id;
    schedulePoll();
    for (const b of $('journeys').querySelectorAll('[data-journey]')) {
      if (b.dataset.journey === id) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
    clearError();
    await loadFunnel(true);
  }

  async function loadFunnel(focus) {
    const id = selected;
    const j = journeys.find((x) => x._id === id);
    if (!j) {
      selected = null;
      funnelShown = '';
      $('funnel-title').textContent = 'Funnel';
      $('funnel-hint').hidden = false;
      fill('funnel', h('p', null, 'The journey shown before no longer exists.'));
      return;
    }
    let f = null;
    let invalid = null;
    try {
      f = await api(`v2/journey/${encodeURIComponent(id)}/funnel`);
    } catch (err) {
      // 409: the stored journey does not compile, so it has no progress.
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
      invalid = err.message;
    }
    if (selected !== id) return; // another journey was chosen meanwhile
    const shown = JSON.stringify([j, f, invalid]);
    if (shown !== funnelShown) {
      funnelShown = shown;
      $('funnel-title').textContent = `Funnel: ${journeyName(j)}`;
      $('funnel-hint').hidden = true;
      if (f) renderFunnel(j, f);
      else fill('funnel', h('p', null, invalid));
    }
    if (focus) $('funnel-title').focus();
  }

  function metric(name, label, value) {
    return h('div', { class: 'metric' }, h('dt', null, label), h('dd', { 'data-metric': name }, num(value)));
  }

  function renderFunnel(j, f) {
    const inactive = j.waypoints.filter((w) => !w.isActive).length;
    // Conditions a reader opened stay open when a poll re-renders.
    const opened = new Set([...$('funnel').querySelectorAll('.step details[open]')]
      .map((d) => d.closest('.step').dataset.waypoint));
    const steps = f.waypoints.map((w, i) => {
      const def = j.waypoints.find((x) => x._id === w.waypoint);
      const pct = f.owners ? Math.round((100 * w.completed) / f.owners) : 0;
      const done = h('div', { class: 'fill' });
      done.style.width = `${pct}%`; // CSSOM, which the page's CSP allows
      return h('li', { class: 'step', 'data-waypoint': w.waypoint },
        h('div', { class: 'step-head' },
          h('span', { class: 'step-name' }, waypointName(j, w.waypoint, i)),
          h('span', { class: 'step-count' },
            h('span', { 'data-metric': 'waypoint' }, num(w.completed)),
            ` ${w.completed === 1 ? 'learner' : 'learners'} · ${f.owners ? `${pct}%` : '–'}`)),
        h('div', { class: 'bar', 'aria-hidden': 'true' }, done),
        def && h('p', { class: 'muted small' },
          `Completes after ${plural(def.count, 'matching statement', 'matching statements')}.`),
        def && conditions(def.conditions, opened.has(w.waypoint)));
    });
    fill('funnel',
      h('div', { class: 'journey-meta' }, badge(status(j)),
        h('span', { class: 'muted' }, 'Last changed ', time(j.updatedAt))),
      recalculation(j),
      j.recalculateStatus && j.recalculateStatus.inProgress
        ? h('p', { class: 'muted' }, 'The numbers grow while the recalculation runs.') : null,
      h('dl', { class: 'metrics' },
        metric('owners', 'Learners with progress', f.owners),
        metric('inProgress', 'In progress', f.inProgress),
        metric('completed', 'Completed (latest attempt)', f.completed),
        metric('completedAttempts', 'Completed attempts', f.completedAttempts)),
      h('h3', null, 'Waypoints'),
      h('p', { class: 'muted' }, j.isSequential
        ? 'Learners whose latest attempt has completed each waypoint, in order.'
        : 'Learners whose latest attempt has completed each waypoint, in any order.'),
      steps.length ? h('ol', { class: 'funnel' }, steps) : h('p', null, 'This journey has no active waypoints.'),
      inactive ? h('p', { class: 'muted' }, `${plural(inactive, 'inactive waypoint is', 'inactive waypoints are')} not shown.`) : null);
  }

  // conditions shows a waypoint's query, pretty-printed when it parses,
  // collapsed unless open.
  function conditions(text, open) {
    let pretty = text;
    try {
      pretty = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Extended JSON the browser cannot parse is shown as stored.
    }
    return h('details', { class: 'conditions', open }, h('summary', null, 'Conditions'), h('pre', null, h('code', null, pretty)));
  }

  // ---- learner lookup -----------------------------------------------------

  const kindInputs = {
    mbox: ['mbox'],
    account: ['homepage', 'account-name'],
    mbox_sha1sum: ['sha1'],
    openid: ['openid'],
    persona: ['persona'],
  };

  function showKindFields() {
    const kind = $('kind').value;
    for (const el of document.querySelectorAll('[data-kind]')) el.hidden = el.dataset.kind !== kind;
  }

  // identParams returns the owner parameters of the lookup form and a
  // description of the learner, or null after reporting a missing field.
  function identParams() {
    const kind = $('kind').value;
    for (const id of Object.values(kindInputs).flat()) $(id).removeAttribute('aria-invalid');
    for (const id of kindInputs[kind]) {
      if (!$(id).value.trim()) {
        showError(`Fill in “${document.querySelector(`label[for="${id}"]`).textContent}”.`);
        $(id).setAttribute('aria-invalid', 'true');
        $(id).focus();
        return null;
      }
    }
    const v = (id) => $(id).value.trim();
    switch (kind) {
      case 'mbox': {
        const mbox = /^mailto:/i.test(v('mbox')) ? v('mbox') : `mailto:${v('mbox')}`;
        return { params: { mbox }, who: mbox.slice('mailto:'.length) };
      }
      case 'account':
        return {
          params: { 'account.homePage': v('homepage'), 'account.name': v('account-name') },
          who: `${v('account-name')} on ${v('homepage')}`,
        };
      case 'mbox_sha1sum':
        return { params: { mbox_sha1sum: v('sha1') }, who: v('sha1') };
      case 'openid':
        return { params: { openid: v('openid') }, who: v('openid') };
      default:
        return { params: { persona: v('persona') }, who: `persona ${v('persona')}` };
    }
  }

  async function lookup(ev) {
    ev.preventDefault();
    clearError();
    const ident = identParams();
    if (!ident) return;
    const docs = await api('v2/journeyprogress', { ...ident.params, journey: $('lookup-journey').value, limit: PAGE });
    renderLearner(docs, ident.who);
    announce(docs.length
      ? `Found progress in ${plural(docs.length, 'journey', 'journeys')}.`
      : 'No progress found.');
    $('learner-title-results').focus();
  }

  function renderLearner(docs, who) {
    const heading = h('h3', { id: 'learner-title-results', tabindex: '-1' },
      docs.length ? `Progress of ${who}` : `No progress found for ${who}`);
    if (!docs.length) {
      fill('learner', heading, h('p', { class: 'muted' },
        'Nothing has counted for this learner yet, or their journeys track another identifier ',
        '(journeys tracked by persona are looked up by persona id).'));
      return;
    }
    fill('learner', heading, ...docs.map(progressDoc));
  }

  function progressDoc(doc) {
    const j = journeys.find((x) => x._id === doc.journey);
    const done = doc.completions.filter((a) => a.isCompleted).length;
    const current = doc.completions.length - done;
    return h('article', { class: 'progress', 'data-journey': doc.journey },
      h('h4', null, j ? journeyName(j) : `Journey ${doc.journey}`),
      h('p', { class: 'muted' }, ownerLabel(doc.owner.ident), ' · first counted ', time(doc.createdAt),
        ' · last counted ', time(doc.updatedAt)),
      h('p', null, plural(done, 'completed attempt', 'completed attempts'),
        current ? ', one in progress.' : '.'),
      h('ol', { class: 'attempts' }, doc.completions.map((a, i) =>
        h('li', { 'data-attempt': a.attempt }, attempt(j, a, i === doc.completions.length - 1)))));
  }

  function attempt(j, a, open) {
    const ws = Object.values(a.waypoints);
    const complete = ws.filter((w) => w.isCompleted).length;
    return h('details', { class: 'attempt', open },
      h('summary', null, `Attempt ${a.attempt} `,
        badge(a.isCompleted ? { kind: 'active', label: 'Completed' } : { kind: 'recalculating', label: 'In progress' }),
        a.isCompleted ? [' ', time(a.completedAt)] : ` ${num(complete)} of ${plural(ws.length, 'waypoint', 'waypoints')}`),
      h('ul', { class: 'waypoints' }, ws.map((w, i) => waypoint(j, w, i))));
  }

  function waypoint(j, w, i) {
    const def = j && j.waypoints.find((x) => x._id === w.waypoint);
    const state = w.isCompleted
      ? ['Completed ', time(w.completedAt)]
      : (def ? `${num(w.statements.length)} of ${plural(def.count, 'statement', 'statements')}` : 'Not completed');
    return h('li', { class: 'waypoint' },
      h('div', { class: 'step-head' }, h('span', { class: 'step-name' }, waypointName(j, w.waypoint, i)),
        h('span', { class: w.isCompleted ? 'done' : 'muted' }, state)),
      w.statements.length
        ? h('ul', { class: 'statements', 'aria-label': 'Statements that counted' }, w.statements.map((s) =>
          h('li', { 'data-statement': s.statement }, time(s.timestamp), ' ', h('code', null, s.statement))))
        : null);
  }

  // ---- editor ---------------------------------------------------------------

  // changed reloads the journeys after the editor saved or deleted one, and
  // shows the funnel of id (none when null). quiet leaves the focus alone.
  async function changed(id) {
    await loadJourneys();
    if (id) {
      selected = id;
      for (const b of $('journeys').querySelectorAll('[data-journey]')) {
        if (b.dataset.journey === id) b.setAttribute('aria-current', 'true');
        else b.removeAttribute('aria-current');
      }
      await loadFunnel(false);
    } else if (selected && !journeys.some((j) => j._id === selected)) {
      await loadFunnel(false);
    }
    schedulePoll();
  }

  const editor = createEditor({
    api,
    h,
    fill,
    num,
    plural,
    time,
    fail,
    announce,
    journeyName,
    changed,
    journeys: () => journeys,
    isApiError: (err, status) => err instanceof ApiError && (status === undefined || err.status === status),
  });

  // ---- wiring -------------------------------------------------------------

  function init() {
    $('signin').addEventListener('submit', (ev) => signIn(ev).catch(fail));
    $('signout').addEventListener('click', () => signOut());
    $('refresh').addEventListener('click', () => refresh(true).catch(fail));
    $('journeys').addEventListener('click', (ev) => {
      const edit = ev.target.closest('[data-edit]');
      if (edit) {
        const j = journeys.find((x) => x._id === edit.dataset.edit);
        if (j) {
          clearError();
          editor.open(j);
        }
        return;
      }
      const b = ev.target.closest('[data-journey]');
      if (b) selectJourney(b.dataset.journey).catch(fail);
    });
    $('new-journey').addEventListener('click', () => {
      clearError();
      editor.open(null);
    });
    $('kind').addEventListener('change', showKindFields);
    $('lookup').addEventListener('submit', (ev) => lookup(ev).catch(fail));
    showKindFields();
  }

  init();
})();
