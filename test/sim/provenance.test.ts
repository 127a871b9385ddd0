/**
 * A simulator report says where it came from: commit, dirty flag, versions,
 * machine, date, command, parameters and seed; the charts carry the same.
 */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { provenance, shellQuote, stampSvg } from '../../src/sim/provenance.js';
import { PACKAGE_VERSION } from '../../src/protocol/version.js';

const sourceRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

const inGit = (() => {
  try {
    execFileSync('git', ['rev-parse', 'HEAD'], { cwd: sourceRoot, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('simulator provenance', () => {
  const origin = provenance({
    sourceRoot,
    argv: ['sim', '--nodes', '100', '--churn', 'weibull', '--out', 'a dir'],
    params: { nodes: 100, seed: 3, shape: undefined },
    seed: 3,
    date: new Date('2026-01-02T03:04:05Z'),
  });

  it('names the code, the versions, the machine, the date, the command, the parameters and the seed', () => {
    expect(origin.package_version).toBe(PACKAGE_VERSION);
    expect(origin.node_version).toBe(process.version);
    expect(origin.cpu_model.length).toBeGreaterThan(0);
    expect(origin.cpu_cores).toBeGreaterThanOrEqual(1);
    expect(origin.memory_bytes).toBeGreaterThan(0);
    expect(origin.platform.length).toBeGreaterThan(0);
    expect(origin.date).toBe('2026-01-02T03:04:05.000Z');
    expect(origin.command).toBe("drogulus sim --nodes 100 --churn weibull --out 'a dir'");
    expect(origin.params).toEqual({ nodes: 100, seed: 3 });
    expect(origin.seed).toBe(3);
    expect(origin.source).toMatch(/^[0-9a-f]{16}$/);
    if (inGit) {
      expect(origin.git_commit).toMatch(/^[0-9a-f]{40}$/);
      expect(typeof origin.git_dirty).toBe('boolean');
    } else {
      expect(origin.git_commit).toBeNull();
      expect(origin.git_dirty).toBeNull();
    }
  });

  it('quotes arguments so that the command can be pasted into a shell', () => {
    expect(shellQuote('--nodes')).toBe('--nodes');
    expect(shellQuote('1.4,3')).toBe('1.4,3');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });

  it('stamps a chart with its provenance as metadata and a footer, leaving it one SVG document', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="720" height="440">\n<title>t</title>\n</svg>\n';
    const stamped = stampSvg(svg, origin);
    expect(stamped.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="720" height="440">\n<metadata id="provenance">')).toBe(true);
    const metadata = /<metadata id="provenance">([^<]*)<\/metadata>/.exec(stamped)![1];
    const decoded = JSON.parse(metadata.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    expect(decoded).toEqual(origin);
    expect(stamped).toContain('y="436"');
    expect(stamped).toContain('drogulus sim --nodes 100');
    expect(stamped.trimEnd().endsWith('</svg>')).toBe(true);
    expect(stamped.match(/<svg/g)).toHaveLength(1);
    expect(() => stampSvg('not svg', origin)).toThrow();
  });
});
