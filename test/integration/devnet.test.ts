/**
 * `npm start` runs `drogulus devnet`; the commands it prints must work exactly
 * as printed. This runs a small devnet on its own ports, runs each printed
 * command in a shell, and stops the devnet with SIGINT.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portBlock, ROOT } from './cli-process.js';

const BASE_PORT = portBlock(16);

const run = promisify(execFile);
let devnet: ChildProcess;
let exited: Promise<number | null>;
let info: { commands: string[]; nodes: Array<{ public_key: string; api: string }> };

describe('the devnet that npm start runs', () => {
  beforeAll(async () => {
    devnet = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'devnet', '--nodes', '5', '--base-port', String(BASE_PORT), '--api-port', String(BASE_PORT + 10), '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((r) => devnet.on('exit', (code) => r(code)));
    let stdout = '';
    let stderr = '';
    devnet.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    info = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`devnet did not start within 60 s: ${stderr}`)), 60_000);
      devnet.stdout!.on('data', (b: Buffer) => {
        stdout += b.toString();
        if (stdout.includes('\n')) {
          clearTimeout(timer);
          resolve(JSON.parse(stdout.split('\n')[0]));
        }
      });
      void exited.then((code) => reject(new Error(`devnet exited with ${code}: ${stderr}`)));
    });
  }, 90_000);

  afterAll(async () => {
    if (devnet.exitCode === null) devnet.kill('SIGKILL');
    await exited;
  });

  it('prints set, get and whois commands that work as printed', async () => {
    const [set, get, whois, peers, status] = info.commands;
    expect(set).toMatch(/ set greeting /);
    const setResult = await run('bash', ['-c', set], { cwd: ROOT });
    expect(setResult.stdout).toMatch(/stored on \d+ of \d+ nodes/);
    const getResult = await run('bash', ['-c', get], { cwd: ROOT });
    expect(getResult.stdout).toBe('hello, drogulus\n');
    const whoisResult = await run('bash', ['-c', whois], { cwd: ROOT });
    expect(whoisResult.stdout).toMatch(/devnet node 0/);
    expect((await run('bash', ['-c', peers], { cwd: ROOT })).stdout.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(4);
    expect((await run('bash', ['-c', status], { cwd: ROOT })).stdout).toMatch(new RegExp(info.nodes[0].public_key));
  }, 90_000);

  it('stops on SIGINT with exit code 0', async () => {
    devnet.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 30_000);
});
