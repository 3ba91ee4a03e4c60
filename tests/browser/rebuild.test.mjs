// A run survives a real rebuild: tick steps, delete one of them from the markdown, build the
// site again with the scalebook binary, reload, and the ticked step is still in the run,
// listed as removed from the playbook. (checklist.test.mjs simulates the same edit on the
// served HTML; this test goes through the real build.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve, REPO } from './lib.mjs';

const PAGE = 'traffic-surges/absorb-a-spike/';
const SOURCE = 'playbooks/traffic-surges/absorb-a-spike.md';
const STEP_LINE = '- [ ] Declare the incident and name a single incident commander.';

let browser;
let server;
let dir;

/** Builds `dir` into `dir/public` with $SCALEBOOK_BIN, or with `cargo run` from the repository. */
function build() {
  const args = ['build', '--root', dir, '--out', join(dir, 'public'), '--no-cache', '--quiet'];
  const [cmd, argv] = process.env.SCALEBOOK_BIN
    ? [process.env.SCALEBOOK_BIN, args]
    : ['cargo', ['run', '-q', '--', ...args]];
  return new Promise((ok, fail) => {
    execFile(cmd, argv, { cwd: REPO, maxBuffer: 64 << 20 }, (err, _out, stderr) =>
      err ? fail(new Error(`scalebook build failed: ${err.message}\n${stderr}`)) : ok());
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scalebook-rebuild-test-'));
  cpSync(join(REPO, 'playbooks'), join(dir, 'playbooks'), { recursive: true });
  cpSync(join(REPO, 'scalebook.toml'), join(dir, 'scalebook.toml'));
  await build();
  browser = await launch();
  server = await serve(join(dir, 'public'));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a ticked step deleted from the markdown stays in the run after a rebuild', async () => {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(PAGE);
  const data = await page.evaluate(() => JSON.parse(document.getElementById('sb-page-data').textContent));
  const gone = data.steps.find((s) => STEP_LINE.endsWith(s.text));
  assert.ok(gone, 'the step to delete is on the page');
  const kept = data.steps.find((s) => s.id !== gone.id);
  await page.locator(`[id="cb-${gone.id}"]`).check();
  await page.locator(`[id="cb-${kept.id}"]`).check();

  const md = readFileSync(join(dir, SOURCE), 'utf8');
  assert.ok(md.includes(STEP_LINE + '\n'));
  writeFileSync(join(dir, SOURCE), md.replace(STEP_LINE + '\n', ''));
  await build();
  await page.reload();

  const after = await page.evaluate(() => JSON.parse(document.getElementById('sb-page-data').textContent));
  assert.equal(after.steps.length, data.steps.length - 1, 'the rebuilt page lost exactly that step');
  assert.equal(await page.locator(`[id="cb-${gone.id}"]`).count(), 0);
  assert.equal(await page.locator(`[id="cb-${kept.id}"]`).isChecked(), true, 'other ticks survive');
  const removed = page.getByRole('region', { name: 'Removed from the playbook since this run started' });
  assert.equal(await removed.isVisible(), true);
  assert.match(await removed.locator(`li[data-step="${gone.id}"]`).textContent(), /Declare the incident/);
  assert.equal(await page.locator('#sb-progress-label').textContent(), `Overall 1/${after.steps.length}`);
  assert.deepEqual(errors, []);
  await context.close();
});
