// The journey editor: create, change, deactivate and delete journeys, with
// a condition builder per waypoint and a live test of its conditions
// against the organisation's recent statements.
//
// The form's controls hold the values; `draft` holds the structure (which
// waypoints and outcomes, in which order, each waypoint's condition mode).
// A structural change reads the controls into the draft first (collect),
// then renders the lists again. What is sent is exactly what the API
// stores: an untouched waypoint keeps its stored conditions string byte for
// byte, so saving unchanged waypoints never recalculates.
import { emptyBuilder, fromQuery, parseRaw, pretty, sameQuery, toQuery } from './condition.js';

// How many recent statements the tester reads, and how long typing pauses
// before it runs.
const TEST_LIMIT = 5000;
const TEST_DEBOUNCE_MS = 400;
// How often a saved journey's recalculation status is re-read.
const STATUS_POLL_MS = 1000;

// createEditor wires the editor into the page. app provides:
// api(path, params, init) → JSON, h(tag, props, ...children), fill(id, ...),
// num(n), plural(n, one, many), time(iso), fail(err), announce(text),
// isApiError(err, status?), journeyName(j), journeys() → the list shown,
// changed(id) after a save or delete (the page reloads its list and
// selects id, or nothing).
export function createEditor(app) {
  const { api, h, fill, num, plural } = app;
  const $ = (id) => document.getElementById(id);

  let draft = null; // { id, original, waypoints: [...], outcomes: [...] }
  let nextKey = 1;
  let verbs = []; // [{id, display, count}] seen in recent statements
  let testerAvailable = true;
  let statusTimer = 0;
  let watching = null; // { id, savedAt, recalc } of the last save

  // ---- opening and closing ------------------------------------------------

  // open shows the editor for journey j, or for a new journey when j is
  // null.
  function open(j) {
    stopWatching();
    draft = {
      id: j ? j._id : null,
      original: j,
      // Shown in evaluation order: by order, ties by array position.
      waypoints: j
        ? j.waypoints.map((w, index) => ({ w, index })).sort((a, b) => a.w.order - b.w.order || a.index - b.index)
          .map(({ w, index }) => waypointDraft(w, index))
        : [waypointDraft(null)],
      outcomes: j ? j.outcomes.map(outcomeDraft) : [],
    };
    const f = $('editor');
    f.reset();
    $('j-description').value = j ? j.description : '';
    $('j-active').checked = j ? j.isActive : true;
    $('j-sequential').checked = j ? j.isSequential : false;
    $('j-repeatable').checked = j ? j.isRepeatable : false;
    $('j-trackby').value = j ? j.trackBy : 'actor';
    $('j-public').checked = j ? j.isPublic : false;
    $('j-sources').value = j ? (j.sources || []).join(', ') : '';
    $('editor-title').textContent = j ? `Edit: ${app.journeyName(j)}` : 'New journey';
    $('editor-delete').hidden = !j;
    $('editor-save').textContent = j ? 'Save changes' : 'Create journey';
    clearErrors();
    fill('editor-status');
    render();
    $('editor-view').hidden = false;
    $('editor-title').focus();
    loadVerbs();
    for (const w of draft.waypoints) scheduleTest(w, 0);
  }

  function close() {
    stopWatching();
    draft = null;
    $('editor-view').hidden = true;
    fill('editor-waypoints');
    fill('editor-outcomes');
    fill('editor-status');
    clearErrors();
  }

  function isOpen() {
    return draft !== null;
  }

  // waypointDraft returns the draft of stored waypoint w, at index in the
  // stored array, or of a new waypoint when w is null.
  function waypointDraft(w, index) {
    const d = {
      key: nextKey++,
      _id: w ? w._id : null,
      description: w ? w.description : '',
      isActive: w ? w.isActive : true,
      count: w ? w.count : 1,
      order: w ? w.order : null, // as stored; null for a new waypoint
      index: w ? index : null, // position in the stored array
      original: w ? w.conditions : null,
      mode: 'builder',
      builder: emptyBuilder(),
      raw: '',
      testSeq: 0,
      testTimer: 0,
      tested: null, // the last tester answer
      condError: null, // the message shown at the conditions
    };
    if (w) {
      const parsed = parseRaw(w.conditions);
      const b = parsed.query ? fromQuery(parsed.query) : null;
      if (b) d.builder = b;
      else {
        d.mode = 'raw';
        d.raw = parsed.query ? pretty(parsed.query) : w.conditions;
        // Pretty-printing must not change what is stored: keep the stored
        // text when reformatting would alter it (Extended JSON numbers).
        if (!parsed.query || JSON.stringify(parsed.query) !== JSON.stringify(JSON.parse(d.raw))) d.raw = w.conditions;
      }
    }
    return d;
  }

  function outcomeDraft(o) {
    return { key: nextKey++, _id: o ? o._id : null, description: o ? o.description : '', isActive: o ? o.isActive : true, callback: o ? o.callback : '' };
  }

  // ---- rendering ------------------------------------------------------------

  function render() {
    const n = draft.waypoints.length;
    fill('editor-waypoints', ...draft.waypoints.map((w, i) => renderWaypoint(w, i, n)));
    for (const w of draft.waypoints) {
      if (w.condError) conditionError(w, w.condError.message, w.condError.controlID);
    }
    fill('editor-outcomes', ...draft.outcomes.map(renderOutcome));
    $('outcomes-empty').hidden = draft.outcomes.length > 0;
    renderVerbOptions();
    explain();
  }

  // field renders a labelled control; path is its API field path, which
  // the API's validation errors name.
  function field(id, label, control, path, help) {
    control.id = id;
    if (path) control.dataset.field = path;
    const helpID = help ? `${id}-help` : null;
    if (help) control.setAttribute('aria-describedby', helpID);
    return h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('p', { id: helpID, class: 'help' }, help) : null);
  }

  function check(id, label, checked, path) {
    const input = h('input', { type: 'checkbox', id, checked, 'data-field': path });
    return h('div', { class: 'check' }, input, h('label', { for: id }, label));
  }

  function renderWaypoint(w, i, n) {
    const p = `wp${w.key}`;
    const path = `waypoints[${i}]`;
    const name = w.description || `Waypoint ${i + 1}`;
    const b = w.builder;
    const str = (key, label, help) => field(`${p}-${key}`, label,
      h('input', { value: b[key], autocapitalize: 'none', spellcheck: 'false', 'data-clause': key, inputmode: 'url' }), null, help);
    const verbSelect = h('select', { 'data-clause': 'verb', 'data-verbs': 'true' });
    const success = h('select', { 'data-clause': 'success' },
      h('option', { value: '' }, 'Any result'),
      h('option', { value: 'true', selected: b.success === 'true' }, 'Succeeded'),
      h('option', { value: 'false', selected: b.success === 'false' }, 'Did not succeed'));
    const builder = h('div', { class: 'builder', id: `${p}-builder`, hidden: w.mode !== 'builder' },
      field(`${p}-verb`, 'Verb', verbSelect, null, 'Verbs seen in recent statements, most used first.'),
      h('div', { class: 'field', hidden: true, 'data-other-verb': 'true' },
        h('label', { for: `${p}-verb-other` }, 'Verb IRI'),
        h('input', { id: `${p}-verb-other`, 'data-clause': 'verbOther', value: '', autocapitalize: 'none', spellcheck: 'false', inputmode: 'url' })),
      h('div', { class: 'grid2' },
        str('activity', 'Activity id'),
        str('activityType', 'Activity type')),
      h('div', { class: 'grid3' },
        field(`${p}-success`, 'Result', success),
        field(`${p}-scoreMin`, 'Scaled score from', h('input', { value: b.scoreMin, inputmode: 'decimal', 'data-clause': 'scoreMin' })),
        field(`${p}-scoreMax`, 'Scaled score up to', h('input', { value: b.scoreMax, inputmode: 'decimal', 'data-clause': 'scoreMax' }))),
      h('div', { class: 'grid2' },
        str('parent', 'Context parent activity id'),
        str('grouping', 'Context grouping activity id')));
    const raw = h('div', { class: 'field', id: `${p}-rawbox`, hidden: w.mode !== 'raw' },
      h('label', { for: `${p}-raw` }, 'Conditions (MongoDB query, Extended JSON)'),
      h('textarea', { id: `${p}-raw`, rows: 6, spellcheck: 'false', autocapitalize: 'none', 'aria-describedby': `${p}-cond-error ${p}-test` }, w.raw));
    const modeButton = h('button', { type: 'button', class: 'secondary small-button', 'data-action': 'mode', 'aria-controls': `${p}-builder ${p}-rawbox` },
      w.mode === 'builder' ? 'Edit as JSON' : 'Use the builder');
    return h('li', { class: 'wp', 'data-key': w.key },
      h('fieldset', null,
        h('legend', null, `Waypoint ${i + 1}`),
        field(`${p}-description`, 'Description', h('input', { value: w.description }), `${path}.description`),
        h('div', { class: 'grid2' },
          field(`${p}-count`, 'Matching statements needed', h('input', { type: 'number', min: 1, step: 1, value: w.count, inputmode: 'numeric' }), `${path}.count`),
          h('div', { class: 'field' }, h('span', { class: 'label' }, 'Takes part'), check(`${p}-active`, 'Active', w.isActive, `${path}.isActive`))),
        h('fieldset', { class: 'conditions-edit', 'data-field': `${path}.conditions`, 'aria-describedby': `${p}-cond-error` },
          h('legend', null, 'Conditions'),
          h('div', { class: 'mode' }, h('span', { class: 'muted small', id: `${p}-mode` },
            w.mode === 'builder' ? 'Built from common clauses.' : 'Written as JSON.'), modeButton),
          builder, raw,
          h('p', { class: 'field-error', id: `${p}-cond-error`, hidden: true }),
          h('div', { class: 'tester', id: `${p}-test`, 'aria-live': 'polite' }, w.tested ? testResult(w.tested, w.samplesOpen) : null)),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'secondary small-button', 'data-action': 'up', disabled: i === 0, 'aria-label': `Move “${name}” up` }, 'Move up'),
          h('button', { type: 'button', class: 'secondary small-button', 'data-action': 'down', disabled: i === n - 1, 'aria-label': `Move “${name}” down` }, 'Move down'),
          h('button', { type: 'button', class: 'secondary small-button danger', 'data-action': 'remove', 'aria-label': `Remove “${name}”` }, 'Remove'))));
  }

  function renderOutcome(o, i) {
    const p = `oc${o.key}`;
    const path = `outcomes[${i}]`;
    return h('li', { class: 'wp', 'data-key': o.key },
      h('fieldset', null,
        h('legend', null, `Callback ${i + 1}`),
        field(`${p}-description`, 'Description', h('input', { value: o.description }), `${path}.description`),
        field(`${p}-callback`, 'Callback URL', h('input', { type: 'url', value: o.callback, inputmode: 'url', autocapitalize: 'none', spellcheck: 'false' }), `${path}.callback`,
          'Receives a POST (Standard Webhooks) when a learner completes the journey.'),
        check(`${p}-active`, 'Active', o.isActive, `${path}.isActive`),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'secondary small-button danger', 'data-action': 'remove-outcome', 'aria-label': `Remove callback ${i + 1}` }, 'Remove'))));
  }

  // renderVerbOptions fills each waypoint's verb choice: any verb, the verbs
  // seen, the waypoint's own verb if it is not among them, and another verb.
  function renderVerbOptions() {
    if (!draft) return;
    for (const w of draft.waypoints) {
      const sel = $(`wp${w.key}-verb`);
      if (!sel) continue;
      const current = w.builder.verb;
      const seen = verbs.some((v) => v.id === current);
      const options = [h('option', { value: '' }, 'Any verb')];
      for (const v of verbs) {
        options.push(h('option', { value: v.id }, `${v.display || v.id} (${plural(v.count, 'statement', 'statements')}) — ${v.id}`));
      }
      if (current && !seen) options.push(h('option', { value: current }, current));
      options.push(h('option', { value: '*other' }, 'Another verb…'));
      sel.replaceChildren(...options);
      sel.value = current;
    }
  }

  // loadVerbs reads the verbs of recent statements through the tester.
  async function loadVerbs() {
    try {
      const res = await api('v2/journey/conditions/test', null, { method: 'POST', body: { conditions: '{}', limit: 1000, samples: 0 } });
      verbs = res.verbs;
      testerAvailable = true;
    } catch (err) {
      if (app.isApiError(err, 404)) {
        testerAvailable = false;
        return;
      }
      app.fail(err);
      return;
    }
    // Keep what is being typed: collect first, then re-render only the choices.
    if (draft) {
      collect();
      renderVerbOptions();
    }
  }

  // ---- reading the form -----------------------------------------------------

  // collect reads the controls into the draft.
  function collect() {
    for (const w of draft.waypoints) {
      const p = `wp${w.key}`;
      if (!$(`${p}-description`)) continue;
      w.description = $(`${p}-description`).value;
      w.count = $(`${p}-count`).value;
      w.isActive = $(`${p}-active`).checked;
      w.raw = $(`${p}-raw`).value;
      w.samplesOpen = Boolean(document.querySelector(`#${p}-test details[open]`));
      const b = w.builder;
      for (const key of ['activity', 'activityType', 'success', 'scoreMin', 'scoreMax', 'parent', 'grouping']) b[key] = $(`${p}-${key}`).value;
      const verb = $(`${p}-verb`).value;
      b.verb = verb === '*other' ? $(`${p}-verb-other`).value.trim() : verb;
    }
    for (const o of draft.outcomes) {
      const p = `oc${o.key}`;
      if (!$(`${p}-description`)) continue;
      o.description = $(`${p}-description`).value;
      o.callback = $(`${p}-callback`).value.trim();
      o.isActive = $(`${p}-active`).checked;
    }
  }

  // conditionsOf returns a waypoint's conditions string to send, or
  // { error, key } when the builder's values are wrong.
  function conditionsOf(w) {
    if (w.mode === 'raw') return { text: w.raw };
    const r = toQuery(w.builder);
    if (r.error) return r;
    if (w.original != null && sameQuery(w.original, r.query)) return { text: w.original };
    return { text: JSON.stringify(r.query) };
  }

  // body returns the journey document to send.
  function body() {
    const sources = $('j-sources').value.split(/[\s,]+/).filter(Boolean);
    const { sequence, order } = arrange(draft.waypoints);
    return {
      description: $('j-description').value,
      isActive: $('j-active').checked,
      isSequential: $('j-sequential').checked,
      isRepeatable: $('j-repeatable').checked,
      trackBy: $('j-trackby').value,
      isPublic: $('j-public').checked,
      sources,
      waypoints: sequence.map((w) => {
        const c = conditionsOf(w);
        const count = Number(w.count);
        return {
          ...(w._id ? { _id: w._id } : {}),
          description: w.description,
          isActive: w.isActive,
          // A builder mistake is reported before sending; the API reports
          // everything else, including a count that is not a whole number.
          conditions: c.text ?? '',
          count: String(w.count).trim() === '' || Number.isNaN(count) ? w.count : count,
          order: order.get(w),
        };
      }),
      outcomes: draft.outcomes.map((o) => ({
        ...(o._id ? { _id: o._id } : {}),
        description: o.description,
        isActive: o.isActive,
        type: 'callback',
        callback: o.callback,
      })),
    };
  }

  // arrange returns the waypoints ws (in the order shown) as they are sent:
  // the array sequence and each one's order value. While the stored
  // waypoints are shown in their stored evaluation order and the new ones
  // after them, the stored waypoints keep their array positions and order
  // values and the new ones follow with higher orders, so that an edit
  // elsewhere leaves the journey's version — and its progress — alone.
  // Otherwise the array is the order shown, numbered 1, 2, 3…
  function arrange(ws) {
    const stored = ws.filter((w) => w.index != null);
    const evaluation = [...stored].sort((a, b) => a.order - b.order || a.index - b.index);
    const kept = stored.every((w, i) => ws[i] === w && evaluation[i] === w);
    const order = new Map();
    if (!kept) {
      ws.forEach((w, i) => order.set(w, i + 1));
      return { sequence: ws, order };
    }
    let top = Math.max(0, ...stored.map((w) => w.order));
    for (const w of ws) order.set(w, w.index != null ? w.order : Math.floor(top += 1));
    const sequence = [...stored].sort((a, b) => a.index - b.index).concat(ws.filter((w) => w.index == null));
    return { sequence, order };
  }

  // version is what of a journey body affects progress (docs/design.md §7), as text.
  // Like the daemon's digest it covers only active waypoints, in array
  // order, with their conditions compared as parsed JSON.
  function version(j) {
    const canon = (text) => {
      try {
        return JSON.stringify(JSON.parse(text));
      } catch {
        return text;
      }
    };
    return JSON.stringify([j.isActive, j.isSequential, j.isRepeatable, j.trackBy, [...new Set(j.sources || [])].sort(),
      j.waypoints.filter((w) => w.isActive).map((w) => [w._id || null, canon(w.conditions), Number(w.count), Number(w.order)])]);
  }

  // explain says what saving will do to progress.
  function explain() {
    if (!draft) return;
    collect();
    let text;
    if (!draft.original) {
      text = 'Creating the journey calculates its progress from every stored statement, then follows new ones.';
    } else {
      const b = body();
      // The daemon keeps an inactive journey's progress unless its
      // waypoints change, which would show it against other waypoints.
      const shape = (j) => version({ ...j, isActive: true });
      const dropped = shape(b) !== shape(draft.original);
      if (!b.isActive) {
        const kept = dropped
          ? 'Its waypoints change too, so its progress is deleted'
          : 'Its progress is kept';
        text = draft.original.isActive
          ? `Saving deactivates the journey: it stops counting statements. ${kept}; reactivating it recalculates progress from every stored statement.`
          : `The journey stays inactive: it counts no statements.${dropped ? ' Its waypoints change, so its progress is deleted; reactivating it recalculates.' : ''}`;
      } else if (!draft.original.isActive) {
        text = 'Saving reactivates the journey: its progress is recalculated from every stored statement.';
      } else if (version(b) !== version(draft.original)) {
        text = 'These changes affect progress: saving recalculates every learner’s progress from all stored statements. Callbacks already sent are not sent again.';
      } else {
        text = 'These changes do not affect progress: saving keeps it as it is.';
      }
    }
    $('editor-explain').textContent = text;
  }

  // ---- the condition tester -----------------------------------------------

  function scheduleTest(w, delay = TEST_DEBOUNCE_MS) {
    clearTimeout(w.testTimer);
    w.testTimer = setTimeout(() => runTest(w).catch(app.fail), delay);
  }

  async function runTest(w) {
    if (!draft || !draft.waypoints.includes(w)) return;
    collect();
    const p = `wp${w.key}`;
    const out = $(`${p}-test`);
    const c = conditionsOf(w);
    if (c.error) {
      conditionError(w, c.error, `${p}-${c.key}`);
      w.tested = null;
      out.replaceChildren();
      return;
    }
    if (w.mode === 'raw') {
      const parsed = parseRaw(w.raw);
      if (parsed.error) {
        conditionError(w, parsed.error, `${p}-raw`);
        w.tested = null;
        out.replaceChildren();
        return;
      }
    }
    if (!testerAvailable) {
      conditionError(w, null);
      out.replaceChildren(h('p', { class: 'muted small' }, 'This daemon cannot test conditions against its statements.'));
      return;
    }
    const seq = ++w.testSeq;
    out.setAttribute('aria-busy', 'true');
    let res;
    try {
      res = await api('v2/journey/conditions/test', null, { method: 'POST', body: { conditions: c.text, limit: TEST_LIMIT, samples: 3 } });
    } catch (err) {
      if (seq !== w.testSeq) return;
      out.removeAttribute('aria-busy');
      if (app.isApiError(err, 400)) {
        const e = err.errors.find((x) => x.field === 'conditions');
        conditionError(w, e ? e.message : err.message, w.mode === 'raw' ? `${p}-raw` : null);
        w.tested = null;
        out.replaceChildren();
        return;
      }
      if (app.isApiError(err, 404)) {
        testerAvailable = false;
        return runTest(w);
      }
      throw err;
    }
    if (seq !== w.testSeq || !draft || !draft.waypoints.includes(w)) return;
    out.removeAttribute('aria-busy');
    conditionError(w, null);
    w.tested = res;
    renderTest(out, res);
  }

  function renderTest(out, res) {
    out.replaceChildren(...testResult(res, out.querySelector('details[open]')));
  }

  // testResult renders a tester answer.
  function testResult(res, open) {
    const of = res.scanned < res.limit ? `of the ${plural(res.scanned, 'statement', 'statements')} stored` : `of the last ${plural(res.scanned, 'statement', 'statements')}`;
    const summary = h('p', { class: 'test-summary' }, h('strong', { 'data-test': 'summary' }, `Matches ${num(res.matched)} ${of}`),
      res.voided ? ` (${num(res.voided)} voided left out)` : '', '.');
    const index = h('p', { class: 'muted small', 'data-test': 'index' }, res.indexed
      ? `Served by the candidate index on ${res.indexPath}: only statements with a matching value there are evaluated.`
      : 'Not served by the candidate index: these conditions are evaluated for every statement. Add a verb or an activity to narrow them.');
    const samples = res.samples.length
      ? h('details', { class: 'samples', open: Boolean(open) }, h('summary', null, `Newest ${res.samples.length === 1 ? 'match' : 'matches'}`),
        h('ul', null, res.samples.map((s) => h('li', { 'data-sample': s._id },
          h('span', null, s.actor || 'Unknown learner'), ' ',
          h('strong', null, s.verb.display || s.verb.id), ' ',
          h('span', null, s.object.display || s.object.id), ' · ',
          s.stored ? app.time(s.stored) : ''))))
      : null;
    return [summary, index, ...(samples ? [samples] : [])];
  }

  // conditionError shows message at a waypoint's conditions (null clears
  // it) and marks the control id invalid.
  function conditionError(w, message, controlID) {
    w.condError = message ? { message, controlID } : null;
    const p = `wp${w.key}`;
    const el = $(`${p}-cond-error`);
    if (!el) return;
    for (const c of el.closest('fieldset').querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    el.hidden = !message;
    el.textContent = message || '';
    if (message) {
      const control = (controlID && $(controlID)) || $(w.mode === 'raw' ? `${p}-raw` : `${p}-verb`);
      control.setAttribute('aria-invalid', 'true');
      if (!control.getAttribute('aria-describedby')?.includes(`${p}-cond-error`)) {
        control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') || ''} ${p}-cond-error`.trim());
      }
    }
  }

  // ---- errors at their fields ---------------------------------------------

  function clearErrors() {
    fill('editor-error');
    for (const el of document.querySelectorAll('#editor .field-error[data-for]')) el.remove();
    for (const el of document.querySelectorAll('#editor [aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of document.querySelectorAll('#editor .field-error')) {
      el.hidden = true;
      el.textContent = '';
    }
  }

  // showFieldErrors puts each API error next to its field and lists them
  // all above the form; the first invalid control takes the focus.
  function showFieldErrors(message, errors) {
    clearErrors();
    let first = null;
    const unplaced = [];
    for (const e of errors) {
      const target = fieldElement(e.field);
      if (!target) {
        unplaced.push(e);
        continue;
      }
      if (target.matches('fieldset.conditions-edit')) {
        const w = draft.waypoints.find((x) => String(x.key) === target.closest('[data-key]').dataset.key);
        conditionError(w, e.message, null);
        first = first || $(w.mode === 'raw' ? `wp${w.key}-raw` : `wp${w.key}-verb`);
        continue;
      }
      const id = `${target.id}-error`;
      const p = h('p', { class: 'field-error', id, 'data-for': target.id }, e.message);
      // Inside the field's box, under the control and its help.
      const box = target.closest('.field');
      if (box) box.append(p);
      else (target.closest('.check') || target).after(p);
      target.setAttribute('aria-invalid', 'true');
      target.setAttribute('aria-describedby', `${target.getAttribute('aria-describedby') || ''} ${id}`.trim());
      first = first || target;
    }
    const box = h('div', { class: 'alert-box' }, h('p', null, message));
    if (errors.length) {
      box.append(h('ul', null, errors.map((e) => h('li', null, `${fieldLabel(e.field)}: ${e.message}`))));
    }
    fill('editor-error', box);
    // The first invalid control in reading order takes the focus.
    first = document.querySelector('#editor [aria-invalid="true"]') || first;
    (first || $('editor-title')).focus();
    return unplaced;
  }

  // fieldElement finds the control of an API field path, or the closest
  // enclosing one: waypoints[1].conditions, outcomes[0].callback, trackBy…
  function fieldElement(path) {
    for (let p = path; p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
      const el = document.querySelector(`#editor [data-field="${CSS.escape(p)}"]`);
      if (el) return el;
      if (!/(\.[^.[\]]+|\[\d+\])$/.test(p)) break;
    }
    return null;
  }

  // fieldLabel describes a field path for people: waypoints[1].count is
  // "Waypoint 2, matching statements needed".
  function fieldLabel(path) {
    const el = fieldElement(path);
    const label = el && el.id ? document.querySelector(`#editor label[for="${CSS.escape(el.id)}"]`) : null;
    const m = /^(waypoints|outcomes)\[(\d+)\]/.exec(path);
    const owner = m ? `${m[1] === 'waypoints' ? 'Waypoint' : 'Callback'} ${Number(m[2]) + 1}` : '';
    const what = label ? label.textContent : (el && el.matches('fieldset') ? el.querySelector('legend').textContent : path);
    return owner ? `${owner}, ${what.charAt(0).toLowerCase()}${what.slice(1)}` : what;
  }

  // ---- saving and deleting ------------------------------------------------

  async function save(ev) {
    ev.preventDefault();
    collect();
    clearErrors();
    // The last save's status no longer describes what is on screen.
    stopWatching();
    fill('editor-status');
    // The builder's own mistakes stop the save; the API judges the rest.
    for (const w of draft.waypoints) {
      const c = conditionsOf(w);
      if (c.error) {
        const i = draft.waypoints.indexOf(w);
        showFieldErrors('The journey was not saved: fix the marked field.', [{ field: `waypoints[${i}].conditions`, message: c.error }]);
        return;
      }
    }
    const sent = body();
    // The API names waypoints by their index in the array sent, which
    // need not be the order shown.
    const shown = arrange(draft.waypoints).sequence.map((w) => draft.waypoints.indexOf(w));
    const before = draft.original;
    const button = $('editor-save');
    button.disabled = true;
    let saved;
    try {
      saved = draft.id
        ? await api(`v2/journey/${encodeURIComponent(draft.id)}`, null, { method: 'PUT', body: sent })
        : await api('v2/journey', null, { method: 'POST', body: sent });
    } catch (err) {
      if (app.isApiError(err, 400)) {
        const errors = err.errors.map((e) => ({
          ...e, field: e.field.replace(/^waypoints\[(\d+)\]/, (m, i) => (shown[i] == null ? m : `waypoints[${shown[i]}]`)),
        }));
        showFieldErrors(`The journey was not saved: ${errors.length ? 'fix the marked fields' : err.message}.`, errors);
        return;
      }
      throw err;
    } finally {
      button.disabled = false;
    }
    const recalc = saved.isActive && (!before || !before.isActive || version(saved) !== version(before));
    open(saved);
    watching = { id: saved._id, savedAt: saved.updatedAt, recalc, created: !before };
    renderStatus(saved);
    app.announce(before ? 'Journey saved.' : 'Journey created.');
    await app.changed(saved._id);
    $('editor-status').focus();
    if (recalc) pollStatus();
  }

  // renderStatus says what became of the last save: the recalculation's
  // progress while it runs, its result when done.
  function renderStatus(j) {
    if (!watching || watching.id !== j._id) return;
    const done = watching.created ? 'Created.' : 'Saved.';
    const r = j.recalculateStatus || {};
    const started = r.startedAt && r.startedAt >= watching.savedAt;
    let line;
    let state = 'none';
    if (!watching.recalc) {
      line = j.isActive ? 'Progress is unchanged.' : 'The journey is inactive: it counts no statements.';
    } else if (started && r.error) {
      line = `The recalculation failed: ${r.error}`;
      state = 'failed';
    } else if (started && !r.inProgress) {
      line = [`Progress recalculated from ${plural(r.totalCount, 'statement', 'statements')}, finished `, app.time(r.finishedAt), '.'];
      state = 'done';
    } else if (started && r.totalCount) {
      const read = Math.max(0, r.totalCount - r.remainingCount);
      line = [h('progress', { max: r.totalCount, value: read, 'aria-hidden': 'true' }),
        `Recalculating progress: ${num(read)} of ${plural(r.totalCount, 'statement', 'statements')} (${Math.floor((100 * read) / r.totalCount)}%).`];
      state = 'running';
    } else {
      line = 'Recalculating progress: the daemon is starting the recalculation…';
      state = 'waiting';
    }
    fill('editor-status', h('p', { 'data-recalc': state }, h('strong', null, done), ' ', line));
  }

  function pollStatus() {
    clearTimeout(statusTimer);
    statusTimer = setTimeout(async () => {
      if (!watching) return;
      const id = watching.id;
      let j;
      try {
        j = await api(`v2/journey/${encodeURIComponent(id)}`);
      } catch (err) {
        if (app.isApiError(err, 404)) return;
        app.fail(err);
        return;
      }
      if (!watching || watching.id !== id) return;
      renderStatus(j);
      const state = $('editor-status').querySelector('[data-recalc]')?.dataset.recalc;
      if (state === 'running' || state === 'waiting') pollStatus();
      else await app.changed(id, true);
    }, STATUS_POLL_MS);
  }

  function stopWatching() {
    clearTimeout(statusTimer);
    watching = null;
  }

  // confirmDelete asks before deleting, saying what is lost.
  async function confirmDelete() {
    const j = draft.original;
    const dialog = $('confirm-delete');
    $('confirm-delete-title').textContent = `Delete “${app.journeyName(j)}”?`;
    let owners = null;
    try {
      owners = (await api(`v2/journey/${encodeURIComponent(j._id)}/funnel`)).owners;
    } catch (err) {
      if (!app.isApiError(err, 409)) throw err; // 409: it has no progress to count
    }
    $('confirm-delete-text').textContent = [
      owners == null ? 'Its progress is deleted with it.'
        : owners ? `The progress of ${plural(owners, 'learner', 'learners')} is deleted with it.` : 'No learner has progress in it.',
      'This cannot be undone.',
      'Callbacks already due are still delivered; no new ones are sent.',
    ].join(' ');
    dialog.returnValue = '';
    dialog.showModal();
    $('confirm-delete-cancel').focus();
  }

  async function deleteConfirmed() {
    const j = draft.original;
    await api(`v2/journey/${encodeURIComponent(j._id)}`, null, { method: 'DELETE' });
    close();
    app.announce(`Deleted the journey “${app.journeyName(j)}”.`);
    await app.changed(null);
    $('journeys-title').focus();
  }

  // ---- structural edits -----------------------------------------------------

  function onClick(ev) {
    const button = ev.target.closest('button[data-action]');
    if (!button || !draft) return;
    const li = button.closest('[data-key]');
    const key = li && Number(li.dataset.key);
    collect();
    const ws = draft.waypoints;
    const i = ws.findIndex((w) => w.key === key);
    switch (button.dataset.action) {
      case 'mode':
        toggleMode(ws[i]);
        return;
      case 'up':
      case 'down': {
        const to = button.dataset.action === 'up' ? i - 1 : i + 1;
        [ws[i], ws[to]] = [ws[to], ws[i]];
        render();
        const again = document.querySelector(`#editor-waypoints [data-key="${key}"] [data-action="${button.dataset.action}"]`);
        (again && !again.disabled ? again : document.querySelector(`#editor-waypoints [data-key="${key}"] input`)).focus();
        app.announce(`Moved to position ${to + 1} of ${ws.length}.`);
        return;
      }
      case 'remove': {
        const [gone] = ws.splice(i, 1);
        clearTimeout(gone.testTimer);
        render();
        const next = ws[Math.min(i, ws.length - 1)];
        (next ? $(`wp${next.key}-description`) : $('add-waypoint')).focus();
        app.announce(`Removed ${gone.description ? `“${gone.description}”` : 'the waypoint'}.`);
        return;
      }
      case 'remove-outcome': {
        const oi = draft.outcomes.findIndex((o) => o.key === key);
        draft.outcomes.splice(oi, 1);
        render();
        const next = draft.outcomes[Math.min(oi, draft.outcomes.length - 1)];
        (next ? $(`oc${next.key}-description`) : $('add-outcome')).focus();
        app.announce('Removed the callback.');
        return;
      }
    }
  }

  function toggleMode(w) {
    const p = `wp${w.key}`;
    if (w.mode === 'builder') {
      const r = toQuery(w.builder);
      if (r.error) {
        conditionError(w, r.error, `${p}-${r.key}`);
        return;
      }
      const text = w.original != null && sameQuery(w.original, r.query) ? w.original : null;
      w.raw = text && !text.includes('\n') ? pretty(JSON.parse(text)) : pretty(r.query);
      w.mode = 'raw';
    } else {
      const parsed = parseRaw(w.raw);
      const b = parsed.query ? fromQuery(parsed.query) : null;
      if (!b) {
        conditionError(w, parsed.error || 'The builder cannot show these conditions exactly (they use other paths or operators); keep editing them as JSON.', `${p}-raw`);
        return;
      }
      w.builder = b;
      w.mode = 'builder';
    }
    render();
    document.querySelector(`#editor-waypoints [data-key="${w.key}"] [data-action="mode"]`).focus();
    app.announce(w.mode === 'raw' ? 'Editing the conditions as JSON.' : 'Editing the conditions with the builder.');
    scheduleTest(w, 0);
  }

  function addWaypoint() {
    collect();
    const w = waypointDraft(null, null);
    draft.waypoints.push(w);
    render();
    $(`wp${w.key}-description`).focus();
    app.announce(`Added waypoint ${draft.waypoints.length}.`);
    scheduleTest(w, 0);
  }

  function addOutcome() {
    collect();
    const o = outcomeDraft(null);
    draft.outcomes.push(o);
    render();
    $(`oc${o.key}-description`).focus();
    app.announce(`Added callback ${draft.outcomes.length}.`);
  }

  // onInput re-tests the waypoint being edited and re-explains the save.
  function onInput(ev) {
    if (!draft) return;
    const li = ev.target.closest('#editor-waypoints [data-key]');
    if (ev.target.matches('select[data-verbs]')) {
      const other = ev.target.closest('.builder').querySelector('[data-other-verb]');
      other.hidden = ev.target.value !== '*other';
      if (!other.hidden && ev.type === 'change') other.querySelector('input').focus();
    }
    if (li) {
      const w = draft.waypoints.find((x) => x.key === Number(li.dataset.key));
      if (w && ev.target.closest('.conditions-edit')) scheduleTest(w);
    }
    explain();
  }

  function init() {
    $('editor').addEventListener('submit', (ev) => save(ev).catch(app.fail));
    $('editor').addEventListener('click', onClick);
    $('editor').addEventListener('input', onInput);
    $('editor').addEventListener('change', onInput);
    $('add-waypoint').addEventListener('click', addWaypoint);
    $('add-outcome').addEventListener('click', addOutcome);
    $('editor-cancel').addEventListener('click', () => {
      const id = draft && draft.id;
      close();
      const back = id && document.querySelector(`[data-edit="${CSS.escape(id)}"]`);
      (back || $('new-journey')).focus();
    });
    $('editor-delete').addEventListener('click', () => confirmDelete().catch(app.fail));
    $('confirm-delete-cancel').addEventListener('click', () => $('confirm-delete').close('cancel'));
    $('confirm-delete').addEventListener('close', () => {
      if ($('confirm-delete').returnValue === 'delete') deleteConfirmed().catch(app.fail);
      else $('editor-delete').focus();
    });
    $('confirm-delete-ok').addEventListener('click', () => $('confirm-delete').close('delete'));
  }

  init();
  return { open, close, isOpen, refreshed: (j) => { if (watching && j && watching.id === j._id) renderStatus(j); } };
}
