// Search in a real headless Chromium: the header combobox, the full results page with filters,
// typo suggestions, step anchors, file:// and no-JavaScript. The site is $SCALEBOOK_SITE (a built
// copy of this repository's site, as .ci/run sets it) or, when unset, a debug build of the
// repository made here with `cargo run -- build` into a temporary folder. Expectations come from
// the playbooks in playbooks/ (the Redis cache playbook, the sev1 playbooks, the case studies).
//
// The site is served twice by one server: at / and under /runbooks/ (a host publishing
// https://example.org/runbooks/); every link the site writes is relative, so both must work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, serve, REPO } from './lib.mjs';

const SUB = 'runbooks/';
const REDIS = 'traffic-surges/add-a-redis-cache-layer/';
const SPIKE = 'traffic-surges/absorb-a-spike/';
// A step of the Redis playbook, in its "Before" group: "Set a memory ceiling and an eviction policy."
const EVICTION_STEP = 'before--set-a-memory-ceiling-and-an-eviction-policy';

let browser;
let server;
let root; // the built site folder
let built; // a temporary folder to remove, when this file built the site

/** Builds the repository's site into a temporary folder with the debug binary. */
function buildSite() {
  const out = mkdtempSync(join(tmpdir(), 'scalebook-search-test-'));
  return new Promise((ok, fail) => {
    execFile('cargo', ['run', '-q', '--', 'build', '--root', REPO, '--out', out, '--no-cache', '--quiet'],
      { cwd: REPO, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) {
          rmSync(out, { recursive: true, force: true });
          fail(new Error(`could not build the site for the search tests (set SCALEBOOK_SITE to a built site ` +
            `to skip the build): ${err.message}\n${stderr}`));
        } else ok(out);
      });
  });
}

before(async () => {
  if (process.env.SCALEBOOK_SITE) {
    root = resolve(process.env.SCALEBOOK_SITE);
    if (!existsSync(join(root, 'search', 'index.html'))) {
      throw new Error(`SCALEBOOK_SITE=${root} has no search/index.html: build the site first`);
    }
  } else {
    root = built = await buildSite();
  }
  browser = await launch();
  server = await serve(root, { [`/${SUB}`]: root });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (built) rmSync(built, { recursive: true, force: true });
});

/** Front matter fields (`key = "value"` lines only) of every page under playbooks/, with its URL. */
function sourcePages() {
  const dir = join(REPO, 'playbooks');
  const out = [];
  (function walk(d) {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.md') && e.name !== '_index.md') {
        const fm = /^\+\+\+\n([\s\S]*?)\n\+\+\+/.exec(readFileSync(p, 'utf8'));
        const fields = {};
        for (const m of (fm ? fm[1] : '').matchAll(/^(\w+) = (?:"([^"]*)"|(\S+))$/gm)) {
          if (!(m[1] in fields)) fields[m[1]] = m[2] ?? m[3];
        }
        if (fields.draft === 'true') continue;
        out.push({ url: relative(dir, p).split(sep).join('/').replace(/\.md$/, '/'), ...fields });
      }
    }
  })(dir);
  return out;
}

/** A fresh context and page; `errors` collects page errors, console errors and HTTP errors. */
async function open(path, opts = {}) {
  const context = await browser.newContext({ baseURL: server.url, ...opts });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`); });
  if (path !== undefined) await page.goto(path);
  return { context, page, errors };
}

const q = (page) => page.locator('#sb-q');
const status = (page) => page.locator('#sb-results [role="status"]');
const options = (page) => page.locator('#sb-listbox [role="option"]');

/** Waits until the dropdown shows the results of exactly `query` (the "See all" link or a suggestion names it). */
async function resultsFor(page, query) {
  await page.waitForFunction((query) => {
    const list = document.getElementById('sb-listbox');
    if (!list || list.hidden || document.getElementById('sb-q').value !== query) return false;
    // The box changes before the list does (typing, or a followed suggestion), so the list must
    // say it answers this query, and hold its closing option.
    if (list.getAttribute('data-shows') !== query) return false;
    const all = list.querySelector('.sb-all, .sb-suggest, .sb-empty');
    if (!all) return false;
    if (all.classList.contains('sb-empty')) return all.textContent.includes(query);
    if (all.classList.contains('sb-suggest')) return true;
    return new URL(all.href).searchParams.get('q') === query;
  }, query);
}

/** The options of the dropdown as {id, href (absolute), text, cls}. */
async function readOptions(page) {
  return options(page).evaluateAll((els) => els.map((a) => ({
    id: a.id, href: a.href || null, text: a.textContent, cls: a.className,
  })));
}

const pathOf = (href) => new URL(href).pathname;

async function typeInBox(page, text) {
  await q(page).click();
  await page.keyboard.type(text, { delay: 15 });
  await resultsFor(page, text);
}

for (const prefix of ['', SUB]) {
  test(`typing in the header box shows ranked results as you type (site at /${prefix})`, async () => {
    const { context, page, errors } = await open(`${prefix}${SPIKE}`);
    const input = q(page);
    assert.equal(await input.getAttribute('role'), 'combobox');
    assert.equal(await input.getAttribute('aria-controls'), 'sb-listbox');
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    // Record when input events and searches happen, to check the debounce exactly.
    await page.evaluate(() => {
      const log = (window.__sbLog = []);
      document.getElementById('sb-q').addEventListener('input', () => log.push(['input', performance.now()]), true);
      const E = window.scalebookSearch.Engine.prototype;
      const search = E.search;
      E.search = function (query) { log.push(['search', performance.now(), query]); return search.call(this, query); };
    });

    // A partial word already finds the page (the last word is also a prefix).
    await typeInBox(page, 'redis cac');
    let opts = await readOptions(page);
    assert.equal(pathOf(opts[0].href), `/${prefix}${REDIS}`, `first result for "redis cac": ${opts[0].href}`);
    await page.keyboard.type('he', { delay: 15 });
    await resultsFor(page, 'redis cache');
    opts = await readOptions(page);
    assert.equal(pathOf(opts[0].href), `/${prefix}${REDIS}`, `first result for "redis cache": ${opts[0].href}`);
    assert.match(opts[0].text, /^Add a Redis cache layer/);
    assert.ok(await page.locator('#sb-opt-0 mark').count() >= 1, 'matched words are highlighted');
    // Every link stays inside the site, under its prefix.
    for (const o of opts) assert.ok(o.href.startsWith(`${server.url}${prefix}`), o.href);
    assert.equal(await input.getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('#sb-listbox').isVisible(), true);
    const all = opts.at(-1);
    assert.match(all.cls, /sb-all/);
    const n = Number(/^See all (\d+) results?$/.exec(all.text)?.[1]);
    assert.ok(n >= 2, `"See all" names a count: ${all.text}`);
    assert.equal(pathOf(all.href), `/${prefix}search/`);
    // The live region announces the count.
    assert.equal(await status(page).textContent(), `${n} results`);
    assert.equal(await status(page).getAttribute('aria-live'), 'polite');

    // Debounced: each search ran at least 120 ms after the last input event before it, and
    // there were fewer searches than keystrokes.
    const log = await page.evaluate(() => window.__sbLog);
    const inputs = log.filter((e) => e[0] === 'input');
    const searches = log.filter((e) => e[0] === 'search');
    assert.equal(inputs.length, 'redis cache'.length);
    assert.ok(searches.length >= 2 && searches.length < inputs.length, `searches: ${searches.map((s) => s[2])}`);
    for (const s of searches) {
      const last = inputs.filter((i) => i[1] <= s[1]).at(-1);
      assert.ok(s[1] - last[1] >= 110, `search "${s[2]}" ran ${(s[1] - last[1]).toFixed(0)} ms after an input event`);
    }
    assert.equal(searches.at(-1)[2], 'redis cache');
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('keyboard: / focuses the box, arrows move the active option, Enter follows it, Escape clears', async () => {
  const { context, page, errors } = await open(`${SUB}${SPIKE}`);
  const input = q(page);
  await page.locator('main h1').click();
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sb-q');
  assert.equal(await input.inputValue(), '', 'the slash is not typed into the box');
  await page.keyboard.type('redis cache', { delay: 15 });
  await resultsFor(page, 'redis cache');
  assert.equal(await input.getAttribute('aria-activedescendant'), null);

  const selected = () => page.locator('#sb-listbox [aria-selected="true"]').evaluateAll((els) => els.map((e) => e.id));
  await page.keyboard.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'sb-opt-0');
  assert.deepEqual(await selected(), ['sb-opt-0']);
  await page.keyboard.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'sb-opt-1');
  assert.deepEqual(await selected(), ['sb-opt-1']);
  assert.match(await page.locator('#sb-opt-1').getAttribute('class'), /is-active/);
  await page.keyboard.press('ArrowUp');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'sb-opt-0');
  assert.deepEqual(await selected(), ['sb-opt-0']);
  // Focus never leaves the box while moving through the options.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sb-q');

  // Escape clears the box, closes the list and empties the live region.
  await page.keyboard.press('Escape');
  assert.equal(await input.inputValue(), '');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.equal(await input.getAttribute('aria-activedescendant'), null);
  assert.equal(await page.locator('#sb-listbox').isVisible(), false);
  assert.equal(await status(page).textContent(), '');

  // Enter on the active option follows its link.
  await page.keyboard.type('redis cache', { delay: 15 });
  await resultsFor(page, 'redis cache');
  await page.keyboard.press('ArrowDown');
  const href = await page.locator('#sb-opt-0').evaluate((a) => a.href);
  assert.equal(pathOf(href), `/${SUB}${REDIS}`);
  await Promise.all([page.waitForURL(href), page.keyboard.press('Enter')]);
  assert.equal(await page.locator('h1').first().textContent(), 'Add a Redis cache layer in front of a hot database');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the active option is reset when the results change under it', async () => {
  const { context, page, errors } = await open(`${SUB}${SPIKE}`);
  const input = q(page);
  await typeInBox(page, 'redis');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'sb-opt-1');
  await page.keyboard.type(' cache', { delay: 15 });
  await resultsFor(page, 'redis cache');
  // The list was drawn anew: aria-activedescendant must not point at an option that is not the
  // active one (screen readers would announce it as selected).
  const active = await input.getAttribute('aria-activedescendant');
  if (active !== null) {
    assert.equal(await page.locator(`[id="${active}"]`).getAttribute('aria-selected'), 'true',
      `aria-activedescendant="${active}" points at an option that is not selected`);
  }
  // ArrowDown from a fresh list starts at the first option.
  await page.keyboard.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'sb-opt-0');
  // Leaving the box closes the list and leaves no option active.
  await page.locator('main h1').click();
  await page.waitForFunction(() => document.getElementById('sb-q').getAttribute('aria-expanded') === 'false');
  assert.equal(await page.locator('#sb-listbox').isVisible(), false);
  assert.equal(await input.getAttribute('aria-activedescendant'), null, 'no active option in a closed list');
  assert.equal(await page.locator('#sb-listbox .is-active, #sb-listbox [aria-selected="true"]').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a result that matched a checklist step links to the step, which is the target on arrival', async () => {
  const { context, page, errors } = await open(`${SUB}${SPIKE}`);
  await typeInBox(page, 'eviction policy');
  const opts = await readOptions(page);
  const url = new URL(opts[0].href);
  assert.equal(url.pathname, `/${SUB}${REDIS}`);
  assert.equal(url.hash, `#${EVICTION_STEP}`);
  assert.match(url.hash, /^#[a-z0-9-]+--[a-z0-9-]+$/, 'a step anchor is group--step-slug');
  assert.match(opts[0].text, /Step: Set a memory ceiling and an eviction policy/);
  await Promise.all([page.waitForURL(url.href), page.locator('#sb-opt-0').click()]);
  assert.equal(await page.evaluate(() => location.hash), `#${EVICTION_STEP}`);
  const target = await page.evaluate(() => {
    const t = document.querySelector(':target');
    return t && { id: t.id, tag: t.tagName, cls: t.className, box: !!document.getElementById('cb-' + t.id) };
  });
  assert.deepEqual(target, { id: EVICTION_STEP, tag: 'LI', cls: 'sb-step', box: true });
  assert.deepEqual(errors, []);
  await context.close();
});

/** The results page's hits as {path, meta}. */
async function hits(page) {
  return page.locator('.sb-page-list .sb-hit').evaluateAll((els) => els.map((li) => ({
    path: new URL(li.querySelector('.sb-hit-title a').href).pathname,
    meta: li.querySelector('.sb-hit-meta').textContent,
  })));
}

/** Waits until the results page has drawn `want` hits (or, without `want`, any settled count). */
async function settled(page, want) {
  await page.waitForFunction((want) => {
    const s = document.querySelector('#sb-search-page .sb-status');
    const m = s && /^(\d+) results?/.exec(s.textContent);
    if (!m) return false;
    const n = Number(m[1]);
    if (want !== undefined && n !== want) return false;
    return document.querySelectorAll('.sb-page-list .sb-hit').length === Math.min(n, 20);
  }, want);
  return Number(/^(\d+)/.exec(await page.locator('#sb-search-page .sb-status').textContent())[1]);
}

/** The checkbox of a facet value, and the count shown next to it. */
async function facet(page, legend, value) {
  const row = page.locator('.sb-facet').filter({ has: page.locator('legend', { hasText: legend }) })
    .locator('.sb-facet-row').filter({ has: page.locator('label', { hasText: new RegExp(`^${value}\\d+$`) }) });
  assert.equal(await row.count(), 1, `one ${legend} filter "${value}"`);
  return { box: row.locator('input[type="checkbox"]'), count: Number(await row.locator('.sb-count').textContent()) };
}

test('the results page lists results, and filters narrow them, update counts and the URL', async () => {
  const { context, page, errors } = await open(`${SUB}search/?q=load%20shedding`);
  assert.equal(await page.locator('#sb-page-q').inputValue(), 'load shedding');
  const total = await settled(page);
  const all = await hits(page);
  assert.ok(total >= 5, `"load shedding" finds several pages: ${total}`);
  assert.equal(all[0].path, `/${SUB}traffic-surges/rate-limiting-and-load-shedding/`);
  assert.equal(await page.locator('.sb-more').isVisible(), total > 20);

  // Severity sev1: the count beside the filter is what it leaves.
  const sev1 = await facet(page, 'Severity', 'sev1');
  assert.equal(sev1.count, all.filter((h) => /\bsev1\b/.test(h.meta)).length);
  assert.ok(sev1.count >= 1 && sev1.count < total);
  await sev1.box.check();
  await page.waitForURL((u) => u.searchParams.get('severity') === 'sev1');
  const narrowed = await settled(page, sev1.count);
  const sevHits = await hits(page);
  assert.equal(narrowed, sev1.count);
  assert.ok(sevHits.every((h) => / · sev1$/.test(h.meta)), JSON.stringify(sevHits));
  const url = new URL(page.url());
  assert.equal(url.pathname, `/${SUB}search/`);
  assert.equal(url.searchParams.get('q'), 'load shedding');
  // Other facets now count only what the sev1 filter leaves.
  assert.equal((await facet(page, 'Kind', 'playbook')).count, sev1.count);

  // The state is in the URL: a reload shows the same filtered results.
  await page.reload();
  await settled(page, sev1.count);
  assert.deepEqual(await hits(page), sevHits);
  assert.equal(await (await facet(page, 'Severity', 'sev1')).box.isChecked(), true);

  // Swap to kind = case-study.
  await (await facet(page, 'Severity', 'sev1')).box.uncheck();
  await settled(page, total);
  const cs = await facet(page, 'Kind', 'case-study');
  assert.equal(cs.count, all.filter((h) => h.meta === 'Case study').length);
  await cs.box.check();
  await page.waitForURL((u) => u.searchParams.get('kind') === 'case-study' && !u.searchParams.has('severity'));
  await settled(page, cs.count);
  assert.ok((await hits(page)).every((h) => h.meta === 'Case study'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a filter alone lists every matching page: all sev1 playbooks, all case studies', async () => {
  const pages = sourcePages();
  const { context, page, errors } = await open(`${SUB}search/?severity=sev1`);
  const sev1 = pages.filter((p) => p.severity === 'sev1').map((p) => `/${SUB}${p.url}`).sort();
  assert.ok(sev1.length >= 1, 'the repository has sev1 playbooks');
  assert.equal(await settled(page, sev1.length), sev1.length);
  assert.deepEqual((await hits(page)).map((h) => h.path).sort(), sev1);
  assert.equal(await page.locator('#sb-page-q').inputValue(), '');
  assert.equal(await (await facet(page, 'Severity', 'sev1')).box.isChecked(), true);

  const studies = pages.filter((p) => p.kind === 'case-study').map((p) => `/${SUB}${p.url}`).sort();
  await page.goto(`${SUB}search/?kind=case-study`);
  await settled(page, studies.length);
  assert.deepEqual((await hits(page)).map((h) => h.path).sort(), studies);
  // Clearing the only filter: a prompt, no results, and every filter still offered with its
  // count over the whole site (as on a fresh search/ page), so another can be chosen.
  await (await facet(page, 'Kind', 'case-study')).box.click();
  await page.waitForFunction(() => document.querySelector('#sb-search-page .sb-status').textContent === 'Type a query or choose a filter.');
  assert.equal(await page.locator('.sb-page-list .sb-hit').count(), 0);
  assert.equal(new URL(page.url()).search, '');
  const offered = await page.locator('.sb-facet legend').allTextContents();
  assert.ok(offered.includes('Kind') && offered.includes('Severity'), `filters offered after clearing: ${offered}`);
  const again = await facet(page, 'Kind', 'case-study');
  assert.equal(again.count, studies.length);
  assert.equal(await again.box.isChecked(), false);
  assert.equal((await facet(page, 'Severity', 'sev1')).count, sev1.length);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a one-typo query offers a suggestion that finds the Redis playbook', async () => {
  const { context, page, errors } = await open(`${SUB}${SPIKE}`);
  await typeInBox(page, 'redsi');
  const opts = await readOptions(page);
  const sugg = opts.find((o) => /sb-suggest/.test(o.cls));
  assert.ok(sugg, `a suggestion among ${JSON.stringify(opts)}`);
  assert.equal(sugg.text, 'Did you mean redis?');
  assert.match(await status(page).textContent(), /Did you mean redis\?/);
  await page.locator('#sb-listbox .sb-suggest').click();
  await resultsFor(page, 'redis');
  assert.equal(await q(page).inputValue(), 'redis');
  assert.equal(pathOf((await readOptions(page))[0].href), `/${SUB}${REDIS}`);
  assert.equal(new URL(page.url()).pathname, `/${SUB}${SPIKE}`, 'the suggestion searches in place');

  // The same on the results page.
  await page.goto(`${SUB}search/?q=redsi`);
  const button = page.locator('#sb-search-page .sb-suggest-button');
  await button.waitFor();
  assert.equal(await button.textContent(), 'Did you mean redis?');
  await button.click();
  await page.waitForURL((u) => u.searchParams.get('q') === 'redis');
  await settled(page);
  assert.equal((await hits(page))[0].path, `/${SUB}${REDIS}`);
  assert.equal(await page.locator('#sb-page-q').inputValue(), 'redis');
  assert.deepEqual(errors, []);
  await context.close();
});

test('search works on a copy opened from file://, with links to index.html', async () => {
  const { context, page, errors } = await open();
  const base = pathToFileURL(root + sep).href;
  await page.goto(`${base}${SPIKE}index.html`);
  await typeInBox(page, 'eviction policy');
  let opts = await readOptions(page);
  assert.equal(opts[0].href, `${base}${REDIS}index.html#${EVICTION_STEP}`);
  const seeAll = Number(/^See all (\d+) results$/.exec(opts.at(-1).text)?.[1]);
  assert.equal(await status(page).textContent(), `${seeAll} results`);
  for (const o of opts) {
    assert.ok(o.href.startsWith(base), o.href);
    if (/sb-all/.test(o.cls)) assert.match(o.href, /\/search\/index\.html\?q=eviction%20policy$/);
    else assert.match(o.href, /\/index\.html(#[a-z0-9-]+)?$/);
  }
  // A page-top result ends in /index.html.
  await q(page).fill('');
  await q(page).fill('load shedding');
  await resultsFor(page, 'load shedding');
  opts = await readOptions(page);
  assert.equal(opts[0].href, `${base}traffic-surges/rate-limiting-and-load-shedding/index.html`);
  // Following a step result lands on the step.
  await q(page).fill('eviction policy');
  await resultsFor(page, 'eviction policy');
  await page.keyboard.press('ArrowDown');
  await Promise.all([page.waitForURL(`${base}${REDIS}index.html#${EVICTION_STEP}`), page.keyboard.press('Enter')]);
  assert.equal(await page.evaluate(() => document.querySelector(':target')?.id), EVICTION_STEP);
  // The results page and its filters from file:// too.
  await page.goto(`${base}search/index.html?q=redis`);
  const n = await settled(page);
  assert.ok(n >= 2);
  const first = await page.locator('.sb-page-list .sb-hit-title a').first().evaluate((a) => a.href);
  assert.match(first, new RegExp(`^${base}${REDIS}index\\.html(#[a-z0-9-]+)?$`));
  const sev2 = await facet(page, 'Severity', 'sev2');
  await sev2.box.check();
  await settled(page, sev2.count);
  assert.equal(new URL(page.url()).searchParams.get('severity'), 'sev2');
  assert.deepEqual(errors, []);
  await context.close();
});

test('without JavaScript the search page shows the noscript message, not a dead search box', async () => {
  const { context, page } = await open(`${SUB}search/`, { javaScriptEnabled: false });
  const note = page.locator('main p', { hasText: 'Search needs JavaScript' });
  assert.equal(await note.isVisible(), true);
  assert.equal(await note.getByRole('link', { name: 'tag' }).getAttribute('href'), '../tags/');
  assert.equal(await page.locator('#sb-page-q').count(), 0);
  assert.equal(await page.locator('#sb-search-page').evaluate((el) => el.childElementCount + el.textContent.trim().length), 0);
  assert.equal(await page.getByText('Loading search').count(), 0);
  // The header box is a plain search form (to this page), not a combobox that never opens.
  const input = q(page);
  assert.equal(await input.getAttribute('role'), null);
  assert.equal(await input.getAttribute('aria-expanded'), null);
  assert.equal(await page.locator('#sb-listbox').count(), 0);
  await input.fill('redis');
  await Promise.all([page.waitForURL((u) => u.pathname === `/${SUB}search/` && u.searchParams.get('q') === 'redis'),
    input.press('Enter')]);
  assert.equal(await page.locator('main p', { hasText: 'Search needs JavaScript' }).isVisible(), true);
  await context.close();
});

test('requests per query: at most two sequential rounds, and loaded shards are reused', async (t) => {
  const { context, page, errors } = await open();
  // Slow every index file down a little, so that a file asked for only after another arrived
  // is clearly in a later round.
  await context.route('**/search/**', async (route) => { await new Promise((r) => setTimeout(r, 40)); await route.continue(); });
  let seq = 0;
  let reqs = [];
  const track = new Map();
  page.on('request', (r) => {
    if (!r.url().includes('/search/')) return;
    const e = { name: r.url().slice(r.url().indexOf('/search/') + 8), start: ++seq, end: Infinity };
    track.set(r, e);
    reqs.push(e);
  });
  const done = (r) => { const e = track.get(r); if (e) e.end = ++seq; };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  await page.goto(`${SUB}${SPIKE}`);
  assert.equal(reqs.length, 0, 'no index file before the box is used');
  await Promise.all([page.waitForResponse((r) => /\/search\/manifest[^/]*\.js$/.test(r.url())), q(page).focus()]);
  await page.waitForFunction(() => !document.querySelector('script[src*="/search/manifest"]'));
  assert.equal(reqs.length, 1, `focus loads the manifest only: ${reqs.map((r) => r.name)}`);
  assert.match(reqs[0].name, /^manifest(-[0-9a-f]+)?\.js$/);

  /** Runs `action`, waits for the results of `query`, returns the index files it asked for. */
  async function measure(query, action) {
    reqs = [];
    await action();
    await resultsFor(page, query);
    await page.waitForFunction(() => !document.querySelector('head script[src*="/search/"]'));
    // Round of a request: 1 + the highest round of the requests that had finished before it began.
    const rounds = [];
    for (const r of reqs) {
      const before = reqs.filter((o) => o.end < r.start).map((o) => rounds[reqs.indexOf(o)]);
      rounds[reqs.indexOf(r)] = 1 + Math.max(0, ...before);
    }
    const names = reqs.map((r) => r.name.replace(/^idx-\w+\//, ''));
    return {
      names, rounds: Math.max(0, ...rounds),
      shards: names.filter((n) => /^s\d+\.js$/.test(n)), fragments: names.filter((n) => /^f\d+\.js$/.test(n)),
    };
  }

  const first = await measure('redis cache', () => q(page).fill('redis cache'));
  t.diagnostic(`"redis cache" (first query): ${first.names.length} requests in ${first.rounds} rounds: ${first.names.join(' ')}`);
  assert.ok(first.rounds <= 2, `rounds: ${first.rounds}`);
  assert.ok(first.shards.length >= 1 && first.shards.length <= 4, `shards: ${first.shards}`);
  const shown = (await readOptions(page)).filter((o) => !/sb-all|sb-suggest/.test(o.cls)).length;
  assert.equal(first.fragments.length, shown, 'one fragment per result shown');
  assert.ok(shown <= 8);
  assert.deepEqual(first.names.filter((n) => !/^[sf]\d+\.js$/.test(n)), [], 'nothing but shards and fragments');
  // The shards came first, the fragments after them.
  const firstFragment = reqs.findIndex((r) => /\/f\d+\.js$/.test(r.name));
  assert.ok(reqs.slice(0, firstFragment).every((r) => /\/s\d+\.js$/.test(r.name)));

  // One more keystroke on the same words.
  const key = await measure('redis caches', () => q(page).press('s'));
  t.diagnostic(`"redis caches" (one keystroke more): ${key.names.length} requests in ${key.rounds} rounds: ${key.names.join(' ') || '-'}`);
  assert.ok(key.rounds <= 2);
  // A second query sharing the terms asks for no shard again.
  const again = await measure('cache redis', () => q(page).fill('cache redis'));
  t.diagnostic(`"cache redis" (same terms): ${again.names.length} requests: ${again.names.join(' ') || '-'}`);
  assert.deepEqual(again.shards.filter((s) => first.shards.includes(s)), [], 'loaded shards are not asked for again');
  assert.deepEqual(again.shards, [], 'same terms: no shard requests');
  const other = await measure('eviction policy', () => q(page).fill('eviction policy'));
  t.diagnostic(`"eviction policy" (new terms): ${other.names.length} requests in ${other.rounds} rounds: ${other.names.join(' ')}`);
  assert.ok(other.rounds <= 2 && other.shards.length <= 4);
  const sub = await measure('redis', () => q(page).fill('redis'));
  t.diagnostic(`"redis" (subset of the terms): ${sub.names.length} requests: ${sub.names.join(' ') || '-'}`);
  assert.deepEqual(sub.shards, []);
  // A typo: the word list is a third round, only then.
  const typo = await measure('redsi', () => q(page).fill('redsi'));
  t.diagnostic(`"redsi" (typo): ${typo.names.length} requests in ${typo.rounds} rounds: ${typo.names.join(' ')}`);
  assert.ok(typo.names.includes('vocab.js'));
  assert.ok(typo.rounds <= 3);
  assert.deepEqual(errors, []);
  await context.close();
});
