/**
 * The bounded fuzz run of CI: `npm run fuzz:ci` runs each harness (codec,
 * seal, handlers) for at most 20,000 inputs or 12 seconds, from a fixed seed,
 * and fails when any input breaks a property, throws or hangs. A failing input
 * is saved in fuzz/crashes/ with its stack; `npx tsx fuzz/run.ts <harness>
 * --repro <file>` replays it.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface Summary {
  readonly harness: string;
  readonly runs: number;
  readonly seconds: number;
  readonly coverageFeatures?: number;
  readonly failures?: ReadonlyArray<{ readonly signature: string; readonly file: string; readonly count: number }>;
  readonly hang?: string;
}

const runFuzzCi = (): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> =>
  new Promise((done) => {
    const child = spawn('npm', ['run', '--silent', 'fuzz:ci'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });

describe('the bounded fuzz run (npm run fuzz:ci)', () => {
  it('finds no failure, exception or hang in any harness', async () => {
    const { code, signal, stdout, stderr } = await runFuzzCi();
    const summaries = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Summary & { summary?: boolean })
      .filter((s) => s.summary);
    const found = summaries.flatMap((s) => [
      ...(s.failures ?? []).map((f) => `${s.harness}: ${f.signature} (${f.count}x; input ${f.file})`),
      ...(s.hang ? [`${s.harness}: hang on ${s.hang}`] : []),
    ]);
    const log = stderr.split('\n').filter((l) => /DONE|FAILURE|HANG|seed/.test(l)).join('\n');
    expect(found, `fuzz:ci found:\n${found.join('\n')}\n${log}`).toEqual([]);
    expect(summaries.map((s) => s.harness).sort(), log).toEqual(['codec', 'handlers', 'seal']);
    for (const s of summaries) expect(s.runs, `${s.harness} ran too few inputs`).toBeGreaterThan(200);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 120_000);
});
