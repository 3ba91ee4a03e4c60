// Runnable checklists in a real headless Chromium. The site is $SCALEBOOK_SITE (a built site) or
// the hand-written fixture site; the tests read the steps and params from the page's own data, so
// they hold for any playbook with at least two steps, a leaf step and a parameter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, serve, site } from './lib.mjs';

const PLAYBOOK = process.env.SCALEBOOK_PLAYBOOK || 'traffic-surges/absorb-a-spike/';
const CASE_STUDY = process.env.SCALEBOOK_CASE_STUDY || 'case-studies/black-friday-hybrid-node-django/';

let browser;
let server;

before(async () => {
  browser = await launch();
  const s = site();
  server = await serve(s.root, s.mounts);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh browser profile (empty localStorage) with a clipboard stub recording what was copied. */
async function open(path = PLAYBOOK, opts = {}) {
  const context = await browser.newContext({ baseURL: server.url, ...opts });
  await context.addInitScript(() => {
    window.__copied = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: async (t) => { window.__copied.push(t); } },
    });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(path);
  return { context, page, errors };
}

async function pageData(page) {
  return page.evaluate(() => JSON.parse(document.getElementById('sb-page-data').textContent));
}

const box = (page, id) => page.locator(`[id="cb-${id}"]`);
const markdownRows = (md) => md.split('\n').filter((l) => /^\| \d{4}-/.test(l));

async function exportMarkdown(page) {
  await page.getByRole('button', { name: 'Export Markdown' }).click();
  return page.locator('#sb-export-text').inputValue();
}

test('ticked steps survive a reload, with progress per group and overall', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  assert.ok(data.steps.length >= 2);
  const [a, b] = data.steps;
  await box(page, a.id).check();
  await box(page, b.id).check();
  await page.reload();
  assert.equal(await box(page, a.id).isChecked(), true);
  assert.equal(await box(page, b.id).isChecked(), true);
  assert.equal(await box(page, data.steps[2].id).isChecked(), false);
  assert.equal(await page.locator('#sb-progress-label').textContent(), `Overall 2/${data.steps.length}`);
  const group = data.groups.find((g) => g.id === a.group);
  const inGroup = data.steps.filter((s) => s.group === a.group);
  const doneInGroup = [a, b].filter((s) => s.group === a.group).length;
  assert.equal(await page.locator(`.sb-group-progress[data-group="${a.group}"]`).textContent(),
    `${group.title} ${doneInGroup}/${inGroup.length}`);
  assert.equal(await page.locator('progress').getAttribute('aria-labelledby'), 'sb-progress-label');
  // Ticking with no run open started one implicitly.
  assert.match(await page.locator('.sb-run-status').textContent(), /Unnamed run .* in progress/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a named run exports a Markdown timeline with who, note and skip', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  await page.getByLabel('Your name').fill('alice');
  await page.getByLabel('Your name').press('Tab');
  await page.getByLabel('Run name (optional)').fill('INC-4211');
  await page.getByRole('button', { name: 'Start run' }).click();
  const [a, b, c] = data.steps;
  await box(page, a.id).check();
  // A note on the ticked step, through its inline form.
  await page.locator(`[aria-controls="f-${a.id}"]`).click();
  await page.locator(`[id="n-${a.id}"]`).fill('went | fine, <b>quickly</b>');
  await page.locator(`[id="f-${a.id}"]`).getByRole('button', { name: 'Save note' }).click();
  // Skip another with a reason.
  await page.locator(`[aria-controls="f-${b.id}"]`).click();
  await page.locator(`[id="r-${b.id}"]`).fill('not needed');
  await page.locator(`[id="f-${b.id}"]`).getByRole('button', { name: 'Skip step' }).click();
  assert.equal(await box(page, b.id).evaluate((el) => el.indeterminate), true);
  await page.getByRole('button', { name: 'Finish run' }).click();
  assert.equal(await box(page, c.id).isDisabled(), true, 'a finished run is read-only');

  const md = await exportMarkdown(page);
  const lines = md.split('\n');
  assert.equal(lines[0], `# Run INC-4211: ${data.title}`);
  assert.match(lines[2], new RegExp(`^Page ${data.page} · Started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC · Finished .* UTC · Operator alice`));
  assert.equal(lines[4], '| Time (UTC) | Step | Who | Note | Skipped |');
  const rows = markdownRows(md).map((r) => r.split(' | ').slice(1));
  const sub = (t) => t.replace(/\$\{(\w+)\}/g, (m, n) => { const p = data.params.find((x) => x.name === n); return p && p.default ? p.default : m; });
  assert.deepEqual(rows.map((r) => r[0]), ['Run started', sub(a.text), sub(b.text), 'Run finished']);
  assert.deepEqual(rows[1], [sub(a.text), 'alice', 'went \\| fine, <b>quickly</b>', ' |']);
  assert.deepEqual(rows[2], [sub(b.text), 'alice', '', 'yes: not needed |']);
  // The JSON export is a valid run of this page.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  assert.equal(download.suggestedFilename(), 'INC-4211.json');
  const run = JSON.parse(await streamText(await download.createReadStream()));
  assert.equal(run.schema, 'scalebook-run/1');
  assert.equal(run.page, data.page);
  assert.equal(run.steps.length, 2);
  assert.deepEqual(errors, []);
  await context.close();
});

async function streamText(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

test('a ticked step removed from the playbook stays in the run and is listed as removed', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  const leaf = await page.evaluate(() => [...document.querySelectorAll('li.sb-step')]
    .find((li) => !li.querySelector('li.sb-step')).id);
  const other = data.steps.find((s) => s.id !== leaf);
  await box(page, leaf).check();
  await box(page, other.id).check();

  // Simulate a rebuild without that step: drop it from the markup and from the page data.
  await page.route('**/*', async (route) => {
    const res = await route.fetch();
    const type = res.headers()['content-type'] || '';
    if (!type.includes('text/html')) return route.fulfill({ response: res });
    let html = await res.text();
    const start = html.indexOf(`<li class="sb-step" id="${leaf}"`);
    assert.ok(start >= 0, 'leaf step markup found');
    html = html.slice(0, start) + html.slice(html.indexOf('</li>', start) + 5);
    html = html.replace(/(<script type="application\/json" id="sb-page-data">)([\s\S]*?)(<\/script>)/, (m, a, json, c) => {
      const d = JSON.parse(json);
      d.steps = d.steps.filter((s) => s.id !== leaf);
      return a + JSON.stringify(d).replace(/</g, '\\u003c') + c;
    });
    return route.fulfill({ response: res, body: html });
  });
  await page.reload();
  assert.equal(await page.locator(`[id="cb-${leaf}"]`).count(), 0);
  assert.equal(await box(page, other.id).isChecked(), true);
  const removed = page.getByRole('region', { name: 'Removed from the playbook since this run started' });
  assert.equal(await removed.isVisible(), true);
  const leafText = data.steps.find((s) => s.id === leaf).text;
  const item = removed.locator(`li[data-step="${leaf}"]`);
  assert.match(await item.textContent(), /done \d{4}-\d\d-\d\d/);
  assert.equal(await item.locator('.sb-removed-text').textContent(),
    leafText.replace(/\$\{(\w+)\}/g, (m, n) => data.params.find((p) => p.name === n)?.default || m));
  assert.equal(await page.locator('#sb-progress-label').textContent(), `Overall 1/${data.steps.length - 1}`);
  // Still in the export.
  assert.equal(markdownRows(await exportMarkdown(page)).length, 3);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a parameter updates text, code and the copied command, and goes into the export', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  const param = data.params[0];
  assert.ok(param, 'the playbook declares a parameter');
  const input = page.getByLabel(param.name, { exact: true });
  assert.equal(await input.inputValue(), param.default || '');
  await input.fill('payments');
  const spans = page.locator(`.sb-param[data-param="${param.name}"]`);
  assert.ok(await spans.count() >= 1);
  for (const t of await spans.allTextContents()) assert.equal(t, 'payments');
  const code = page.locator('div.sb-code').filter({ has: page.locator(`.sb-param[data-param="${param.name}"]`) }).first();
  const expected = await code.locator('code').textContent();
  assert.ok(expected.includes('payments') && !expected.includes('${' + param.name + '}'));
  await code.getByRole('button', { name: 'Copy code' }).click();
  await page.waitForFunction(() => window.__copied.length === 1);
  assert.equal(await page.evaluate(() => window.__copied[0]), expected);
  // The value belongs to the run started by a tick, and is in its export.
  await box(page, data.steps[0].id).check();
  await page.reload();
  assert.equal(await page.getByLabel(param.name, { exact: true }).inputValue(), 'payments');
  assert.match(await exportMarkdown(page), new RegExp(`Params .*${param.name}=payments`));
  assert.deepEqual(errors, []);
  await context.close();
});

test('?PARAM= in the URL pre-fills the parameter', async () => {
  const probe = await open();
  const param = (await pageData(probe.page)).params[0];
  await probe.context.close();
  const { context, page, errors } = await open(`${PLAYBOOK}?${param.name}=from-link`);
  assert.equal(await page.getByLabel(param.name, { exact: true }).inputValue(), 'from-link');
  assert.equal(await page.locator(`.sb-param[data-param="${param.name}"]`).first().textContent(), 'from-link');
  assert.deepEqual(errors, []);
  await context.close();
});

test('corrupt saved data shows a notice, is set aside, and the checklist still works', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  const key = `scalebook:v1:runs:${data.page}`;
  await page.evaluate((k) => localStorage.setItem(k, '{"schema": "scalebook-store/1", "runs": [tr'), key);
  await page.reload();
  const notice = page.locator('#sb-run [role="status"].sb-notice');
  assert.match(await notice.textContent(), /could not be read/);
  assert.equal(await notice.isVisible(), true);
  await box(page, data.steps[0].id).check();
  await page.reload();
  assert.equal(await box(page, data.steps[0].id).isChecked(), true);
  const keys = await page.evaluate(() => Object.keys(localStorage));
  assert.ok(keys.some((k) => k.startsWith(key + ':set-aside:')), `set-aside copy kept: ${keys}`);
  // Foreign data in the same key: same treatment.
  await page.evaluate((k) => localStorage.setItem(k, JSON.stringify({ schema: 'other-tool/3', runs: {} })), key);
  await page.reload();
  assert.match(await notice.textContent(), /unknown format/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('importing a JSON run shows its ticks; a bad file is refused with the reason', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  const run = {
    schema: 'scalebook-run/1', id: 'run-imported-1', page: data.page, title: data.title, name: 'INC-99',
    operator: 'bob', started_at: '2024-03-15T10:15:00Z', params: {},
    steps: [{ id: data.steps[1].id, text: data.steps[1].text, state: 'done', at: '2024-03-15T10:16:00Z', by: 'bob' }],
  };
  const file = (name, body) => ({ name, mimeType: 'application/json', buffer: Buffer.from(body) });
  await page.getByLabel('Import a run (JSON file)').setInputFiles(file('bad.json', '{"schema":"x"}'));
  await page.waitForFunction(() => /Could not import bad\.json/.test(document.querySelector('.sb-notice').textContent));
  await page.getByLabel('Import a run (JSON file)').setInputFiles(file('run.json', JSON.stringify(run)));
  await page.waitForFunction(() => /Run INC-99/.test(document.querySelector('.sb-run-status').textContent));
  assert.equal(await box(page, data.steps[1].id).isChecked(), true);
  assert.equal(await box(page, data.steps[0].id).isChecked(), false);
  assert.equal(await page.locator('.sb-notice').textContent(), '');
  await page.reload();
  assert.equal(await box(page, data.steps[1].id).isChecked(), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test('several runs are kept and resumable; reset and delete ask first', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  await page.getByLabel('Run name (optional)').fill('first');
  await page.getByRole('button', { name: 'Start run' }).click();
  await box(page, data.steps[0].id).check();
  await page.getByRole('button', { name: 'New run' }).click();
  await page.getByLabel('Run name (optional)').fill('second');
  await page.getByRole('button', { name: 'Start run' }).click();
  assert.equal(await box(page, data.steps[0].id).isChecked(), false);
  await box(page, data.steps[1].id).check();
  await page.reload();
  assert.equal(await page.locator('.sb-run-item').count(), 2);
  await page.getByRole('button', { name: 'Resume first' }).click();
  assert.equal(await box(page, data.steps[0].id).isChecked(), true);
  assert.equal(await box(page, data.steps[1].id).isChecked(), false);
  // Elapsed time ticks while a run is open, outside any live region.
  assert.match(await page.locator('.sb-elapsed').textContent(), /^\d+:\d\d:\d\d$/);
  assert.equal(await page.locator('.sb-elapsed').evaluate((el) => !!el.closest('[aria-live],[role=status]')), false);
  // Reset: declined keeps the ticks, accepted clears them.
  page.once('dialog', (d) => d.dismiss());
  await page.getByRole('button', { name: 'Clear ticks' }).click();
  assert.equal(await box(page, data.steps[0].id).isChecked(), true);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Clear ticks' }).click();
  assert.equal(await box(page, data.steps[0].id).isChecked(), false);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete run' }).click();
  assert.equal(await page.locator('.sb-run-item').count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('keyboard: space ticks a focused step; the step anchor is targetable', async () => {
  const { context, page, errors } = await open();
  const data = await pageData(page);
  const id = data.steps[0].id;
  await box(page, id).focus();
  await page.keyboard.press('Space');
  assert.equal(await box(page, id).isChecked(), true);
  await page.goto(`${PLAYBOOK}#${id}`);
  assert.equal(await page.locator(`[id="${id}"]`).evaluate((el) => el.matches(':target')), true);
  assert.equal(await box(page, id).getAttribute('aria-labelledby'), `t-${id}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a page without steps still gets copy buttons', async () => {
  const { context, page, errors } = await open(CASE_STUDY);
  const code = page.locator('div.sb-code').first();
  await code.getByRole('button', { name: 'Copy code' }).click();
  await page.waitForFunction(() => window.__copied.length === 1);
  assert.equal(await page.evaluate(() => window.__copied[0]), await code.locator('code').textContent());
  assert.equal(await page.locator('#sb-run').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('without JavaScript the checklist is plain, enabled checkboxes with literal params', async () => {
  const { context, page } = await open(PLAYBOOK, { javaScriptEnabled: false });
  const boxes = page.locator('.sb-step-box');
  assert.ok(await boxes.count() >= 2);
  assert.equal(await boxes.first().isEnabled(), true);
  assert.equal(await page.locator('#sb-run').isVisible(), false);
  assert.match(await page.locator('.sb-param').first().textContent(), /^\$\{\w+\}$/);
  await context.close();
});
