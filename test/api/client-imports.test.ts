/**
 * The client (`drogulus/client`) runs in browsers: nothing it imports, at any
 * depth, may be a Node built-in or a package. Type-only imports vanish at
 * build time and do not count.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** The modules a file imports at run time (not `import type`, not `export type`). */
const runtimeImports = (text: string): string[] =>
  [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]);

const closure = (entry: string): Map<string, string[]> => {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const specs = runtimeImports(readFileSync(file, 'utf8'));
    seen.set(file, specs);
    for (const spec of specs) if (spec.startsWith('.')) visit(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
  };
  visit(entry);
  return seen;
};

describe('the client library', () => {
  it('imports no Node built-in and no package, directly or through what it imports', () => {
    const files = closure(resolve(SRC, 'api/client.ts'));
    expect([...files.keys()].map((f) => relative(SRC, f))).toEqual(expect.arrayContaining(['api/client.ts', 'api/live-client.ts', 'api/errors.ts']));
    const outside = [...files].flatMap(([file, specs]) => specs.filter((s) => !s.startsWith('.')).map((s) => `${relative(SRC, file)} imports ${s}`));
    expect(outside).toEqual([]);
  });
});
