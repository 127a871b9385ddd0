/**
 * Chaos across real hosts: eight `drogulus start` processes, each in a network
 * namespace of its own with one address (10.213.N.10, one per /24, existing
 * only in the namespaces made here), on a bridge. Impairment is user-space, as
 * these kernels have no netem: lib/impair-preload.ts, loaded into each node
 * with `node --import`, drops and delays the UDP datagrams a host sends and
 * delays its TCP writes in order; tbf caps each host's rate. Items are written,
 * the hosts split into two halves, more written on both sides, a node on each
 * side SIGKILLed and restarted from its data dir alone, far items read until
 * every far contact has failed five times in a row; then the heal, and every
 * acknowledged item must be found from both halves. Skipped, saying why, where
 * namespaces cannot be made (it needs root). Figures: docs/security.md.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../integration/cli-process.js';
import { API, apiGetsIn, cliIn, DHT_PORT, type HostNode, startIn, statusIn } from './lib/host-process.js';
import type { Impairment, ImpairmentStats } from './lib/impairment.js';
import { type Host, probeNamespaces, removeStaleNamespaces, TestNetwork } from './lib/netns.js';

const HOSTS = 8;
const SIDE_A = [0, 1, 2, 3];
const SIDE_B = [4, 5, 6, 7];
/** Hosts the others join through. */
const SEEDS = [0, 1, 2];
/** One per side; host 0 is also the first seed. */
const KILLED = [0, 5];
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const IMPAIRMENT: Omit<Impairment, 'seed'> = { lossRate: 0.03, delayMs: 20, jitterMs: 15 };
const RATE_MBIT = 20;
/** Values above the 1,200-byte datagram limit go by TCP, so the stream path is exercised too. */
const LARGE_VALUE_BYTES = 3_000;
const CLI_CONCURRENCY = 4;
const GET_ATTEMPTS = 3;
/**
 * Reads of the other half's items each host makes late in the partition. Each
 * is a lookup whose request to every far contact times out: after
 * allowedRpcFails (5) in a row each far contact is stale on every host, which
 * must not cost the network its other half once the partition heals.
 */
const PARTITION_READS_PER_HOST = 5;

const capability = probeNamespaces();
if (!capability.ok) console.warn(`chaos test skipped: ${capability.reason}`);

interface Written {
  readonly name: string;
  /** The item key, from the set's answer. */
  readonly key: string;
  readonly value: string;
  readonly publisher: number;
  readonly phase: string;
  readonly exitCode: number | null;
  readonly stored: number;
  readonly attempted: number;
}

const written: Written[] = [];
const timings: Array<{ phase: string; ms: number }> = [];
const gets = { checks: 0, firstAttemptFound: 0, retriesNeeded: 0, lost: [] as string[], latenciesMs: [] as number[] };
/** Data dirs and impairment counters; made in beforeAll, so that a skipped run leaves nothing behind. */
let root: { path: string; remove: () => void } | undefined;
const statsDir = (): string => join(root!.path, 'impairment');
/** While this file exists every node impairs its traffic; it is made once the eight have joined. */
const impairing = (): string => join(root!.path, 'impairing');
const nodes: Array<HostNode | undefined> = [];
let network: TestNetwork | undefined;
let starts = 0;
let peersAfterJoin: Array<number | undefined> = [];

const dataDir = (index: number): string => join(root!.path, `host-${index}`);
const acknowledged = (): Written[] => written.filter((w) => w.exitCode === 0 && w.stored >= 1);

const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings.push({ phase, ms: Date.now() - started });
  }
};

/** Runs tasks at most `limit` at a time: every CLI call is a Node process, on two cores. */
const pool = async <T>(tasks: ReadonlyArray<() => Promise<T>>, limit = CLI_CONCURRENCY): Promise<T[]> => {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
};

const hostAt = (index: number): Host => network!.hosts[index];
const nodeAt = (index: number): HostNode => nodes[index]!;

const start = async (index: number, bootstrap?: string): Promise<HostNode> => {
  mkdirSync(statsDir(), { recursive: true });
  const node = await startIn(hostAt(index), { dataDir: dataDir(index), bootstrap, impairment: { ...IMPAIRMENT, seed: SEED * 100 + starts++ }, statsDir: statsDir(), impairWhile: impairing() });
  nodes[index] = node;
  return node;
};

const write = async (phase: string, publisher: number, name: string, large = false): Promise<Written> => {
  const value = large ? `${name}:${'λ'.repeat(LARGE_VALUE_BYTES / 2)}` : `${name} from host ${publisher} ✓`;
  const result = await cliIn(hostAt(publisher), ['set', name, value, '--data-dir', dataDir(publisher), '--api', API, '--json']);
  let stored = 0;
  let attempted = 0;
  let key = '';
  if (result.code === 0) ({ stored, attempted, key } = JSON.parse(result.stdout) as { stored: number; attempted: number; key: string });
  const record = { name, key, value, publisher, phase, exitCode: result.code, stored, attempted };
  written.push(record);
  return record;
};

const getFrom = (reader: number, item: Written) => cliIn(hostAt(reader), ['get', nodeAt(item.publisher).publicKey, item.name, '--fresh', '--api', API]);

/**
 * `get --fresh` until found, at most GET_ATTEMPTS times: one lookup may lose
 * every request that would have found the item. Not found (exit 1) is retried;
 * any other failure, or a wrong value, fails the test.
 */
const readBack = async (reader: number, item: Written): Promise<{ found: boolean; attempts: number }> => {
  for (let attempt = 1; attempt <= GET_ATTEMPTS; attempt++) {
    const started = Date.now();
    const got = await getFrom(reader, item);
    gets.latenciesMs.push(Date.now() - started);
    if (got.code === 0) {
      expect(got.stdout, `${item.name} read on host ${reader}`).toBe(`${item.value}\n`);
      return { found: true, attempts: attempt };
    }
    if (got.code !== 1) throw new Error(`get ${item.name} on host ${reader} failed with exit code ${got.code}: ${got.stderr}`);
  }
  return { found: false, attempts: GET_ATTEMPTS };
};

/** The routing table the node last saved: what a restart without bootstrap has to go on. */
const savedContacts = (index: number): number => {
  const db = new Database(join(dataDir(index), 'drogulus.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT value FROM state WHERE name = 'routing-table'").get() as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as { contacts: unknown[] }).contacts.length : 0;
  } finally {
    db.close();
  }
};

const impairmentTotals = (): ImpairmentStats => {
  const totals: ImpairmentStats = { datagrams: 0, datagramsDropped: 0, datagramDelayMs: 0, streamWrites: 0, streamDelayMs: 0 };
  for (const file of readdirSync(statsDir()).filter((f) => f.startsWith('impair-') && f.endsWith('.json'))) {
    const stats = JSON.parse(readFileSync(join(statsDir(), file), 'utf8')) as ImpairmentStats;
    for (const key of Object.keys(totals) as Array<keyof ImpairmentStats>) totals[key] += stats[key];
  }
  return totals;
};

const stopAll = (): void => {
  for (const node of nodes) node?.child.kill('SIGKILL');
};

describe.skipIf(!capability.ok)(capability.ok ? 'chaos across eight hosts in network namespaces' : `chaos across eight hosts (skipped: ${capability.reason})`, () => {
  beforeAll(async () => {
    console.log(`chaos seed ${SEED} (CHAOS_SEED=${SEED} replays each node's impairment draws)`);
    root = tempDir('drogulus-chaos-');
    const stale = removeStaleNamespaces();
    if (stale.length > 0) console.log(`removed stale namespaces: ${stale.join(', ')}`);
    await timed('network: 9 namespaces, 8 veth pairs, 2 bridges', async () => {
      network = TestNetwork.create({ prefix: `dgc-${process.pid}`, hosts: HOSTS, rateMbit: RATE_MBIT });
    });
    // A last resort if the worker exits without afterAll: no node and no namespace outlives the run.
    process.once('exit', () => {
      stopAll();
      network?.destroy();
    });
    await timed('start: keygen, 8 nodes, all joined', async () => {
      const keys = await pool(network!.hosts.map((h) => () => cliIn(h, ['keygen', '--data-dir', dataDir(h.index), '--json'])));
      for (const r of keys) expect(r.code, r.stderr).toBe(0);
      await start(0);
      await Promise.all(SEEDS.slice(1).map((i) => start(i, `${hostAt(0).address}:${DHT_PORT}`)));
      let seedPeers: Array<number | undefined> = [];
      await waitFor('the seeds to know each other', async () => {
        const statuses = await Promise.all(SEEDS.map((i) => statusIn(hostAt(i))));
        seedPeers = statuses.map((s) => s?.peers);
        return statuses.every((s) => s !== undefined && s.peers >= SEEDS.length - 1);
      }, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}: peers known by each seed ${JSON.stringify(seedPeers)}`);
      });
      const bootstrap = SEEDS.map((i) => `${hostAt(i).address}:${DHT_PORT}`).join(',');
      await Promise.all(network!.hosts.filter((h) => !SEEDS.includes(h.index)).map((h) => start(h.index, bootstrap)));
      await waitFor('every node to know at least half of the others', async () => {
        const statuses = await Promise.all(network!.hosts.map(statusIn));
        peersAfterJoin = statuses.map((s) => s?.peers);
        return statuses.every((s) => s !== undefined && s.peers >= HOSTS / 2);
      }, 60_000).catch((error: Error) => {
        throw new Error(`${error.message}: peers known by each host ${JSON.stringify(peersAfterJoin)}`);
      });
      // The chaos starts once the network has formed: `drogulus start` pings its seeds once and does not retry, so a lost Ping or Pong leaves a node alone.
      writeFileSync(impairing(), '');
    });
  }, 150_000);

  afterAll(async () => {
    stopAll();
    await Promise.all(nodes.map((n) => n?.exited));
    network?.destroy();
    try {
      const items = acknowledged();
      const sorted = [...gets.latenciesMs].sort((a, b) => a - b);
      const summary = {
        seed: SEED,
        impairment: IMPAIRMENT,
        tbfRateMbit: network?.rateCapped ? RATE_MBIT : 'not applied',
        peersAfterJoin,
        timings,
        items: { written: written.length, acknowledged: items.length, storedMin: Math.min(...items.map((w) => w.stored)), storedMax: Math.max(...items.map((w) => w.stored)) },
        gets: { ...gets, latenciesMs: undefined, medianMs: sorted[Math.floor(sorted.length / 2)], maxMs: sorted[sorted.length - 1] },
        impairmentTotals: root && readdirSync(root.path).includes('impairment') ? impairmentTotals() : undefined,
      };
      console.log(`chaos summary ${JSON.stringify(summary, null, 2)}`);
    } finally {
      root?.remove();
    }
  }, 60_000);

  it('acknowledges items written before the partition, from every host', async () => {
    await timed('write 10 items before the partition', () =>
      pool(Array.from({ length: 10 }, (_, k) => () => write('before', k % HOSTS, `before-${k}`, k === 9))),
    );
    const before = written.filter((w) => w.phase === 'before');
    for (const w of before) expect(w.exitCode, `set ${w.name} on host ${w.publisher}`).toBe(0);
    expect(before.every((w) => w.stored >= 1)).toBe(true);
  }, 120_000);

  it('splits the hosts into two halves that each keep taking writes', async () => {
    network!.partition(SIDE_B);
    expect(network!.bridges()).toEqual({ br0: SIDE_A, br1: SIDE_B });
    await timed('write 6 items during the partition, 3 per side', () =>
      pool([1, 2, 3, 5, 6, 7].map((h) => () => write('partition', h, `split-${h}`, h === 6))),
    );
    for (const w of written.filter((x) => x.phase === 'partition')) expect(w.exitCode, `set ${w.name} on host ${w.publisher}`).toBe(0);
  }, 120_000);

  it('restarts SIGKILLed nodes on both sides from their data dir alone, still holding their items', async () => {
    await timed('kill -9 and restart 2 nodes (one per side), without bootstrap', async () => {
      const held = new Map<number, number>();
      for (const index of KILLED) {
        // A restart without bootstrap has only the table saved every 30 s: wait until one holds at least the node's own half.
        await waitFor(`host ${index} to have saved its routing table`, () => savedContacts(index) >= SIDE_A.length - 1, 45_000);
        held.set(index, (await statusIn(hostAt(index)))!.items);
        nodeAt(index).child.kill('SIGKILL');
        await nodeAt(index).exited;
      }
      await Promise.all(KILLED.map((index) => start(index)));
      for (const index of KILLED) {
        await waitFor(`restarted host ${index} to answer with its items and a table`, async () => {
          const status = await statusIn(hostAt(index));
          return status !== undefined && status.items >= held.get(index)! && status.peers >= 1;
        });
      }
    });
    await timed('write 2 items on the restarted nodes, still partitioned', () => pool(KILLED.map((h) => () => write('restarted', h, `restarted-${h}`))));
    for (const w of written.filter((x) => x.phase === 'restarted')) expect(w.exitCode, `set ${w.name} on restarted host ${w.publisher}`).toBe(0);
  }, 150_000);

  it('keeps each half blind to the other while users on both sides go on reading', async () => {
    const split = written.filter((w) => w.phase !== 'before');
    const readsAcross = HOSTS * PARTITION_READS_PER_HOST;
    await timed(`read across the partition ${readsAcross} times (${PARTITION_READS_PER_HOST} per host), and within it twice`, async () => {
      // Users on both sides keep asking for what was written on the other (through the API: this is load, not the check, so no CLI
      // start-up per read). Every such read is a lookup whose requests to each far contact time out.
      const across = await Promise.all(
        network!.hosts.map(async (h) => {
          const far = split.filter((w) => SIDE_A.includes(w.publisher) !== SIDE_A.includes(h.index));
          const reads = Array.from({ length: PARTITION_READS_PER_HOST }, (_, r) => ({ path: `/api/v1/items/${far[r % far.length].key}`, headers: { 'cache-control': 'no-cache' } }));
          return (await apiGetsIn(h, reads)).map((a) => a.status);
        }),
      );
      expect(across.flat(), 'an item written on one side is not found from the other').toEqual(new Array(readsAcross).fill(404));
      const item = (publisher: number): Written => split.find((w) => w.publisher === publisher)!;
      const within = await pool([() => readBack(3, item(1)), () => readBack(4, item(7))]);
      expect(within.map((r) => r.found), 'items are found within their own half').toEqual([true, true]);
    });
  }, 150_000);

  it('after the heal, finds every acknowledged item from both halves: nothing acknowledged is lost', async () => {
    network!.heal();
    expect(network!.bridges()).toEqual({ br0: [...SIDE_A, ...SIDE_B].sort((a, b) => a - b), br1: [] });
    const items = acknowledged();
    expect(items.length).toBe(written.length);
    // Each item from one host of each half, rotating so that every host reads (the restarted ones too).
    const checks = items.flatMap((item, k) => [SIDE_A[k % SIDE_A.length], SIDE_B[(k + 1) % SIDE_B.length]].map((reader) => ({ item, reader })));
    await timed(`heal, then get --fresh ${checks.length} times (${items.length} items × one host in each half)`, () =>
      pool(
        checks.map(({ item, reader }) => async () => {
          const { found, attempts } = await readBack(reader, item);
          gets.checks++;
          if (found && attempts === 1) gets.firstAttemptFound++;
          if (found) gets.retriesNeeded += attempts - 1;
          else gets.lost.push(`${item.name} (written on host ${item.publisher} ${item.phase}, stored on ${item.stored}) not found on host ${reader}`);
        }),
      ),
    );
    expect(gets.lost).toEqual([]);
  }, 180_000);

  it('impaired the traffic as configured: datagrams lost and delayed, TCP writes delayed', () => {
    const totals = impairmentTotals();
    expect(totals.datagrams).toBeGreaterThan(100);
    expect(totals.datagramsDropped).toBeGreaterThan(0);
    const sent = totals.datagrams - totals.datagramsDropped;
    const meanDelay = totals.datagramDelayMs / sent;
    expect(meanDelay).toBeGreaterThanOrEqual(IMPAIRMENT.delayMs - IMPAIRMENT.jitterMs);
    expect(meanDelay).toBeLessThanOrEqual(IMPAIRMENT.delayMs + IMPAIRMENT.jitterMs);
    expect(totals.streamWrites, 'the large items went by TCP').toBeGreaterThan(0);
  });
});
