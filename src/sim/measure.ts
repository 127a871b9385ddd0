/**
 * What the simulator measures besides success rates: percentiles, lookups
 * judged against the brute-force closest live nodes, how well routing tables
 * know their neighbourhoods, live replicas per item, and memory. Reading a
 * node's table or store here is observation only; nothing is changed.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { toHex } from '../crypto/bytes.js';
import type { Population } from './population.js';

/** Nearest-rank percentile; 0 for no samples. */
export const percentile = (samples: readonly number[], q: number): number => {
  if (samples.length === 0) return 0;
  const sorted = samples.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
};

export const round2 = (x: number): number => Math.round(x * 100) / 100;
export const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
export const ratio = (a: number, b: number): number => (b === 0 ? 1 : round4(a / b));
export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export interface ClosestProbe {
  /** How many of the true closest live nodes the lookup returned. */
  readonly overlap: number;
  /** How many there were to find: K, or fewer in a network of K nodes or less. */
  readonly wanted: number;
}

/**
 * A FindNode lookup for a random target from a random live node, compared
 * with the K live nodes closest to the target (the origin left out: a lookup
 * never returns its own node). The truth is taken when the lookup ends.
 */
export const probeClosest = async (population: Population): Promise<ClosestProbe> => {
  const origin = population.pick();
  if (!origin) return { overlap: 0, wanted: 0 };
  const k = origin.options.k;
  const target = Buffer.from(population.net.random.bytes(64));
  const found = await origin.lookup(target, 'node');
  const truth = population.closestIndex().closest(target, k, origin.nodeId);
  const answered = new Set(found.closest.map((c) => c.idHex));
  return { overlap: truth.filter((id) => answered.has(toHex(id))).length, wanted: truth.length };
};

export interface NeighbourhoodKnowledge {
  /** Fraction of live nodes whose routing table holds at least K − 2 of their K closest live nodes (18 of 20). */
  readonly fractionKnowingMost: number;
  /** Mean number of its K closest live nodes a routing table holds. */
  readonly meanKnown: number;
}

export const neighbourhoodKnowledge = (population: Population): NeighbourhoodKnowledge => {
  const index = population.closestIndex();
  let most = 0;
  let known = 0;
  for (const node of population.nodes) {
    const truth = index.closest(node.nodeId, node.options.k, node.nodeId);
    const held = truth.filter((id) => node.table.get(id) !== undefined).length;
    known += held;
    if (held >= truth.length - 2) most++;
  }
  const n = population.size;
  return { fractionKnowingMost: ratio(most, n), meanKnown: round2(n ? known / n : 0) };
};

/** Live copies of each key (hex), counting every live node's store: replicas and cached copies. */
export const liveCopies = (population: Population, keysHex: readonly string[]): number[] => {
  const wanted = new Map(keysHex.map((k) => [k, 0]));
  for (const node of population.nodes) {
    for (const stored of node.store.entries()) {
      const keyHex = toHex(stored.item.key);
      const count = wanted.get(keyHex);
      if (count !== undefined) wanted.set(keyHex, count + 1);
    }
  }
  return keysHex.map((k) => wanted.get(k)!);
};

let collect: (() => void) | undefined;

/** V8 heap plus memory outside it (Buffers), after a full garbage collection. */
export const memoryInUse = (): number => {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};

export interface SurvivalCensus {
  /** Item-and-time checks: items × censuses. */
  readonly probes: number;
  /** Fraction of checks that found at least one live copy. */
  readonly survived: number;
  /** Items that had no live copy at some census (once gone, nothing can bring an item back). */
  readonly items_lost: number;
  /** Fewest live copies any item had at any census. */
  readonly min_live_copies: number;
  /** Mean live copies over all checks. */
  readonly live_copies_mean: number;
}

/**
 * Item survival from periodic censuses: `censuses[t][i]` is the number of live
 * copies item i had at census t (liveCopies). A check survives when the item
 * has at least one copy on a live node; an item is lost when any of its
 * checks did not survive.
 */
export const summarizeCensuses = (censuses: readonly (readonly number[])[]): SurvivalCensus => {
  let probes = 0;
  let survived = 0;
  let copies = 0;
  let min = Infinity;
  const lost = new Set<number>();
  for (const census of censuses) {
    census.forEach((n, item) => {
      probes++;
      copies += n;
      min = Math.min(min, n);
      if (n > 0) survived++;
      else lost.add(item);
    });
  }
  return { probes, survived: ratio(survived, probes), items_lost: lost.size, min_live_copies: probes ? min : 0, live_copies_mean: round2(probes ? copies / probes : 0) };
};
