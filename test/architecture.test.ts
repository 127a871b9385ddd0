/**
 * The architecture, enforced: layers depend one way (runtime → crypto →
 * protocol → routing → storage → dht → transport → sim → api → cli), and the
 * DHT core (protocol, routing, storage, dht) touches no socket, file, database,
 * clock, timer or random source except through what it is given.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');
const LAYERS = ['runtime', 'crypto', 'protocol', 'routing', 'storage', 'dht', 'transport', 'sim', 'api', 'cli'];
const CORE = new Set(['protocol', 'routing', 'storage', 'dht']);
/** Core files that implement an interface with real I/O on purpose; they live in the core folder but the core never imports them. */
const CORE_ADAPTERS = new Set(['storage/sqlite-item-store.ts', 'storage/migrations.ts']);

const FORBIDDEN_MODULES = /^(node:)?(dgram|net|tls|http|https|http2|fs|fs\/promises|child_process|worker_threads|timers|timers\/promises|os|better-sqlite3)$/;
const FORBIDDEN_CALLS: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\(\s*\)/, 'new Date()'],
  [/\bperformance\.now\s*\(/, 'performance.now()'],
  [/\bprocess\.hrtime\b/, 'process.hrtime'],
  [/(?<![.\w])setTimeout\s*\(/, 'setTimeout()'],
  [/(?<![.\w])setInterval\s*\(/, 'setInterval()'],
  [/(?<![.\w])setImmediate\s*\(/, 'setImmediate()'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\brandombytes_/, 'libsodium randomness'],
  [/\bcrypto\.random/, 'node:crypto randomness'],
];

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });

const layerOf = (path: string): string => relative(SRC, path).split('/')[0];

const imports = (text: string): string[] => [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);

/** Source text without comments, so prose about Date.now() does not count. */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

const files = sourceFiles(SRC);

describe('the architecture', () => {
  it('has every source file in a known layer folder', () => {
    const unknown = files.filter((f) => relative(SRC, f).includes('/') && !LAYERS.includes(layerOf(f)));
    expect(unknown).toEqual([]);
  });

  it('lets layers depend only on themselves and the layers below them', () => {
    const violations: string[] = [];
    for (const file of files) {
      if (!relative(SRC, file).includes('/')) continue;
      const from = LAYERS.indexOf(layerOf(file));
      for (const spec of imports(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        const rel = relative(SRC, target);
        if (!rel.includes('/')) continue;
        const to = LAYERS.indexOf(layerOf(target));
        if (to > from) violations.push(`${relative(SRC, file)} imports ${rel}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps the DHT core free of sockets, files, databases, clocks, timers and randomness', () => {
    const violations: string[] = [];
    for (const file of files) {
      const rel = relative(SRC, file);
      if (!CORE.has(layerOf(file)) || CORE_ADAPTERS.has(rel)) continue;
      const text = readFileSync(file, 'utf8');
      for (const spec of imports(text)) {
        if (FORBIDDEN_MODULES.test(spec)) violations.push(`${rel} imports ${spec}`);
        const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : '';
        if (CORE_ADAPTERS.has(target.replace(/\.js$/, '.ts'))) violations.push(`${rel} imports the adapter ${target}`);
      }
      for (const [pattern, name] of FORBIDDEN_CALLS) if (pattern.test(code(text))) violations.push(`${rel} uses ${name}`);
    }
    expect(violations).toEqual([]);
  });

  it('would catch a core module that reads the clock or opens a socket', () => {
    const offending = "import dgram from 'node:dgram';\nconst t = Date.now();\nsetTimeout(() => 1, 5);\n";
    expect(imports(offending).some((s) => FORBIDDEN_MODULES.test(s))).toBe(true);
    const hits = FORBIDDEN_CALLS.filter(([p]) => p.test(code(offending))).map(([, n]) => n);
    expect(hits).toEqual(['Date.now()', 'setTimeout()']);
    expect(FORBIDDEN_CALLS.some(([p]) => p.test(code('// Date.now() in a comment\nclock.setTimeout(f, 1);')))).toBe(false);
  });
});
