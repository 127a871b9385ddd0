/**
 * Where a simulator report came from: the commit and whether the worktree had
 * uncommitted changes, the package and Node versions, the machine, the date,
 * and the exact command with its resolved parameters and seed. Figures are
 * reproducible from the seed only with the same code, so a report names it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { PACKAGE_VERSION } from '../protocol/version.js';

export interface Provenance {
  /** Commit of HEAD, or null outside a git checkout. */
  readonly git_commit: string | null;
  /** Tracked files differ from HEAD (untracked files are not counted); null outside a git checkout. */
  readonly git_dirty: boolean | null;
  readonly package_version: string;
  readonly node_version: string;
  readonly platform: string;
  readonly cpu_model: string;
  readonly cpu_cores: number;
  readonly memory_bytes: number;
  /** ISO 8601, when the run started. */
  readonly date: string;
  /** The command line as run, arguments quoted for a POSIX shell where needed. */
  readonly command: string;
  /** The parameters after defaults were applied. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  /** Hash of the library's source files the command ran from (see sourceFingerprint). */
  readonly source: string;
}

const git = (cwd: string, args: readonly string[]): string | null => {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};

/** A word as a POSIX shell reads it back. */
export const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * Which code produced the figures: a hash of every .ts and .js file under
 * `root` (the node code changes under a running project; a report should say
 * which version it measured, even from a dirty worktree).
 */
export const sourceFingerprint = (root: string): string => {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|js)$/.test(name)) hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(root);
  return hash.digest('hex').slice(0, 16);
};

export interface ProvenanceInput {
  /** The library's source directory (hashed) and where git is asked. */
  readonly sourceRoot: string;
  readonly argv: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly date?: Date;
}

export const provenance = (input: ProvenanceInput): Provenance => {
  const commit = git(input.sourceRoot, ['rev-parse', 'HEAD']);
  const status = commit === null ? null : git(input.sourceRoot, ['status', '--porcelain', '--untracked-files=no']);
  const cpus = os.cpus();
  return {
    git_commit: commit,
    git_dirty: status === null ? null : status.length > 0,
    package_version: PACKAGE_VERSION,
    node_version: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cpu_cores: cpus.length,
    memory_bytes: os.totalmem(),
    date: (input.date ?? new Date()).toISOString(),
    command: ['drogulus', ...input.argv].map(shellQuote).join(' '),
    params: Object.fromEntries(Object.entries(input.params).filter(([, v]) => v !== undefined)),
    seed: input.seed,
    source: sourceFingerprint(input.sourceRoot),
  };
};

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The chart with its provenance as an SVG <metadata> element (JSON) after the opening tag, and a one-line footer naming commit and command. */
export const stampSvg = (svg: string, origin: Provenance): string => {
  const open = svg.indexOf('>', svg.indexOf('<svg'));
  if (open < 0) throw new Error('not an SVG document');
  const commit = origin.git_commit ? `${origin.git_commit.slice(0, 12)}${origin.git_dirty ? '+dirty' : ''}` : 'no git';
  const metadata = `\n<metadata id="provenance">${escapeXml(JSON.stringify(origin))}</metadata>`;
  const close = svg.lastIndexOf('</svg>');
  const footer = `<text x="4" y="${footerY(svg)}" font-size="9" fill="#888">${escapeXml(`${commit} · ${origin.command}`)}</text>\n`;
  return `${svg.slice(0, open + 1)}${metadata}${svg.slice(open + 1, close)}${footer}${svg.slice(close)}`;
};

const footerY = (svg: string): number => {
  const height = /<svg[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg);
  return height ? Number(height[1]) - 4 : 12;
};
