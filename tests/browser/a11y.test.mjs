// Accessibility: axe-core in a real headless Chromium over the pages a reader meets most, in
// light and dark mode. Any violation of a WCAG 2.1 A or AA rule fails the test, with the rule,
// the elements and axe's own explanation in the message.
//
// The site is $SCALEBOOK_SITE (a built site) or the hand-written fixture site (which has no
// topic, search or 404 page: those paths are then skipped, as they do not exist there).
// Override a page with SCALEBOOK_PLAYBOOK / SCALEBOOK_CASE_STUDY / SCALEBOOK_TOPIC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, serve, site } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const built = Boolean(process.env.SCALEBOOK_SITE);
const PAGES = [
  { name: 'home page', path: '' },
  { name: 'topic page', path: process.env.SCALEBOOK_TOPIC || 'traffic-surges/', built: true },
  { name: 'playbook with a checklist', path: process.env.SCALEBOOK_PLAYBOOK || 'traffic-surges/absorb-a-spike/' },
  { name: 'case study with a chart', path: process.env.SCALEBOOK_CASE_STUDY || 'case-studies/black-friday-hybrid-node-django/' },
  { name: 'search results', path: 'search/?q=redis', built: true },
  { name: '404 page', path: '404.html', built: true },
];

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

/** One line per violation and element: rule, impact, selector, what is wrong. */
function describe(violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`${v.id} (${v.impact}): ${v.help} — ${v.helpUrl}`);
    for (const n of v.nodes.slice(0, 8)) {
      lines.push(`    ${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ').trim()}`);
    }
    if (v.nodes.length > 8) lines.push(`    … and ${v.nodes.length - 8} more`);
  }
  return lines.join('\n');
}

for (const scheme of ['light', 'dark']) {
  for (const p of PAGES) {
    test(`${p.name} (${p.path || '/'}) has no WCAG 2.1 A/AA violations in ${scheme} mode`, { skip: p.built && !built ? 'needs a built site (SCALEBOOK_SITE)' : false }, async () => {
      const context = await browser.newContext({ baseURL: server.url, colorScheme: scheme });
      try {
        const page = await context.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        // An audit of a page whose stylesheet did not load says nothing about the theme.
        const failed = [];
        page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${r.url()}`); });
        const res = await page.goto(p.path, { waitUntil: 'networkidle' });
        // The 404 page is served here as a plain file; a host serves it with status 404.
        assert.equal(res.status(), 200, `GET ${p.path} answered ${res.status()}`);
        // Let scripts settle (search results, checklist progress) before auditing.
        await page.waitForLoadState('networkidle');
        assert.deepEqual(failed, [], `requests of ${p.path || '/'} that failed`);
        await page.addScriptTag({ content: AXE_SOURCE });
        const result = await page.evaluate(async (tags) => {
          // eslint-disable-next-line no-undef
          const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
          return { violations: r.violations, url: r.url };
        }, WCAG_TAGS);
        assert.equal(result.violations.length, 0,
          `${result.violations.length} axe violation(s) on ${p.path || '/'} in ${scheme} mode:\n${describe(result.violations)}`);
      } finally {
        await context.close();
      }
    });
  }
}

// Paper is white: a reader in dark mode, or one who chose the dark theme, still prints dark text
// on white (browsers drop backgrounds when printing, so dark-mode colours would print light grey
// on white), and code keeps its light-mode colours.
for (const [how, scheme, choice] of [['in dark mode', 'dark', null], ['with the dark theme chosen', 'light', 'dark']]) {
  test(`a playbook prints dark text on white ${how}`, async () => {
    const context = await browser.newContext({ baseURL: server.url, colorScheme: scheme });
    try {
      const page = await context.newPage();
      if (choice) await page.addInitScript((t) => localStorage.setItem('scalebook:theme', t), choice);
      const playbook = process.env.SCALEBOOK_PLAYBOOK || 'traffic-surges/absorb-a-spike/';
      await page.goto(playbook, { waitUntil: 'networkidle' });
      if (choice) assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), choice, 'the choice applies');
      await page.emulateMedia({ media: 'print', colorScheme: scheme });
      const colours = await page.evaluate(() => {
        const style = (el) => el && getComputedStyle(el);
        const token = document.querySelector('pre.code [class^="hl-"]');
        return {
          body: style(document.body).color,
          bg: style(document.body).backgroundColor,
          h1: style(document.querySelector('main h1')).color,
          token: token ? style(token).color : null,
        };
      });
      assert.equal(colours.body, 'rgb(0, 0, 0)');
      assert.equal(colours.h1, 'rgb(0, 0, 0)');
      assert.match(colours.bg, /^rgb\(255, 255, 255\)$|^rgba\(0, 0, 0, 0\)$/);
      assert.ok(colours.token, 'the playbook has highlighted code');
      // The same token on screen in light mode has the colour it printed with.
      await page.emulateMedia({ media: 'screen', colorScheme: 'light' });
      await page.evaluate(() => { delete document.documentElement.dataset.theme; });
      const light = await page.evaluate(() => getComputedStyle(document.querySelector('pre.code [class^="hl-"]')).color);
      assert.equal(colours.token, light);
    } finally {
      await context.close();
    }
  });
}
