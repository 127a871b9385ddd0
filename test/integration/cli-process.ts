/**
 * Helpers for integration tests that run the real `drogulus` command as child
 * processes on 127.0.0.1: one-shot commands, and long-running nodes that can
 * be signalled or SIGKILLed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
export const PASSPHRASE = 'correct horse battery staple';

/**
 * A block of `size` ports for one test file, picked at random in 22000–31999
 * (below Linux's ephemeral range) so that two runs of the suite on one machine,
 * or a stray process, rarely meet.
 */
export const portBlock = (size: number): number => 22_000 + Math.floor(Math.random() * (Math.floor(10_000 / size) - 1)) * size;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

const baseEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, DROGULUS_PASSPHRASE: PASSPHRASE, FORCE_COLOR: '0', ...extra });

/** Runs `drogulus ARGS` to completion (bounded by timeoutMs). */
export const runCli = (args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: options.env ?? baseEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`drogulus ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms`));
    }, options.timeoutMs ?? 60_000);
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolvePromise({ code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });

export interface NodeProcess {
  readonly index: number;
  readonly dataDir: string;
  readonly port: number;
  readonly apiPort: number;
  readonly api: string;
  readonly publicKey: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `drogulus start` and resolves once it has printed its identity line. */
export const startNodeProcess = (options: { index: number; dataDir: string; port: number; apiPort: number; bootstrap?: string; extraArgs?: string[]; env?: NodeJS.ProcessEnv }): Promise<NodeProcess> =>
  new Promise((resolvePromise, reject) => {
    const args = ['start', '--data-dir', options.dataDir, '--host', '127.0.0.1', '--port', String(options.port), '--api-port', String(options.apiPort), '--json', '--log-level', 'warn', ...(options.bootstrap ? ['--bootstrap', options.bootstrap] : []), ...(options.extraArgs ?? [])];
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: options.env ?? baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      if (!started) {
        child.kill('SIGKILL');
        reject(new Error(`node ${options.index} did not start within 30 s: ${stderr}`));
      }
    }, 30_000);
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      stdout += b.toString();
      const line = stdout.split('\n')[0];
      if (!started && stdout.includes('\n')) {
        started = true;
        clearTimeout(timer);
        try {
          const info = JSON.parse(line) as { public_key: string };
          resolvePromise({ ...options, api: `http://127.0.0.1:${options.apiPort}`, publicKey: info.public_key, child, exited, output: () => stdout + stderr });
        } catch {
          reject(new Error(`node ${options.index} printed no identity line: ${stdout} ${stderr}`));
        }
      }
    });
    void exited.then((code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`node ${options.index} exited with ${code} before starting: ${stderr}`));
      }
    });
  });

export const tempDir = (prefix: string): { path: string; remove: () => void } => {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
};

/** Polls `check` until it returns true, for at most `timeoutMs` (state in other processes, not timing). */
export const waitFor = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

export const fetchJson = async (url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> => {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};
