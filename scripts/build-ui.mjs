#!/usr/bin/env node
/**
 * Builds the web UI: src/api/ui/main.ts and app.css bundled by esbuild into
 * dist/ui/app.js and app.css, and index.html copied there with each asset's
 * URL carrying its content version (?v=, the first 16 hex of its SHA-256, as
 * src/api/routes/ui.ts computes it), so the node can let browsers cache them
 * for good. `npm run build:ui`; `npm run build` and `npm start` run it too.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/api/ui');
const out = join(root, 'dist/ui');

const version = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

export const buildUi = async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const common = { bundle: true, minify: true, sourcemap: 'linked', legalComments: 'none', logLevel: 'warning', target: ['chrome111', 'firefox111', 'safari16.4'] };
  await build({ ...common, entryPoints: [join(source, 'main.ts')], outfile: join(out, 'app.js'), format: 'esm', platform: 'browser' });
  await build({ ...common, entryPoints: [join(source, 'app.css')], outfile: join(out, 'app.css') });

  const js = readFileSync(join(out, 'app.js'));
  const css = readFileSync(join(out, 'app.css'));
  let html = readFileSync(join(source, 'index.html'), 'utf8');
  for (const [name, bytes] of [['app.js', js], ['app.css', css]]) {
    const url = `/ui/${name}`;
    if (!html.includes(`"${url}"`)) throw new Error(`src/api/ui/index.html does not refer to ${url}`);
    html = html.replaceAll(`"${url}"`, `"${url}?v=${version(bytes)}"`);
  }
  writeFileSync(join(out, 'index.html'), html);
  return { dir: out, files: { 'app.js': js.length, 'app.css': css.length, 'index.html': Buffer.byteLength(html) } };
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { dir, files } = await buildUi();
  const sizes = Object.entries(files).map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KiB`).join(', ');
  process.stdout.write(`web UI built in ${relative(process.cwd(), dir) || '.'}: ${sizes}\n`);
}
