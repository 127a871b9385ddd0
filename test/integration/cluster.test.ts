/**
 * Twelve `drogulus start` processes on 127.0.0.1, each with its own data dir:
 * set on one, get from others; SIGKILL a third of them, the publisher among
 * them, and the item is still found; a restarted node still holds its items
 * and rejoins without bootstrap; key files interoperate with openssl; a wrong
 * passphrase and a missing token are refused.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, type NodeProcess, PASSPHRASE, portBlock, runCli, startNodeProcess, tempDir, waitFor } from './cli-process.js';

const COUNT = 12;
const BASE_PORT = portBlock(64);
const BASE_API = BASE_PORT + 20;
const root = tempDir('drogulus-cluster-');
const nodes: Array<NodeProcess | undefined> = [];
const dataDir = (i: number): string => join(root.path, `node-${i}`);
const peersOf = async (node: NodeProcess): Promise<number> => {
  const { body } = await fetchJson(`${node.api}/api/v1/status`);
  return (body as { peers: number }).peers;
};
const VALUE = 'hello, drogulus\nwith a newline ✓ and trailing spaces  ';

describe('a cluster of drogulus processes', () => {
  beforeAll(async () => {
    for (let i = 0; i < COUNT; i += 4) {
      const batch = await Promise.all([0, 1, 2, 3].filter((j) => i + j < COUNT).map((j) => runCli(['keygen', '--data-dir', dataDir(i + j), '--json'])));
      for (const r of batch) expect(r.code, r.stderr).toBe(0);
    }
    nodes[0] = await startNodeProcess({ index: 0, dataDir: dataDir(0), port: BASE_PORT, apiPort: BASE_API });
    const started = await Promise.all(
      Array.from({ length: COUNT - 1 }, (_, k) => k + 1).map((i) => startNodeProcess({ index: i, dataDir: dataDir(i), port: BASE_PORT + i, apiPort: BASE_API + i, bootstrap: `127.0.0.1:${BASE_PORT}` })),
    );
    for (const n of started) nodes[n.index] = n;
    for (const n of nodes) await waitFor(`node ${n!.index} to know peers`, async () => (await peersOf(n!)) >= 3);
  }, 180_000);

  afterAll(async () => {
    for (const n of nodes) n?.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n?.exited));
    root.remove();
  });

  it('gets from other nodes, byte for byte, a value set on one', async () => {
    const set = await runCli(['set', 'greeting', VALUE, '--data-dir', dataDir(3), '--api', nodes[3]!.api, '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).stored).toBeGreaterThanOrEqual(COUNT - 2);
    for (const i of [5, 7, 10]) {
      const got = await runCli(['get', nodes[3]!.publicKey, 'greeting', '--api', nodes[i]!.api]);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdoutBytes.equals(Buffer.from(`${VALUE}\n`, 'utf8'))).toBe(true);
    }
  }, 60_000);

  it('reports a missing item with exit code 1', async () => {
    const got = await runCli(['get', nodes[3]!.publicKey, 'no-such-name', '--api', nodes[4]!.api]);
    expect(got.code).toBe(1);
  }, 30_000);

  it('refuses a write without the API token with 401, storing nothing', async () => {
    const before = (await fetchJson(`${nodes[1]!.api}/api/v1/status`)).body as { items: number };
    const response = await fetchJson(`${nodes[1]!.api}/api/v1/items/intruder`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'x' }) });
    expect(response.status).toBe(401);
    const after = (await fetchJson(`${nodes[1]!.api}/api/v1/status`)).body as { items: number };
    expect(after.items).toBe(before.items);
    const wrong = await fetchJson(`${nodes[1]!.api}/api/v1/items/intruder`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' }, body: JSON.stringify({ value: 'x' }) });
    expect(wrong.status).toBe(401);
  });

  it('still finds the item after a third of the nodes, the publisher among them, are killed', async () => {
    const { body } = await fetchJson(`${nodes[6]!.api}/api/v1/status`);
    expect((body as { items: number }).items).toBeGreaterThanOrEqual(1);
    for (const i of [0, 3, 6, 9]) {
      nodes[i]!.child.kill('SIGKILL');
      await nodes[i]!.exited;
    }
    for (const i of [1, 5, 11]) {
      const got = await runCli(['get', nodes[3]!.publicKey, 'greeting', '--fresh', '--api', nodes[i]!.api]);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(`${VALUE}\n`);
    }
  }, 90_000);

  it('restarts a killed node that still holds its items and rejoins without bootstrap', async () => {
    const restarted = await startNodeProcess({ index: 6, dataDir: dataDir(6), port: BASE_PORT + 6, apiPort: BASE_API + 6 });
    nodes[6] = restarted;
    await waitFor('the restarted node to rejoin from its saved table', async () => (await peersOf(restarted)) >= 3).catch((error: Error) => {
      throw new Error(`${error.message}; the node said:\n${restarted.output()}`);
    });
    const { body } = await fetchJson(`${restarted.api}/api/v1/status`);
    expect((body as { items: number }).items).toBeGreaterThanOrEqual(1);
    const got = await runCli(['get', nodes[3]!.publicKey, 'greeting', '--api', restarted.api]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe(`${VALUE}\n`);
  }, 60_000);

  it('stops on SIGTERM with exit code 0', async () => {
    const node = nodes[2]!;
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    nodes[2] = undefined;
  }, 30_000);
});

describe('key files', () => {
  const dir = tempDir('drogulus-keys-');
  afterAll(() => dir.remove());

  it('are encrypted PKCS#8 that openssl reads with the same passphrase', async () => {
    const made = await runCli(['keygen', '--data-dir', dir.path, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const { public_key: publicKey, node_id: nodeId } = JSON.parse(made.stdout) as { public_key: string; node_id: string };
    expect(publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(nodeId).toMatch(/^[0-9a-f]{128}$/);
    const der = execFileSync('openssl', ['pkey', '-in', join(dir.path, 'node-key.pem'), '-passin', `pass:${PASSPHRASE}`, '-pubout', '-outform', 'DER']);
    expect(der.subarray(der.length - 32).toString('hex')).toBe(publicKey);
    expect(() => execFileSync('openssl', ['pkey', '-in', join(dir.path, 'node-key.pem'), '-passin', 'pass:wrong', '-noout'], { stdio: 'pipe' })).toThrow();
  }, 30_000);

  it('are not overwritten without --force', async () => {
    const again = await runCli(['keygen', '--data-dir', dir.path]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--force/);
  }, 30_000);

  it('refuse a wrong passphrase with a clear error and exit code 2', async () => {
    const result = await runCli(['start', '--data-dir', dir.path, '--port', String(BASE_PORT + 50), '--api-port', String(BASE_PORT + 51), '--host', '127.0.0.1'], { env: { ...process.env, DROGULUS_PASSPHRASE: 'not the passphrase' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/wrong passphrase/i);
  }, 30_000);
});
