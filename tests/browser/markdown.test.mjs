// The browser's run format code against the shared fixtures in tests/fixtures/runs/ (no browser).
// src/runfile.rs checks the same files, so the two implementations provably agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO } from './lib.mjs';

const require = createRequire(import.meta.url);
const sb = require(join(REPO, 'theme', 'checklist.js'));
const dir = join(REPO, 'tests', 'fixtures', 'runs');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('there are run fixtures', () => {
  assert.ok(fixtures.length >= 2, `expected run fixtures in ${dir}`);
});

for (const name of fixtures) {
  const json = readFileSync(join(dir, name), 'utf8');
  test(`markdown of ${name} equals the expected file`, () => {
    const expected = readFileSync(join(dir, name.replace(/\.json$/, '.md')), 'utf8');
    const res = sb.parseRun(json);
    assert.deepEqual(res.errors, []);
    assert.equal(sb.toMarkdown(res.run), expected);
  });
  test(`json of ${name} round-trips to the same bytes`, () => {
    assert.equal(sb.runToJson(sb.parseRun(json).run), json);
  });
}

test('invalid runs are rejected with reasons', () => {
  assert.match(sb.parseRun('{').errors[0], /not valid JSON/);
  assert.match(sb.parseRun('[]').errors[0], /not a JSON object/);
  const res = sb.parseRun(JSON.stringify({
    schema: 'scalebook-run/2', id: 'x', page: 'p/', started_at: 'yesterday',
    params: { 'bad name': 'v' }, steps: [{ id: 'a', state: 'done', at: '2024-01-01T00:00:00Z' }, { id: 'a', state: 'nope' }],
  }));
  assert.equal(res.run, null);
  const all = res.errors.join('\n');
  for (const want of ['`schema` is "scalebook-run/2"', '`started_at` is not an ISO 8601', 'param name `bad name`',
    'id `a` appears twice', '`state` must be one of', 'step 2: `at` is missing']) {
    assert.ok(all.includes(want), `missing error ${want} in:\n${all}`);
  }
});

test('substitute leaves unknown and empty params as written', () => {
  assert.equal(sb.substitute('${A}-${B}-${E}-${-}-${A', { A: 'x', E: '' }), 'x-${B}-${E}-${-}-${A');
  assert.equal(sb.substitute('$${A}}', { A: 'x' }), '$x}');
});

test('a corrupt or foreign store is set aside with a notice, valid runs are kept', () => {
  assert.match(sb.parseStore('{nope').notice, /could not be read/);
  assert.match(sb.parseStore('{"schema":"scalebook-store/9","runs":[]}').notice, /unknown format/);
  const good = sb.parseRun(readFileSync(join(dir, fixtures[0]), 'utf8')).run;
  const res = sb.parseStore(JSON.stringify({ schema: sb.STORE_SCHEMA, active: good.id, runs: [good, { junk: 1 }] }));
  assert.equal(res.store.runs.length, 1);
  assert.equal(res.store.active, good.id);
  assert.match(res.notice, /1 saved run/);
  assert.equal(sb.parseStore(null).notice, '');
});
