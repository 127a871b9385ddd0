/**
 * A real node assembled in-process (UDP/TCP on 127.0.0.1, SQLite, system
 * clock): it keeps trying to join until a seed that was down comes up, and it
 * saves a changed routing table on its own, so a node killed without a stop
 * restarts from the contacts it had.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runNode, type RunningNode } from '../../src/cli/run-node.js';
import { FILES } from '../../src/cli/data-dir.js';
import { Identity } from '../../src/crypto/identity.js';
import { SqliteItemStore } from '../../src/storage/sqlite-item-store.js';
import { portBlock, tempDir, waitFor } from './cli-process.js';

const running: RunningNode[] = [];
const dirs: Array<{ path: string; remove: () => void }> = [];

/** A node and the messages it logged, so a test can wait for what the node says it did. */
const start = async (port: number, identity = Identity.generate(), dataDir?: string): Promise<{ node: RunningNode; dataDir: string; logged: string[] }> => {
  let path = dataDir;
  if (path === undefined) {
    const dir = tempDir('drogulus-run-node-');
    dirs.push(dir);
    path = dir.path;
  }
  const logged: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logged.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  const node = await runNode({ identity, dataDir: path, host: '127.0.0.1', port, apiHost: '127.0.0.1', apiPort: undefined, apiToken: 'unused', logger: pino({ level: 'info' }, sink) });
  running.push(node);
  return { node, dataDir: path, logged };
};

afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  for (const d of dirs.splice(0)) d.remove();
});

describe('runNode', () => {
  it('keeps trying to join until a seed that was down at start answers', async () => {
    const seedPort = portBlock(4);
    const seedIdentity = Identity.generate();
    const joiner = await start(seedPort + 1);
    let settled = false;
    const joining = joiner.node.keepJoining([{ host: '127.0.0.1', port: seedPort, publicKey: seedIdentity.publicKey }]).finally(() => {
      settled = true;
    });
    // The first ping times out (nobody on the port); only then does the seed come up.
    await waitFor('the first join attempt to fail', () => joiner.logged.some((m) => m.startsWith('could not join yet')), 15_000);
    expect(settled).toBe(false);
    const seed = await start(seedPort, seedIdentity);
    const result = await joining;
    expect(result?.source).toBe('bootstrap');
    expect(joiner.node.node.table.size).toBe(1);
    await waitFor('the seed to learn the joiner', () => seed.node.node.table.size === 1);
  }, 40_000);

  it('keeps retrying after a restart whose saved contacts are all gone, though they are still in its table', async () => {
    const port = portBlock(4);
    const seed = await start(port);
    const identity = Identity.generate();
    const first = await start(port + 1, identity);
    await first.node.join([{ host: '127.0.0.1', port, publicKey: seed.node.node.publicKey }]);
    await first.node.stop();
    await seed.node.stop();
    const again = await start(port + 1, identity, first.dataDir);
    let settled = false;
    const joining = again.node.keepJoining().finally(() => {
      settled = true;
    });
    await waitFor('a second attempt to fail', () => again.logged.filter((m) => m.startsWith('could not join yet')).length >= 2, 15_000);
    expect(again.node.node.table.size).toBe(1);
    expect(settled).toBe(false);
    await again.node.stop();
    expect(await joining).toBeUndefined();
  }, 40_000);

  it('resolves with nothing when the node stops before any attempt succeeds', async () => {
    const port = portBlock(4);
    const { node: lonely } = await start(port);
    const joining = lonely.keepJoining([{ host: '127.0.0.1', port: port + 1, publicKey: Identity.generate().publicKey }]);
    await lonely.stop();
    expect(await joining).toBeUndefined();
  }, 20_000);

  it('saves a routing table that changed without being stopped', async () => {
    const port = portBlock(4);
    const seed = await start(port);
    const { node: joiner } = await start(port + 1);
    expect(await joiner.join([{ host: '127.0.0.1', port, publicKey: seed.node.node.publicKey }])).toMatchObject({ contacts: 1 });
    // The seed learnt the joiner from its requests: no stop and no join on the seed's side wrote its table.
    const savedContacts = (): number => {
      const store = SqliteItemStore.open(join(seed.dataDir, FILES.database), { readonly: true });
      try {
        return store.loadTable()?.contacts.length ?? 0;
      } finally {
        store.close();
      }
    };
    await waitFor('the seed to save the joiner in its table', () => savedContacts() === 1, 15_000);
  }, 30_000);
});
