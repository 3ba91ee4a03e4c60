// Helpers for scalebook's browser tests: a system Chromium driven by playwright-core, and a tiny
// static file server on 127.0.0.1. A browser test that cannot find a browser fails; it never skips.
import { existsSync, statSync, createReadStream, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '..', '..');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Path of the Chromium binary: $CHROMIUM or /usr/bin/chromium. Throws a clear error when missing. */
export function chromiumPath() {
  const path = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `browser tests need Chromium, and \`${path}\` does not exist.\n` +
      `  install it: apt-get update && apt-get install -y chromium\n` +
      `  or point CHROMIUM=/path/to/chromium at another build.`);
  }
  return path;
}

export async function launch() {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8',
};

/**
 * Serve `root` on 127.0.0.1 with an ephemeral port; a directory serves its index.html.
 * `mounts` maps URL prefixes (e.g. '/theme/') to other folders. Returns {url, close()}.
 */
export async function serve(root, mounts = {}) {
  const server = createServer((req, res) => {
    let path;
    try { path = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { res.writeHead(400).end(); return; }
    let base = root;
    let rel = path;
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (path.startsWith(prefix)) { base = dir; rel = path.slice(prefix.length - 1); break; }
    }
    let file = normalize(join(base, rel));
    if (file !== base && !file.startsWith(base.endsWith(sep) ? base : base + sep)) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) {
      if (!path.endsWith('/')) { res.writeHead(301, { location: path + '/' }).end(); return; }
      file = join(file, 'index.html');
    }
    if (!existsSync(file) || !statSync(file).isFile()) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(0, '127.0.0.1', ok); });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

/**
 * The site under test: $SCALEBOOK_SITE (a built site) when set, else the hand-written fixture
 * site in tests/browser/fixture-site with /theme/ served from the repository's theme/.
 */
export function site() {
  if (process.env.SCALEBOOK_SITE) {
    const root = resolve(process.env.SCALEBOOK_SITE);
    if (!existsSync(root)) throw new Error(`SCALEBOOK_SITE=${root} does not exist: build the site first`);
    // 404.html links its assets from the site's base path (it is served at any depth), so a
    // site built for https://host/runbooks/ is also mounted at /runbooks/ for those to load.
    const notFound = join(root, '404.html');
    const m = existsSync(notFound) && /href="(\/[^"]*?\/)theme\//.exec(readFileSync(notFound, 'utf8'));
    return { root, mounts: m && m[1] !== '/' ? { [m[1]]: root } : {} };
  }
  return { root: join(here, 'fixture-site'), mounts: { '/theme/': join(REPO, 'theme') } };
}
