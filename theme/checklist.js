/*
 * scalebook runnable checklists (browser side).
 *
 * Why this file exists: a playbook page built by scalebook is a complete, static checklist without
 * JavaScript. This script turns it into a *run*: ticks with time and person, notes, skips with a
 * reason, parameters substituted into text and code, several runs per playbook kept in
 * localStorage, and export of a run as a Markdown timeline or as the run JSON that the terminal
 * runner (src/runfile.rs) reads and writes. The formats are defined once, in docs/run-format.md.
 *
 * Shape: pure functions first (no DOM; exported for node tests), then the page controller.
 * In the browser it is a plain `<script defer>`; under node `require()` returns the pure API.
 * All text reaches the DOM through textContent or attributes, never innerHTML.
 */
(function (root) {
  'use strict';

  var RUN_SCHEMA = 'scalebook-run/1';
  var STORE_SCHEMA = 'scalebook-store/1';
  var KEY_PREFIX = 'scalebook:v1:';
  var STATES = ['done', 'skipped', 'failed', 'open'];
  var PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
  var TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

  // ---------------------------------------------------------------- pure functions

  /** Current time as ISO 8601 UTC with whole seconds: 2024-03-15T10:15:00Z. */
  function isoNow(date) {
    return (date || new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  /** `2024-03-15T10:15:00Z` -> `2024-03-15 10:15:00`; anything else is returned unchanged. */
  function fmtTime(s) {
    s = s || '';
    if (/^[\x00-\x7f]{10}T[\x00-\x7f]{8}./su.test(s)) return s.slice(0, 10) + ' ' + s.slice(11, 19);
    return s;
  }

  function normNewlines(s) {
    return String(s == null ? '' : s).replace(/\r\n/g, '\n').replace(/\r/g, '\n');
  }

  /** Text for a heading or the meta line: line breaks become spaces. */
  function inline(s) {
    return normNewlines(s).replace(/\n/g, ' ');
  }

  /** Text for a table cell: `|` escaped, line breaks become <br>. */
  function cell(s) {
    return normNewlines(s).replace(/\|/g, '\\|').replace(/\n/g, '<br>');
  }

  /** Replace `${NAME}` by params[NAME] when NAME is a declared param with a non-empty value. */
  function substitute(text, params) {
    params = params || {};
    return String(text == null ? '' : text).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, function (m, name) {
      var v = Object.prototype.hasOwnProperty.call(params, name) ? params[name] : '';
      return typeof v === 'string' && v !== '' ? v : m;
    });
  }

  function byTime(a, b) {
    return a.at < b.at ? -1 : a.at > b.at ? 1 : 0;
  }

  /** The postmortem timeline. Must stay byte-identical to `to_markdown` in src/runfile.rs. */
  function toMarkdown(run) {
    var params = run.params || {};
    var out = [];
    out.push(run.name ? '# Run ' + inline(run.name) + ': ' + inline(run.title) : '# Run: ' + inline(run.title));
    out.push('');
    var meta = ['Page ' + inline(run.page), 'Started ' + fmtTime(run.started_at) + ' UTC'];
    meta.push(run.finished_at ? 'Finished ' + fmtTime(run.finished_at) + ' UTC' : 'In progress');
    if (run.operator) meta.push('Operator ' + inline(run.operator));
    var names = Object.keys(params).sort();
    if (names.length) {
      meta.push('Params ' + names.map(function (n) { return n + '=' + inline(params[n]); }).join(', '));
    }
    out.push(meta.join(' · '));
    out.push('');
    out.push('| Time (UTC) | Step | Who | Note | Skipped |');
    out.push('| --- | --- | --- | --- | --- |');
    var rows = [{ at: run.started_at, step: 'Run started', who: run.operator || '', note: '', skipped: '' }];
    (run.steps || []).forEach(function (s) {
      if (s.state === 'open' && !s.note) return;
      var prefix = s.state === 'failed' ? 'failed' : s.state === 'open' ? 'open' : '';
      var note = s.note || '';
      rows.push({
        at: s.at,
        step: substitute(s.text, params),
        who: s.by || '',
        note: prefix && note ? prefix + ': ' + note : prefix || note,
        skipped: s.state === 'skipped' ? (s.skip_reason ? 'yes: ' + s.skip_reason : 'yes') : '',
      });
    });
    if (run.finished_at) {
      rows.push({ at: run.finished_at, step: 'Run finished', who: run.finished_by || run.operator || '', note: '', skipped: '' });
    }
    rows.sort(byTime); // stable: ties keep start first, steps in recorded order, finish last
    rows.forEach(function (r) {
      out.push('| ' + [fmtTime(r.at), cell(r.step), cell(r.who), cell(r.note), cell(r.skipped)].join(' | ') + ' |');
    });
    return out.join('\n') + '\n';
  }

  function isObj(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  /**
   * Check a parsed run JSON and return a clean copy holding only known fields, in the canonical
   * order. Returns {run, errors}; run is null when errors is non-empty.
   */
  function validateRun(o) {
    var errors = [];
    if (!isObj(o)) return { run: null, errors: ['the file is not a JSON object'] };
    var r = {};
    function str(src, key, where, opts) {
      var v = src[key];
      if (v === undefined || v === null || v === '') {
        if (opts.required) errors.push(where + '`' + key + '` is missing');
        return;
      }
      if (typeof v !== 'string') { errors.push(where + '`' + key + '` must be a string'); return; }
      if (opts.time && !TIMESTAMP.test(v)) {
        errors.push(where + '`' + key + '` is not an ISO 8601 UTC time like 2024-03-15T10:15:00Z');
        return;
      }
      return v;
    }
    function put(dst, key, v) { if (v !== undefined) dst[key] = v; }
    if (o.schema !== RUN_SCHEMA) {
      errors.push('`schema` is ' + JSON.stringify(o.schema === undefined ? null : o.schema) +
        ', expected "' + RUN_SCHEMA + '"');
    }
    r.schema = RUN_SCHEMA;
    put(r, 'id', str(o, 'id', '', { required: true }));
    put(r, 'page', str(o, 'page', '', { required: true }));
    var title = o.title;
    if (title !== undefined && title !== null && typeof title !== 'string') errors.push('`title` must be a string');
    r.title = typeof title === 'string' ? title : '';
    put(r, 'name', str(o, 'name', '', {}));
    put(r, 'operator', str(o, 'operator', '', {}));
    put(r, 'started_at', str(o, 'started_at', '', { required: true, time: true }));
    put(r, 'finished_at', str(o, 'finished_at', '', { time: true }));
    put(r, 'finished_by', str(o, 'finished_by', '', {}));
    r.params = {};
    if (o.params !== undefined && o.params !== null) {
      if (!isObj(o.params)) errors.push('`params` must be an object');
      else Object.keys(o.params).forEach(function (k) {
        if (!PARAM_NAME.test(k)) errors.push('param name `' + k + '` is not a valid name');
        else if (typeof o.params[k] !== 'string') errors.push('param `' + k + '` must be a string');
        else r.params[k] = o.params[k];
      });
    }
    r.steps = [];
    var seen = {};
    if (o.steps !== undefined && o.steps !== null && !Array.isArray(o.steps)) errors.push('`steps` must be a list');
    (Array.isArray(o.steps) ? o.steps : []).forEach(function (s, i) {
      var where = 'step ' + (i + 1) + ': ';
      if (!isObj(s)) { errors.push(where + 'must be an object'); return; }
      var step = {};
      put(step, 'id', str(s, 'id', where, { required: true }));
      if (step.id !== undefined) {
        if (seen[step.id]) errors.push(where + 'id `' + step.id + '` appears twice');
        seen[step.id] = true;
      }
      var text = s.text;
      if (text !== undefined && text !== null && typeof text !== 'string') errors.push(where + '`text` must be a string');
      step.text = typeof text === 'string' ? text : '';
      put(step, 'group', str(s, 'group', where, {}));
      if (STATES.indexOf(s.state) < 0) errors.push(where + '`state` must be one of ' + STATES.join(', '));
      else step.state = s.state;
      put(step, 'at', str(s, 'at', where, { required: true, time: true }));
      put(step, 'by', str(s, 'by', where, {}));
      put(step, 'note', str(s, 'note', where, {}));
      put(step, 'skip_reason', str(s, 'skip_reason', where, {}));
      if (s.results !== undefined && s.results !== null) {
        if (!Array.isArray(s.results)) errors.push(where + '`results` must be a list');
        else if (s.results.length) {
          step.results = s.results.map(function (c, j) { return validateResult(c, where + 'result ' + (j + 1) + ': ', errors); });
        }
      }
      r.steps.push(step);
    });
    return errors.length ? { run: null, errors: errors } : { run: r, errors: [] };
  }

  function validateResult(c, where, errors) {
    if (!isObj(c)) { errors.push(where + 'must be an object'); return null; }
    var out = {};
    if (c.kind !== 'run' && c.kind !== 'verify') errors.push(where + '`kind` must be run or verify');
    out.kind = c.kind;
    if (typeof c.command !== 'string') errors.push(where + '`command` must be a string');
    out.command = c.command;
    if (c.exit_code !== undefined && c.exit_code !== null) {
      if (!Number.isInteger(c.exit_code)) errors.push(where + '`exit_code` must be an integer');
      out.exit_code = c.exit_code;
    }
    if (!Number.isInteger(c.duration_ms) || c.duration_ms < 0) errors.push(where + '`duration_ms` must be a whole number');
    out.duration_ms = c.duration_ms;
    out.output = typeof c.output === 'string' ? c.output : '';
    if (c.output_truncated === true) out.output_truncated = true;
    if (typeof c.passed !== 'boolean') errors.push(where + '`passed` must be true or false');
    out.passed = c.passed;
    if (c.at !== undefined && c.at !== null) {
      if (typeof c.at !== 'string' || !TIMESTAMP.test(c.at)) errors.push(where + '`at` is not an ISO 8601 UTC time');
      out.at = c.at;
    }
    return out;
  }

  /** The run as JSON text (2-space indent, trailing newline), the same bytes the Rust side writes. */
  function runToJson(run) {
    var clean = validateRun(run);
    if (!clean.run) throw new Error('invalid run: ' + clean.errors.join('; '));
    return JSON.stringify(clean.run, null, 2) + '\n';
  }

  /** Parse and check run JSON text. Returns {run, errors}. */
  function parseRun(text) {
    var o;
    try { o = JSON.parse(text); } catch (e) { return { run: null, errors: ['not valid JSON: ' + e.message] }; }
    return validateRun(o);
  }

  function newRunId(now) {
    var rnd = '';
    var c = root.crypto;
    if (c && c.getRandomValues) {
      var a = new Uint8Array(3);
      c.getRandomValues(a);
      for (var i = 0; i < a.length; i++) rnd += (a[i] + 256).toString(16).slice(1);
    } else {
      rnd = Math.floor(Math.random() * 0xffffff).toString(16);
    }
    return 'run-' + now.replace(/[-:]/g, '') + '-' + rnd;
  }

  function newRun(o) {
    var now = o.now || isoNow();
    var run = { schema: RUN_SCHEMA, id: newRunId(now), page: o.page, title: o.title || '' };
    if (o.name) run.name = o.name;
    if (o.operator) run.operator = o.operator;
    run.started_at = now;
    run.params = Object.assign({}, o.params || {});
    run.steps = [];
    return run;
  }

  /**
   * Read the per-page store from localStorage text. Never throws. Returns
   * {store, notice}; notice is a sentence for the person when something was ignored.
   */
  function parseStore(raw) {
    var empty = { schema: STORE_SCHEMA, active: null, draft_params: {}, runs: [] };
    if (raw === null || raw === undefined) return { store: empty, notice: '' };
    var o;
    try { o = JSON.parse(raw); } catch (e) {
      return { store: empty, notice: 'The saved runs of this checklist could not be read and were set aside.', bad: true };
    }
    if (!isObj(o) || o.schema !== STORE_SCHEMA || !Array.isArray(o.runs)) {
      return { store: empty, notice: 'The saved runs of this checklist are in an unknown format and were set aside.', bad: true };
    }
    var runs = [];
    var dropped = 0;
    o.runs.forEach(function (r) {
      var v = validateRun(r);
      if (v.run) runs.push(v.run); else dropped++;
    });
    var draft = {};
    if (isObj(o.draft_params)) Object.keys(o.draft_params).forEach(function (k) {
      if (PARAM_NAME.test(k) && typeof o.draft_params[k] === 'string') draft[k] = o.draft_params[k];
    });
    var active = typeof o.active === 'string' && runs.some(function (r) { return r.id === o.active; }) ? o.active : null;
    return {
      store: { schema: STORE_SCHEMA, active: active, draft_params: draft, runs: runs },
      notice: dropped ? dropped + ' saved run(s) of this checklist could not be read and were set aside.' : '',
      bad: dropped > 0,
    };
  }

  /** Steps of the run whose id is not on the page any more, in recorded order. */
  function removedSteps(run, pageSteps) {
    var ids = {};
    pageSteps.forEach(function (s) { ids[s.id] = true; });
    return (run ? run.steps : []).filter(function (s) { return !ids[s.id]; });
  }

  /** {overall: {done, total}, groups: {id: {done, total}}}; done counts done and skipped steps. */
  function progress(run, pageSteps) {
    var rec = {};
    (run ? run.steps : []).forEach(function (s) { rec[s.id] = s; });
    var res = { overall: { done: 0, total: 0 }, groups: {} };
    pageSteps.forEach(function (s) {
      var g = res.groups[s.group] || (res.groups[s.group] = { done: 0, total: 0 });
      var r = rec[s.id];
      var ok = r && (r.state === 'done' || r.state === 'skipped') ? 1 : 0;
      g.total++; g.done += ok;
      res.overall.total++; res.overall.done += ok;
    });
    return res;
  }

  function fmtDuration(ms) {
    var t = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
    return h + ':' + (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s;
  }

  var api = {
    RUN_SCHEMA: RUN_SCHEMA, STORE_SCHEMA: STORE_SCHEMA, KEY_PREFIX: KEY_PREFIX,
    isoNow: isoNow, fmtTime: fmtTime, substitute: substitute, toMarkdown: toMarkdown,
    validateRun: validateRun, parseRun: parseRun, runToJson: runToJson, newRun: newRun,
    parseStore: parseStore, removedSteps: removedSteps, progress: progress, fmtDuration: fmtDuration,
  };

  if (typeof module === 'object' && module && module.exports) { module.exports = api; return; }
  if (root.__sbTest) { root.__sbTest = api; return; }
  if (typeof document === 'undefined') return;

  // ---------------------------------------------------------------- page controller

  /** Create an element; strings become text nodes, attributes are set with setAttribute. */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === false || v === null || v === undefined) return;
      if (k === 'text') el.textContent = v;
      else if (k === 'on') Object.keys(v).forEach(function (ev) { el.addEventListener(ev, v[ev]); });
      else el.setAttribute(k, v === true ? '' : v);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  var storage = (function () {
    try { var s = root.localStorage; s.getItem('x'); return s; } catch (e) { return null; }
  })();

  function storageGet(key) {
    try { return storage ? storage.getItem(key) : null; } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try { if (storage) { storage.setItem(key, value); return true; } } catch (e) { /* quota or disabled */ }
    return false;
  }

  // The one state object of the page.
  var S = {
    data: null,       // page data: {page, title, groups, steps, params}
    key: '',          // localStorage key of this page's store
    store: null,      // {schema, active, draft_params, runs}
    stepEls: {},      // step id -> {li, box, status, form, note, reason}
    ui: {},           // panel elements
    warning: '',      // persistent notice (ignored data, storage unavailable)
    exportKind: '',   // '' | 'md'
  };

  function announce(msg) {
    var live = S.ui.live;
    if (!live) return;
    live.textContent = '';
    // A fresh text node after a tick makes screen readers announce repeated messages too.
    setTimeout(function () { live.textContent = msg; }, 30);
  }

  function activeRun() {
    var id = S.store.active;
    for (var i = 0; i < S.store.runs.length; i++) if (S.store.runs[i].id === id) return S.store.runs[i];
    return null;
  }

  function operator() {
    return (storageGet(KEY_PREFIX + 'operator') || '').trim();
  }

  function save() {
    if (S.setAside) {
      // Keep the unreadable data under a side key before the first write replaces it.
      storageSet(S.key + ':set-aside:' + isoNow(), S.setAside);
      S.setAside = null;
    }
    if (!storageSet(S.key, JSON.stringify(S.store))) {
      S.warning = 'This browser does not let the page save: runs last only until the tab is closed.';
    }
  }

  function currentParams() {
    var run = activeRun();
    var out = {};
    (S.data.params || []).forEach(function (p) {
      var src = run ? run.params : S.store.draft_params;
      if (Object.prototype.hasOwnProperty.call(src, p.name)) out[p.name] = src[p.name];
      else out[p.name] = p.default || '';
    });
    if (run) Object.keys(run.params).forEach(function (k) { if (!(k in out)) out[k] = run.params[k]; });
    return out;
  }

  function applyParams() {
    var params = currentParams();
    document.querySelectorAll('.sb-param').forEach(function (el) {
      var name = el.getAttribute('data-param');
      var v = params[name];
      var set = typeof v === 'string' && v !== '';
      el.textContent = set ? v : '${' + name + '}';
      el.classList.toggle('sb-param-set', set);
    });
  }

  function stepInfo(id) {
    for (var i = 0; i < S.data.steps.length; i++) if (S.data.steps[i].id === id) return S.data.steps[i];
    return null;
  }

  function recordOf(run, id) {
    if (!run) return null;
    for (var i = 0; i < run.steps.length; i++) if (run.steps[i].id === id) return run.steps[i];
    return null;
  }

  /** The run that a change goes to: the active one, or a new one started implicitly. */
  function runForChange() {
    var run = activeRun();
    if (run && !run.finished_at) return run;
    run = newRun({ page: S.data.page, title: S.data.title, operator: operator(), params: currentParams() });
    S.store.runs.push(run);
    S.store.active = run.id;
    announce('Started a run at ' + fmtTime(run.started_at).slice(11, 16) + ' UTC.');
    return run;
  }

  /** Set a step's record; fields with value undefined are removed. A record with nothing left goes. */
  function updateStep(id, change) {
    var run = runForChange();
    var rec = recordOf(run, id);
    var info = stepInfo(id);
    if (!rec) {
      rec = { id: id, text: info ? info.text : id };
      if (info && info.group) rec.group = info.group;
      run.steps.push(rec);
    } else if (info) {
      rec.text = info.text; // the text as it is when the step is touched
    }
    var stateChanged = !rec.at || rec.state !== change.state;
    Object.keys(change).forEach(function (k) {
      if (change[k] === undefined || change[k] === '') delete rec[k]; else rec[k] = change[k];
    });
    if (stateChanged) {
      // `at` and `by` belong to the state; editing a note keeps the time of the tick.
      rec.at = isoNow();
      var who = operator();
      if (who) rec.by = who; else delete rec.by;
    }
    if (rec.state === 'open' && !rec.note) run.steps.splice(run.steps.indexOf(rec), 1);
    // Keep the canonical key order so stored and exported JSON look alike.
    var clean = validateRun(run).run;
    if (clean) run.steps = clean.steps;
    save();
    render();
  }

  function onTick(id, box) {
    var run = activeRun();
    var rec = recordOf(run, id);
    if (box.checked) {
      updateStep(id, { state: 'done', skip_reason: undefined });
      announce('Done: ' + (stepInfo(id) || { text: id }).text.slice(0, 80));
    } else {
      updateStep(id, { state: 'open', skip_reason: undefined, note: rec ? rec.note : undefined });
    }
  }

  // ---- decoration of the static page

  function addCopyButtons() {
    document.querySelectorAll('div.sb-code').forEach(function (div) {
      if (div.querySelector(':scope > .sb-code-bar')) return;
      var kind = div.getAttribute('data-run');
      var bar = h('div', { class: 'sb-code-bar' });
      // The build prints a static kind label for readers without JavaScript; the bar
      // replaces it.
      var staticLabel = div.querySelector(':scope > .sb-code-kind');
      if (staticLabel) staticLabel.remove();
      if (kind === 'run' || kind === 'verify') {
        var label = kind === 'verify' ? 'verify' : 'run';
        var expect = div.getAttribute('data-expect');
        bar.appendChild(h('span', { class: 'sb-code-kind sb-code-' + label, text: expect ? label + ' · expect /' + expect + '/' : label }));
      }
      var btn = h('button', { type: 'button', class: 'sb-copy', 'aria-label': 'Copy code', text: 'Copy' });
      btn.addEventListener('click', function () {
        var code = div.querySelector('code') || div.querySelector('pre') || div;
        copyText(code.textContent).then(function (ok) {
          btn.textContent = ok ? 'Copied' : 'Copy failed';
          announce(ok ? 'Code copied.' : 'Could not copy; select the code and copy it by hand.');
          setTimeout(function () { btn.textContent = 'Copy'; }, 1500);
        });
      });
      bar.appendChild(btn);
      div.insertBefore(bar, div.firstChild);
    });
  }

  function copyText(text) {
    function fallback() {
      var ta = h('textarea', { class: 'sb-offscreen', readonly: true, 'aria-hidden': 'true' });
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      ta.remove();
      return ok;
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return fallback(); });
    }
    return Promise.resolve(fallback());
  }

  function decorateStep(li) {
    var id = li.getAttribute('data-step') || li.id;
    var box = li.querySelector(':scope > .sb-step-box');
    var text = li.querySelector(':scope > .sb-step-text');
    if (!id || !box || !text) return;
    var status = h('span', { class: 'sb-step-status', id: 'st-' + id });
    var link = h('a', { class: 'sb-step-link', href: '#' + id, 'aria-label': 'Link to this step', text: '#' });
    var more = h('button', {
      type: 'button', class: 'sb-step-more', 'aria-expanded': 'false', 'aria-controls': 'f-' + id,
      'aria-label': 'Note / skip: ' + text.textContent.trim().slice(0, 60), text: 'Note / skip',
    });
    var note = h('input', { type: 'text', id: 'n-' + id, maxlength: '1000', autocomplete: 'off' });
    var reason = h('input', { type: 'text', id: 'r-' + id, maxlength: '500', autocomplete: 'off' });
    var skipBtn = h('button', { type: 'button', class: 'sb-skip', text: 'Skip step' });
    var unskipBtn = h('button', { type: 'button', class: 'sb-unskip', text: 'Undo skip' });
    var form = h('form', { class: 'sb-step-form', id: 'f-' + id, hidden: true },
      h('div', { class: 'sb-field' }, h('label', { for: 'n-' + id, text: 'Note' }), note,
        h('button', { type: 'submit', class: 'sb-save-note', text: 'Save note' })),
      h('div', { class: 'sb-field' }, h('label', { for: 'r-' + id, text: 'Skip reason' }), reason, skipBtn, unskipBtn));
    more.addEventListener('click', function () {
      var open = form.hidden;
      form.hidden = !open;
      more.setAttribute('aria-expanded', String(open));
      if (open) { fillStepForm(id); note.focus(); }
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var rec = recordOf(activeRun(), id);
      updateStep(id, { state: rec ? rec.state : 'open', note: note.value.trim() || undefined });
      announce(note.value.trim() ? 'Note saved.' : 'Note removed.');
    });
    skipBtn.addEventListener('click', function () {
      updateStep(id, { state: 'skipped', skip_reason: reason.value.trim() || undefined });
      announce('Step skipped.');
    });
    unskipBtn.addEventListener('click', function () {
      var rec = recordOf(activeRun(), id);
      updateStep(id, { state: 'open', skip_reason: undefined, note: rec ? rec.note : undefined });
      announce('Skip undone.');
    });
    box.addEventListener('change', function () { onTick(id, box); });
    var describedBy = (box.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    describedBy.push(status.id);
    box.setAttribute('aria-describedby', describedBy.join(' '));
    text.after(status, more, link, form);
    S.stepEls[id] = { li: li, box: box, status: status, form: form, more: more, note: note, reason: reason, skip: skipBtn, unskip: unskipBtn };
  }

  function fillStepForm(id) {
    var els = S.stepEls[id];
    var rec = recordOf(activeRun(), id);
    els.note.value = rec && rec.note ? rec.note : '';
    els.reason.value = rec && rec.skip_reason ? rec.skip_reason : '';
  }

  function decorateGroups() {
    S.groupEls = {};
    (S.data.groups || []).forEach(function (g) {
      var heading = document.getElementById(g.id);
      if (!heading) return;
      var p = h('p', { class: 'sb-group-progress', 'data-group': g.id });
      heading.after(p);
      S.groupEls[g.id] = { el: p, title: g.title || heading.textContent.trim() };
    });
  }

  // ---- the run panel

  function buildPanel(host) {
    var ui = S.ui;
    ui.warning = h('div', { class: 'sb-notice', role: 'status' });
    ui.live = h('div', { class: 'sb-live sb-offscreen', role: 'status', 'aria-live': 'polite' });
    host.appendChild(h('h2', { class: 'sb-run-heading', id: 'sb-run-heading', text: 'Run this checklist' }));
    host.setAttribute('aria-labelledby', 'sb-run-heading');
    host.appendChild(ui.warning);
    host.appendChild(ui.live);

    // Parameters
    ui.paramInputs = {};
    if ((S.data.params || []).length) {
      var fs = h('fieldset', { class: 'sb-params' }, h('legend', { text: 'Parameters' }));
      S.data.params.forEach(function (p) {
        var inputId = 'sb-param-' + p.name;
        var hint = [p.description || '', p.default ? 'default: ' + p.default : ''].filter(Boolean).join(' · ');
        var input = h('input', {
          type: 'text', id: inputId, name: p.name, autocomplete: 'off', spellcheck: 'false',
          placeholder: p.default || '', 'aria-describedby': hint ? inputId + '-hint' : null,
        });
        input.addEventListener('input', function () { setParam(p.name, input.value); });
        ui.paramInputs[p.name] = input;
        fs.appendChild(h('div', { class: 'sb-field sb-param-field' },
          h('label', { for: inputId }, h('code', { text: p.name })), input,
          hint ? h('span', { class: 'sb-hint', id: inputId + '-hint', text: hint }) : null));
      });
      host.appendChild(fs);
    }

    // Current run
    ui.status = h('p', { class: 'sb-run-status' });
    ui.elapsed = h('span', { class: 'sb-elapsed' });
    ui.runName = h('input', { type: 'text', id: 'sb-run-name', placeholder: 'INC-4211', autocomplete: 'off', maxlength: '200' });
    ui.operator = h('input', { type: 'text', id: 'sb-operator', autocomplete: 'name', maxlength: '100', 'aria-describedby': 'sb-operator-hint' });
    ui.operator.value = operator();
    ui.operator.addEventListener('change', function () {
      storageSet(KEY_PREFIX + 'operator', ui.operator.value.trim());
      announce('Name saved on this device.');
    });
    ui.startForm = h('form', { class: 'sb-start' },
      h('div', { class: 'sb-field' }, h('label', { for: 'sb-run-name', text: 'Run name (optional)' }), ui.runName),
      h('button', { type: 'submit', class: 'sb-start-run', text: 'Start run' }));
    ui.startForm.addEventListener('submit', function (e) { e.preventDefault(); startRun(); });
    var who = h('div', { class: 'sb-field sb-operator' },
      h('label', { for: 'sb-operator', text: 'Your name' }), ui.operator,
      h('span', { class: 'sb-hint', id: 'sb-operator-hint', text: 'Recorded with each tick; remembered on this device.' }));

    function btn(cls, label, fn) {
      var b = h('button', { type: 'button', class: cls, text: label });
      b.addEventListener('click', fn);
      return b;
    }
    ui.controls = h('div', { class: 'sb-controls', role: 'group', 'aria-label': 'Run actions' },
      ui.finish = btn('sb-finish', 'Finish run', finishRun),
      ui.reopen = btn('sb-reopen', 'Reopen run', reopenRun),
      ui.newRun = btn('sb-new', 'New run', function () { S.store.active = null; save(); render(); ui.runName.focus(); }),
      ui.exportMd = btn('sb-export-md', 'Export Markdown', showMarkdown),
      ui.exportJson = btn('sb-export-json', 'Export JSON', downloadJson),
      ui.reset = btn('sb-reset', 'Clear ticks', resetRun),
      ui.del = btn('sb-delete', 'Delete run', deleteRun));

    ui.progressLabel = h('span', { id: 'sb-progress-label' });
    ui.progress = h('progress', { 'aria-labelledby': 'sb-progress-label', max: '1', value: '0' });
    var prog = h('div', { class: 'sb-progress' }, ui.progressLabel, ui.progress);

    ui.exportText = h('textarea', { id: 'sb-export-text', readonly: true, rows: '10', spellcheck: 'false' });
    ui.exportBox = h('div', { class: 'sb-export', hidden: true },
      h('label', { for: 'sb-export-text', text: 'Markdown timeline, ready to paste into a postmortem' }), ui.exportText,
      h('div', { class: 'sb-controls' },
        btn('sb-copy-export', 'Copy', function () {
          copyText(ui.exportText.value).then(function (ok) { announce(ok ? 'Timeline copied.' : 'Could not copy; select the text and copy it by hand.'); });
        }),
        btn('sb-download-md', 'Download .md', function () {
          var run = activeRun();
          if (run) download(fileBase(run) + '.md', 'text/markdown', toMarkdown(run));
        }),
        btn('sb-close-export', 'Close', function () { ui.exportBox.hidden = true; ui.exportMd.focus(); })));

    ui.removedList = h('ul');
    ui.removed = h('section', { class: 'sb-removed', hidden: true, 'aria-labelledby': 'sb-removed-h' },
      h('h3', { id: 'sb-removed-h', text: 'Removed from the playbook since this run started' }),
      h('p', { class: 'sb-hint', text: 'These steps were recorded in this run but are no longer on the page. They stay in the run and its export.' }),
      ui.removedList);

    ui.runsList = h('ul', { class: 'sb-runs-list' });
    ui.importInput = h('input', { type: 'file', id: 'sb-import', accept: '.json,application/json' });
    ui.importInput.addEventListener('change', importRun);
    ui.runs = h('section', { class: 'sb-runs', 'aria-labelledby': 'sb-runs-h' },
      h('h3', { id: 'sb-runs-h', text: 'Runs of this playbook' }), ui.runsList,
      h('div', { class: 'sb-field sb-import' }, h('label', { for: 'sb-import', text: 'Import a run (JSON file)' }), ui.importInput));

    host.appendChild(h('div', { class: 'sb-run-current' }, ui.status, who, ui.startForm, ui.controls));
    host.appendChild(prog);
    host.appendChild(ui.exportBox);
    host.appendChild(ui.removed);
    host.appendChild(ui.runs);
  }

  function setParam(name, value) {
    var run = activeRun();
    if (run && !run.finished_at) run.params[name] = value;
    else S.store.draft_params[name] = value;
    applyParams();
    save();
  }

  function startRun() {
    var name = S.ui.runName.value.trim();
    var who = S.ui.operator.value.trim();
    if (who !== operator()) storageSet(KEY_PREFIX + 'operator', who);
    var run = newRun({ page: S.data.page, title: S.data.title, name: name, operator: who, params: currentParams() });
    S.store.runs.push(run);
    S.store.active = run.id;
    S.ui.runName.value = '';
    save();
    render();
    announce('Run ' + (name || '') + ' started.');
  }

  function finishRun() {
    var run = activeRun();
    if (!run || run.finished_at) return;
    run.finished_at = isoNow();
    if (operator()) run.finished_by = operator();
    var clean = validateRun(run).run;
    if (clean) Object.assign(run, clean);
    save();
    render();
    announce('Run finished.');
  }

  function reopenRun() {
    var run = activeRun();
    if (!run) return;
    delete run.finished_at;
    delete run.finished_by;
    save();
    render();
    announce('Run reopened.');
  }

  function runLabel(run) {
    return run.name || 'run started ' + fmtTime(run.started_at) + ' UTC';
  }

  function resetRun() {
    var run = activeRun();
    if (!run) return;
    if (!root.confirm('Clear all ' + run.steps.length + ' ticks, notes and skips of ' + runLabel(run) + '?')) return;
    run.steps = [];
    save();
    render();
    announce('Ticks cleared.');
  }

  function deleteRun() {
    var run = activeRun();
    if (!run) return;
    if (!root.confirm('Delete ' + runLabel(run) + ' and its ' + run.steps.length + ' recorded steps? This cannot be undone.')) return;
    S.store.runs = S.store.runs.filter(function (r) { return r !== run; });
    S.store.active = null;
    save();
    render();
    announce('Run deleted.');
  }

  function fileBase(run) {
    var base = (run.name || run.id).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
    return base || 'run';
  }

  function download(filename, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var a = h('a', { href: url, download: filename, class: 'sb-offscreen' });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function showMarkdown() {
    var run = activeRun();
    if (!run) return;
    S.ui.exportText.value = toMarkdown(run);
    S.ui.exportBox.hidden = false;
    S.ui.exportText.focus();
    S.ui.exportText.select();
  }

  function downloadJson() {
    var run = activeRun();
    if (run) download(fileBase(run) + '.json', 'application/json', runToJson(run));
  }

  function importRun() {
    var file = S.ui.importInput.files && S.ui.importInput.files[0];
    if (!file) return;
    file.text().then(function (text) {
      var res = parseRun(text);
      S.ui.importInput.value = '';
      if (!res.run) {
        setWarning('Could not import ' + file.name + ': ' + res.errors.slice(0, 5).join('; ') + '.');
        return;
      }
      var run = res.run;
      if (run.page !== S.data.page) {
        setWarning('Could not import ' + file.name + ': it is a run of `' + run.page + '`, not of this page (`' + S.data.page + '`).');
        return;
      }
      var existing = S.store.runs.filter(function (r) { return r.id === run.id; })[0];
      if (existing) {
        if (!root.confirm('A run with the id ' + run.id + ' is already here. Replace it with the imported one?')) return;
        S.store.runs[S.store.runs.indexOf(existing)] = run;
      } else {
        S.store.runs.push(run);
      }
      S.store.active = run.id;
      setWarning('');
      save();
      render();
      announce('Imported ' + runLabel(run) + ' with ' + run.steps.length + ' recorded steps.');
    });
  }

  function setWarning(msg) {
    S.warning = msg;
    renderWarning();
  }

  function renderWarning() {
    S.ui.warning.textContent = S.warning;
    S.ui.warning.hidden = !S.warning;
  }

  // ---- rendering from state

  function render() {
    var run = activeRun();
    var finished = !!(run && run.finished_at);
    var ui = S.ui;
    renderWarning();

    S.data.steps.forEach(function (s) {
      var els = S.stepEls[s.id];
      if (!els) return;
      var rec = recordOf(run, s.id);
      var state = rec ? rec.state : '';
      els.box.checked = state === 'done';
      els.box.indeterminate = state === 'skipped';
      els.box.disabled = finished;
      ['done', 'skipped', 'failed'].forEach(function (st) { els.li.classList.toggle('sb-' + st, state === st); });
      var parts = [];
      if (state === 'done') parts.push('done ' + fmtTime(rec.at).slice(11, 16) + ' UTC');
      if (state === 'skipped') parts.push('skipped' + (rec.skip_reason ? ': ' + rec.skip_reason : ''));
      if (state === 'failed') parts.push('failed ' + fmtTime(rec.at).slice(11, 16) + ' UTC');
      if (rec && rec.by && state !== 'open') parts.push('by ' + rec.by);
      if (rec && rec.note) parts.push('note: ' + rec.note);
      els.status.textContent = parts.length ? '(' + parts.join(', ') + ')' : '';
      els.more.disabled = finished;
      els.skip.hidden = state === 'skipped';
      els.unskip.hidden = state !== 'skipped';
      if (finished) { els.form.hidden = true; els.more.setAttribute('aria-expanded', 'false'); }
    });

    var pr = progress(run, S.data.steps);
    Object.keys(S.groupEls).forEach(function (gid) {
      var g = pr.groups[gid] || { done: 0, total: 0 };
      S.groupEls[gid].el.textContent = S.groupEls[gid].title + ' ' + g.done + '/' + g.total;
    });
    ui.progressLabel.textContent = 'Overall ' + pr.overall.done + '/' + pr.overall.total;
    ui.progress.max = Math.max(1, pr.overall.total);
    ui.progress.value = pr.overall.done;

    // Parameters: inputs show the run's values (or the draft before a run); frozen once finished.
    var params = currentParams();
    Object.keys(ui.paramInputs).forEach(function (name) {
      var input = ui.paramInputs[name];
      if (document.activeElement !== input) input.value = params[name] || '';
      input.readOnly = finished;
    });
    applyParams();

    // Status line
    ui.status.textContent = '';
    if (!run) {
      ui.status.appendChild(document.createTextNode('No run in progress. Start one, or tick a step to start one.'));
    } else {
      ui.status.appendChild(h('strong', { text: run.name ? 'Run ' + run.name : 'Unnamed run' }));
      ui.status.appendChild(document.createTextNode(' · started ' + fmtTime(run.started_at) + ' UTC'));
      if (run.operator) ui.status.appendChild(document.createTextNode(' by ' + run.operator));
      if (finished) {
        ui.status.appendChild(document.createTextNode(' · finished ' + fmtTime(run.finished_at) + ' UTC (took ' +
          fmtDuration(Date.parse(run.finished_at) - Date.parse(run.started_at)) + ')'));
      } else {
        ui.status.appendChild(document.createTextNode(' · in progress · elapsed '));
        ui.status.appendChild(ui.elapsed);
        tickElapsed();
      }
    }
    ui.startForm.hidden = !!(run && !finished);
    ui.finish.hidden = !run || finished;
    ui.newRun.hidden = !run;
    ui.reopen.hidden = !finished;
    [ui.exportMd, ui.exportJson, ui.reset, ui.del].forEach(function (b) { b.hidden = !run; });
    ui.reset.hidden = !run || finished;
    if (!run) ui.exportBox.hidden = true;
    else if (!ui.exportBox.hidden) ui.exportText.value = toMarkdown(run);

    // Removed steps
    var removed = removedSteps(run, S.data.steps);
    ui.removedList.textContent = '';
    removed.forEach(function (s) {
      var bits = [s.state + ' ' + fmtTime(s.at) + ' UTC'];
      if (s.by) bits.push('by ' + s.by);
      if (s.skip_reason) bits.push('reason: ' + s.skip_reason);
      if (s.note) bits.push('note: ' + s.note);
      ui.removedList.appendChild(h('li', { 'data-step': s.id },
        h('span', { class: 'sb-removed-text', text: substitute(s.text, run.params) }), ' (' + bits.join(', ') + ')'));
    });
    ui.removed.hidden = removed.length === 0;

    // Runs list, newest first
    ui.runsList.textContent = '';
    var runs = S.store.runs.slice().sort(function (a, b) { return a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0; });
    if (!runs.length) ui.runsList.appendChild(h('li', { class: 'sb-hint', text: 'No runs yet.' }));
    runs.forEach(function (r) {
      var isActive = run && r.id === run.id;
      var done = r.steps.filter(function (s) { return s.state === 'done' || s.state === 'skipped'; }).length;
      var li = h('li', { class: isActive ? 'sb-run-item sb-active' : 'sb-run-item', 'data-run-id': r.id },
        h('span', { class: 'sb-run-name', text: r.name || 'Unnamed run' }),
        ' · ' + (r.finished_at ? 'finished' : 'in progress') + ' · started ' + fmtTime(r.started_at) + ' UTC · ' + done + ' steps recorded ');
      if (isActive) li.appendChild(h('span', { class: 'sb-badge', text: 'shown' }));
      else {
        var b = h('button', { type: 'button', class: 'sb-select-run', text: r.finished_at ? 'View' : 'Resume',
          'aria-label': (r.finished_at ? 'View ' : 'Resume ') + (r.name || 'unnamed run started ' + fmtTime(r.started_at)) });
        b.addEventListener('click', function () { S.store.active = r.id; save(); render(); announce('Showing ' + runLabel(r) + '.'); });
        li.appendChild(b);
      }
      ui.runsList.appendChild(li);
    });
  }

  function tickElapsed() {
    var run = activeRun();
    if (!run || run.finished_at) return;
    S.ui.elapsed.textContent = fmtDuration(Date.now() - Date.parse(run.started_at));
  }

  function loadStore() {
    var raw = storageGet(S.key);
    var res = parseStore(raw);
    S.store = res.store;
    S.setAside = res.bad ? raw : null;
    if (res.notice) S.warning = res.notice;
  }

  function prefillFromUrl() {
    var q;
    try { q = new URLSearchParams(root.location.search); } catch (e) { return; }
    var set = [];
    (S.data.params || []).forEach(function (p) {
      if (!q.has(p.name)) return;
      var v = q.get(p.name);
      var run = activeRun();
      var target = run && !run.finished_at ? run.params : S.store.draft_params;
      if (target[p.name] !== v) { target[p.name] = v; set.push(p.name + '=' + v); }
    });
    if (set.length) {
      save();
      announce('Set from the link: ' + set.join(', ') + '.');
    }
  }

  function readPageData(el) {
    var d = JSON.parse(el.textContent);
    if (!isObj(d) || typeof d.page !== 'string' || !Array.isArray(d.steps)) throw new Error('bad page data');
    d.groups = Array.isArray(d.groups) ? d.groups.filter(isObj) : [];
    d.params = Array.isArray(d.params) ? d.params.filter(function (p) { return isObj(p) && PARAM_NAME.test(p.name); }) : [];
    d.steps = d.steps.filter(function (s) { return isObj(s) && typeof s.id === 'string'; })
      .map(function (s) { return { id: s.id, group: String(s.group || ''), text: String(s.text || '') }; });
    d.title = String(d.title || '');
    return d;
  }

  function init() {
    addCopyButtons();
    var host = document.getElementById('sb-run');
    var dataEl = document.getElementById('sb-page-data');
    if (!host || !dataEl) return;
    try {
      S.data = readPageData(dataEl);
    } catch (e) {
      host.hidden = false;
      host.appendChild(h('p', { class: 'sb-notice', role: 'status',
        text: 'The checklist data of this page could not be read: the checkboxes work but runs are not recorded.' }));
      return;
    }
    S.key = KEY_PREFIX + 'runs:' + S.data.page;
    if (!storage) S.warning = 'This browser does not let the page save: runs last only until the tab is closed.';
    loadStore();
    buildPanel(host);
    document.querySelectorAll('li.sb-step').forEach(decorateStep);
    decorateGroups();
    prefillFromUrl();
    render();
    host.hidden = false;
    setInterval(tickElapsed, 1000);
    root.addEventListener('storage', function (e) {
      if (e.key !== S.key && e.key !== KEY_PREFIX + 'operator') return;
      loadStore();
      if (document.activeElement !== S.ui.operator) S.ui.operator.value = operator();
      render();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})(typeof globalThis !== 'undefined' ? globalThis : this);
