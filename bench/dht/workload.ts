/**
 * The workload for one system at one network size, all nodes in this process
 * on 127.0.0.1: deploy and let the routing tables settle; `ops` signed mutable
 * puts of random ~100-byte values from random nodes; `ops` gets of them from
 * other random nodes at concurrency 16 and `sequentialOps` at concurrency 1,
 * in every get mode the system has. Putters, getters and keys are drawn from
 * a seeded generator, so every system gets the same plan.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '../../src/runtime/random.js';
import { cryptoCounts, type CryptoFloor, cryptoFloor, measureCrypto, measureDatagramUs } from './crypto-floor.js';
import { type PhaseResult, runPhase } from './phase.js';
import { type ProfileSummary, startProfile, summariseProfile } from './profile.js';
import type { BenchSystem, Deployment, PutOutcome } from './system.js';
import { wire } from './wire-counters.js';

export interface WorkloadOptions {
  readonly nodes: number;
  readonly ops: number;
  readonly sequentialOps: number;
  readonly concurrency: number;
  readonly valueBytes: number;
  readonly phaseLimitMs: number;
  readonly opTimeoutMs: number;
  readonly settleLimitMs: number;
  readonly seed: number;
  /** When set, each phase is CPU-profiled and its profile written here (the figures then include the profiler's cost). */
  readonly profileDir?: string;
}

export interface GetRuns {
  readonly concurrent: PhaseResult;
  readonly sequential: PhaseResult;
}

export interface SystemRun {
  readonly system: string;
  readonly version: string;
  readonly nodes: number;
  readonly counting: string;
  readonly deployMs: number;
  readonly settleMs: number;
  readonly tableSize: { readonly min: number; readonly mean: number; readonly max: number };
  /** (RSS after deploying and settling − RSS before) / nodes. */
  readonly rssPerNodeBytes: number;
  /** The same for V8 heap + external memory, which other runs in the process disturb less. */
  readonly heapPerNodeBytes: number;
  readonly put: PhaseResult & { readonly replicasMean: number };
  readonly gets: Readonly<Record<string, GetRuns>>;
  readonly cryptoFloor?: { readonly put: CryptoFloor; readonly get: CryptoFloor; readonly getSequential: CryptoFloor };
  readonly blockedSends: number;
  readonly blockedHosts: readonly string[];
  /** The machine's 1-minute load average when the run started and ended (this run itself adds about 1). */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly profiles?: readonly ProfileSummary[];
}

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
};

const memory = (): number => process.memoryUsage().rss;
const heap = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the sum of routing table sizes has not changed for a second, at most `limitMs`. */
const settle = async (deployment: Deployment, limitMs: number): Promise<number> => {
  const started = performance.now();
  const total = (): number => deployment.tableSizes().reduce((a, b) => a + b, 0);
  let last = total();
  let stableSince = performance.now();
  while (performance.now() - started < limitMs) {
    await sleep(200);
    const now = total();
    if (now !== last) {
      last = now;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= 1000) break;
  }
  return Math.round(performance.now() - started);
};

/** A different node from `not`, uniformly. */
const other = (random: SeededRandom, size: number, not: number): number => {
  const pick = random.int(size - 1);
  return pick >= not ? pick + 1 : pick;
};

export const runWorkload = async (system: BenchSystem, options: WorkloadOptions): Promise<SystemRun> => {
  const random = new SeededRandom(options.seed);
  const size = options.nodes;
  const loadAtStart = os.loadavg()[0];
  gc();
  const rssBefore = memory();
  const heapBefore = heap();
  const deployStarted = performance.now();
  const deployment = await system.deploy(size, (max) => random.int(max));
  const deployMs = Math.round(performance.now() - deployStarted);
  try {
    const settleMs = await settle(deployment, options.settleLimitMs);
    gc();
    const rssPerNodeBytes = Math.round((memory() - rssBefore) / size);
    const heapPerNodeBytes = Math.round((heap() - heapBefore) / size);
    const tables = deployment.tableSizes();

    const values = Array.from({ length: options.ops }, () => randomBytes(options.valueBytes));
    const putters = Array.from({ length: options.ops }, () => random.int(size));
    const stored: Array<PutOutcome | undefined> = [];
    deployment.prepare?.(options.ops);
    const profiles: ProfileSummary[] = [];
    const phase = async (name: string, planned: number, concurrency: number, op: (index: number) => Promise<boolean>): Promise<PhaseResult> => {
      const spec = { planned, concurrency, limitMs: options.phaseLimitMs, opTimeoutMs: options.opTimeoutMs, op, counters: deployment.counters };
      if (!options.profileDir) return runPhase(spec);
      const stop = await startProfile();
      const result = await runPhase(spec);
      const profile = await stop();
      mkdirSync(options.profileDir, { recursive: true });
      writeFileSync(join(options.profileDir, `${system.name}-${size}-${name}.cpuprofile`), JSON.stringify(profile));
      profiles.push(summariseProfile(profile, name, result.completed));
      return result;
    };

    const putPhase = await phase('put', options.ops, options.concurrency, async (i) => {
      const outcome = await deployment.put(putters[i], i, values[i]);
      stored[i] = outcome;
      return outcome.ok;
    });
    const good = stored.flatMap((s, index) => (s?.ok ? [{ ...s, putter: putters[index] }] : []));
    const replicas = good.map((s) => s.replicas);
    const put = { ...putPhase, replicasMean: replicas.reduce((a, b) => a + b, 0) / Math.max(1, replicas.length) };

    const plan = (count: number): Array<{ target: (typeof good)[number]; getter: number }> =>
      good.length === 0 ? [] : Array.from({ length: count }, () => {
        const target = good[random.int(good.length)];
        return { target, getter: other(random, size, target.putter) };
      });
    const concurrentPlan = plan(options.ops);
    const sequentialPlan = plan(options.sequentialOps);
    const getPhase = (p: typeof concurrentPlan, planned: number, concurrency: number, mode: string): Promise<PhaseResult> =>
      phase(`${mode}-c${concurrency}`, planned, concurrency, async (i) => {
        if (!p[i]) return false;
        const signature = await deployment.get(p[i].getter, p[i].target, mode);
        return signature !== undefined && Buffer.from(signature).equals(Buffer.from(p[i].target.signature));
      });
    const gets: Record<string, GetRuns> = {};
    for (const mode of system.getModes) {
      const concurrent = await getPhase(concurrentPlan, options.ops, options.concurrency, mode);
      const sequential = await getPhase(sequentialPlan, options.sequentialOps, 1, mode);
      gets[mode] = { concurrent, sequential };
    }

    let floor: SystemRun['cryptoFloor'];
    if (system.name === 'drogulus') {
      const get = gets[system.getModes[0]];
      // Priced at the phase's mean message size (the hashing in Ed25519 and the MAC grow with it).
      const priced = async (p: PhaseResult): Promise<CryptoFloor> => {
        const bytes = cryptoCounts(p).meanMessageBytes;
        return cryptoFloor(p, measureCrypto(bytes), await measureDatagramUs(bytes));
      };
      floor = { put: await priced(put), get: await priced(get.concurrent), getSequential: await priced(get.sequential) };
    }
    return {
      system: system.name,
      version: system.version,
      nodes: size,
      counting: system.counting,
      deployMs,
      settleMs,
      tableSize: { min: Math.min(...tables), mean: Math.round((tables.reduce((a, b) => a + b, 0) / tables.length) * 10) / 10, max: Math.max(...tables) },
      rssPerNodeBytes,
      heapPerNodeBytes,
      put,
      gets,
      cryptoFloor: floor,
      blockedSends: wire.blockedSends,
      blockedHosts: wire.blockedHosts,
      loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
      ...(options.profileDir ? { profiles } : {}),
    };
  } finally {
    await deployment.close();
  }
};
