/**
 * The real `drogulus` command run inside a test host's network namespace with
 * `ip netns exec` (which execs, so the child's pid is the node's own): nodes
 * that can be SIGKILLed and restarted, and one-shot client commands. A node's
 * API listens on 127.0.0.1 of its namespace, so only commands run in that
 * namespace reach it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CliResult, PASSPHRASE, ROOT } from '../../integration/cli-process.js';
import { formatImpairment, type Impairment } from './impairment.js';
import { type Host, IP } from './netns.js';

const MAIN = join(ROOT, 'src/cli/main.ts');
const PRELOAD = pathToFileURL(join(import.meta.dirname, 'impair-preload.ts')).href;
export const DHT_PORT = 1908;
export const API_PORT = 1909;
export const API = `http://127.0.0.1:${API_PORT}`;

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, DROGULUS_PASSPHRASE: PASSPHRASE, FORCE_COLOR: '0', ...extra });

const spawnInNs = (host: Host, nodeArgs: readonly string[], extraEnv?: NodeJS.ProcessEnv, stdin: 'pipe' | 'ignore' = 'ignore'): ChildProcess =>
  spawn(IP, ['netns', 'exec', host.ns, process.execPath, ...nodeArgs], { cwd: ROOT, env: env(extraEnv), stdio: [stdin, 'pipe', 'pipe'] });

const collect = (child: ChildProcess, timeoutMs: number, what: string): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });

/** Runs `drogulus ARGS` in the host's namespace to completion. */
export const cliIn = (host: Host, args: readonly string[], timeoutMs = 60_000): Promise<CliResult> =>
  collect(spawnInNs(host, ['--import', 'tsx', MAIN, ...args]), timeoutMs, `drogulus ${args.join(' ')} on host ${host.index}`);

const FETCH_SCRIPT = `
const requests = JSON.parse(process.env.CHAOS_REQUESTS);
(async () => {
  const answers = [];
  for (const { path, headers } of requests) {
    try {
      const response = await fetch('${API}' + path, { headers });
      answers.push({ status: response.status, body: await response.text() });
    } catch {
      answers.push({ status: 0, body: '' });
    }
  }
  process.stdout.write(JSON.stringify(answers));
})();`;

export interface ApiAnswer {
  /** 0 when the API did not answer. */
  readonly status: number;
  readonly body: string;
}

/**
 * GETs paths of the node's API one after another, from a plain \`node\` in the
 * host's namespace: no tsx, a tenth of the CLI's start-up cost, for polling
 * and for load.
 */
export const apiGetsIn = async (host: Host, requests: ReadonlyArray<{ path: string; headers?: Record<string, string> }>, timeoutMs = 120_000): Promise<ApiAnswer[]> => {
  const result = await collect(spawnInNs(host, ['-e', FETCH_SCRIPT], { CHAOS_REQUESTS: JSON.stringify(requests) }), timeoutMs, `API requests on host ${host.index}`);
  if (result.code !== 0) throw new Error(`API requests on host ${host.index} exited with ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as ApiAnswer[];
};

/** The node's status; undefined while its API does not answer. */
export const statusIn = async (host: Host): Promise<{ peers: number; items: number } | undefined> => {
  const [answer] = await apiGetsIn(host, [{ path: '/api/v1/status' }], 15_000);
  return answer.status === 200 ? (JSON.parse(answer.body) as { peers: number; items: number }) : undefined;
};

export interface HostNode {
  readonly host: Host;
  readonly publicKey: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly startedAtMs: number;
  output(): string;
}

export interface StartOptions {
  readonly dataDir: string;
  readonly bootstrap?: string;
  readonly impairment?: Impairment;
  /** Where the impairment writes its counters. */
  readonly statsDir?: string;
  /** Impair only while this file exists. */
  readonly impairWhile?: string;
}

/** Starts `drogulus start` on the host's address; resolves once it has printed its identity line. */
export const startIn = (host: Host, options: StartOptions): Promise<HostNode> =>
  new Promise((resolve, reject) => {
    const args = ['start', '--data-dir', options.dataDir, '--host', host.address, '--port', String(DHT_PORT), '--api-host', '127.0.0.1', '--api-port', String(API_PORT), '--json', '--log-level', 'warn', ...(options.bootstrap ? ['--bootstrap', options.bootstrap] : [])];
    const impair = options.impairment
      ? { DROGULUS_CHAOS_IMPAIR: formatImpairment(options.impairment), DROGULUS_CHAOS_IMPAIR_STATS: options.statsDir, DROGULUS_CHAOS_IMPAIR_WHILE: options.impairWhile }
      : {};
    const child = spawnInNs(host, ['--import', 'tsx', ...(options.impairment ? ['--import', PRELOAD] : []), MAIN, ...args], impair);
    let stdout = '';
    let stderr = '';
    let started = false;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      if (started) return;
      child.kill('SIGKILL');
      reject(new Error(`node on host ${host.index} did not start within 60 s: ${stderr}`));
    }, 60_000);
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (started || !stdout.includes('\n')) return;
      started = true;
      clearTimeout(timer);
      try {
        const info = JSON.parse(stdout.split('\n')[0]) as { public_key: string };
        resolve({ host, publicKey: info.public_key, child, exited, startedAtMs: Date.now(), output: () => stdout + stderr });
      } catch {
        reject(new Error(`node on host ${host.index} printed no identity line: ${stdout} ${stderr}`));
      }
    });
    void exited.then((code) => {
      if (started) return;
      clearTimeout(timer);
      reject(new Error(`node on host ${host.index} exited with ${code} before starting: ${stderr}`));
    });
  });
