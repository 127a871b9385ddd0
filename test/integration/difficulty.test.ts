/**
 * The Sybil puzzle from the command line: `keygen --difficulty` grinds a key
 * that meets it, `start --difficulty` refuses a key that does not, and two
 * nodes that agree on a difficulty form a network through which a value
 * travels.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { puzzleBits } from '../../src/crypto/puzzle.js';
import { fetchJson, type NodeProcess, portBlock, runCli, startNodeProcess, tempDir, waitFor } from './cli-process.js';

const DIFFICULTY = 6;
const root = tempDir('drogulus-difficulty-');
const started: NodeProcess[] = [];
const BASE = portBlock(8);

afterAll(async () => {
  for (const n of started) n.child.kill('SIGKILL');
  await Promise.all(started.map((n) => n.exited));
  root.remove();
});

const keygen = async (dir: string, difficulty?: number): Promise<{ node_id: string; attempts: number }> => {
  const made = await runCli(['keygen', '--data-dir', dir, '--json', ...(difficulty === undefined ? [] : ['--difficulty', String(difficulty)])]);
  expect(made.code, made.stderr).toBe(0);
  return JSON.parse(made.stdout) as { node_id: string; attempts: number };
};

describe('the Sybil puzzle on the command line', () => {
  it('keygen --difficulty makes a key whose node id meets it', async () => {
    const made = await keygen(join(root.path, 'ground'), DIFFICULTY);
    expect(puzzleBits(Buffer.from(made.node_id, 'hex'))).toBeGreaterThanOrEqual(DIFFICULTY);
    expect(made.attempts).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('start --difficulty refuses a key below it, with exit code 2 and how to make one', async () => {
    const dir = join(root.path, 'weak');
    const made = await keygen(dir);
    const above = puzzleBits(Buffer.from(made.node_id, 'hex')) + 1;
    const result = await runCli(['start', '--data-dir', dir, '--host', '127.0.0.1', '--port', String(BASE), '--api-port', String(BASE + 1), '--difficulty', String(above)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`keygen --difficulty ${above}`);
  }, 30_000);

  it('refuses a difficulty out of range', async () => {
    const result = await runCli(['keygen', '--data-dir', join(root.path, 'bad'), '--difficulty', '65']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--difficulty/);
  }, 30_000);

  it('lets two nodes with ground keys and the same difficulty form a network', async () => {
    const dirs = [join(root.path, 'ground'), join(root.path, 'ground-2')];
    await keygen(dirs[1], DIFFICULTY);
    const extraArgs = ['--difficulty', String(DIFFICULTY)];
    const first = await startNodeProcess({ index: 0, dataDir: dirs[0], port: BASE + 2, apiPort: BASE + 3, extraArgs });
    started.push(first);
    const second = await startNodeProcess({ index: 1, dataDir: dirs[1], port: BASE + 4, apiPort: BASE + 5, extraArgs, bootstrap: `127.0.0.1:${BASE + 2}` });
    started.push(second);
    await waitFor('the nodes to know each other', async () => ((await fetchJson(`${first.api}/api/v1/status`)).body as { peers: number }).peers === 1);
    const set = await runCli(['set', 'puzzle', 'solved', '--data-dir', dirs[0], '--api', first.api, '--json']);
    expect(set.code, set.stderr).toBe(0);
    const got = await runCli(['get', first.publicKey, 'puzzle', '--fresh', '--api', second.api]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('solved\n');
  }, 60_000);
});
