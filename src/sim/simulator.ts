/**
 * The simulator: N real nodes on the in-memory network in virtual time, with
 * a fixed or wide-area latency model and optional loss. Every node joins;
 * M items are set from random nodes and each fetched from another; random
 * FindNode lookups are judged against the brute-force closest live nodes.
 * With churn, Weibull sessions replace nodes for a number of simulated hours
 * while gets probe the items, then every item is probed once more. The same
 * seed gives the same figures (wall time and memory aside).
 */
import { toHex } from '../crypto/bytes.js';
import type { NodeOptions } from '../dht/defaults.js';
import { type DrogulusNode, SELF } from '../dht/node.js';
import { HOUR_MS, MINUTE_MS } from '../runtime/clock.js';
import { SeededRandom } from '../runtime/random.js';
import { Churn, CHURN_PRESETS } from './churn.js';
import type { WeibullParams } from './distributions.js';
import { WanLatencyModel } from './latency-model.js';
import { liveCopies, mean, memoryInUse, neighbourhoodKnowledge, percentile, probeClosest, ratio, round2, summarizeCensuses, type SurvivalCensus } from './measure.js';
import { Population } from './population.js';

export { percentile } from './measure.js';

export type LatencyModelName = 'fixed' | 'wan';
export type ChurnName = 'none' | 'weibull' | 'stress';

export interface SimulationParams {
  readonly nodes: number;
  readonly items: number;
  readonly seed: number;
  readonly latencyModel?: LatencyModelName;
  /** One-way virtual latency per packet for the fixed model (ms). */
  readonly latencyMs?: number;
  readonly lossRate?: number;
  readonly churn?: ChurnName;
  /** Median session for Weibull churn (minutes); the stress preset's 1.4 by default there. */
  readonly sessionMedianMinutes?: number;
  /** Weibull shape k of sessions. */
  readonly shape?: number;
  /** Simulated duration of churn (hours). */
  readonly hours?: number;
  /** FindNode lookups checked against the true closest (default 0); under churn, also the gets spread over the run. */
  readonly probes?: number;
  /** Virtual minutes over which the nodes arrive and join (0: one after another). */
  readonly buildMinutes?: number;
  readonly nodeOptions?: Partial<NodeOptions>;
  /** Told a line of progress every simulated hour of churn (long runs are otherwise silent). */
  readonly onProgress?: (text: string) => void;
  /** Measure memory per node and the build's wall time (not reproducible, so off unless asked). */
  readonly measureResources?: boolean;
}

export interface ChurnReport {
  readonly model: ChurnName;
  readonly session_median_minutes: number;
  readonly shape: number;
  readonly hours: number;
  readonly departures: number;
  readonly arrivals: number;
  readonly failed_arrivals: number;
  readonly live_nodes_at_end: number;
  /** Gets spread over the run, each from a random live node asking the network (fresh). */
  readonly probes: number;
  /** Probes whose getter departed before the answer; left out of get_success. */
  readonly probes_abandoned: number;
  readonly get_success: number;
  readonly get_success_by_hour: readonly number[];
  readonly lookup_rounds_p50: number;
  readonly lookup_rounds_p95: number;
  readonly lookup_rounds_p99: number;
  readonly lookup_latency_ms_p50: number;
  readonly lookup_latency_ms_p95: number;
  readonly lookup_latency_ms_p99: number;
  readonly messages_per_lookup: number;
  /** Every item probed once more at the end, from a random live node. */
  readonly survival: number;
  /** Items with at least one copy on a live node at the end. */
  readonly items_with_live_copy: number;
  /** Every probe of an item during and after the run: the gets spread over it and the final get of every item. */
  readonly item_probes: number;
  /** Fraction of item_probes that returned the item. */
  readonly item_probe_survival: number;
  /** Live copies of every item counted every hour of churn (and at its end): does the item still exist anywhere? */
  readonly census: SurvivalCensus;
  readonly live_copies_mean: number;
  readonly true_closest_fraction: number | null;
  readonly true_closest_overlap_mean: number | null;
  readonly nodes_knowing_18_of_20: number;
  /** Messages every node sent per hour of churn, by type: what maintenance, joins and probes cost. */
  readonly messages_per_node_hour: Readonly<Record<string, number>>;
}

export interface SimulationReport {
  readonly nodes: number;
  readonly items: number;
  readonly seed: number;
  readonly latency_model: LatencyModelName;
  readonly loss_rate: number;
  /** Realised round trips of random pairs of hosts under the WAN model; null under the fixed one. */
  readonly rtt_ms: { readonly p50: number; readonly p95: number; readonly p99: number } | null;
  /** Fraction of puts whose every chosen replica acknowledged: min(K, N) of them, and an anomalous cluster next to the key when the density check flags one. */
  readonly put_success: number;
  /** Fraction of gets, from a node other than the publisher, that returned the exact item. */
  readonly get_success: number;
  readonly lookup_rounds_p50: number;
  readonly lookup_rounds_p95: number;
  readonly lookup_rounds_p99: number;
  /** Requests sent per get lookup that went to the network (each has one reply). */
  readonly messages_per_lookup: number;
  /** Virtual time of get lookups that went to the network, start to answer. */
  readonly lookup_latency_ms_p50: number;
  readonly lookup_latency_ms_p95: number;
  readonly lookup_latency_ms_p99: number;
  /** Virtual time of set(): the lookup plus every Store answered or timed out. */
  readonly publish_latency_ms_p50: number;
  readonly publish_latency_ms_p95: number;
  /** Virtual time from set() to the last of min(K, N) acknowledgements; puts that never got them all count as infinite (null). */
  readonly publish_all_acked_ms_p50: number | null;
  /** Virtual time of set()'s FindNode lookup alone (until it has chosen the replicas). */
  readonly publish_lookup_ms_p50: number;
  readonly publish_lookup_ms_p95: number;
  readonly replicas_per_put: number;
  /** Mean number of the K closest live nodes (the publisher among them) that hold a put's replicas. */
  readonly put_replicas_true_closest_mean: number;
  /** Fraction of puts stored on exactly the K closest live nodes. */
  readonly put_replicas_true_closest_fraction: number;
  /** Stores per put sent, while its lookup ran, to peers it then found not among the closest (earlyStores). */
  readonly extra_stores_per_put: number;
  /** Fraction of FindNode lookups for random targets that returned all K closest live nodes (null without probes). */
  readonly true_closest_fraction: number | null;
  readonly true_closest_overlap_mean: number | null;
  readonly nodes_knowing_18_of_20: number;
  readonly neighbours_known_mean: number;
  readonly build_virtual_seconds: number;
  readonly virtual_seconds: number;
  readonly memory_per_node_bytes?: number;
  readonly build_wall_seconds?: number;
  /** Process CPU time (user + system) for the whole run: wall time is noisy on a shared machine. */
  readonly cpu_seconds?: number;
  readonly churn: ChurnReport | null;
  readonly wall_seconds: number;
}

export interface SimulationSamples {
  readonly lookupLatencyMs: readonly number[];
  readonly publishLatencyMs: readonly number[];
  readonly churnLookupLatencyMs: readonly number[];
}

interface Published {
  readonly key: Buffer;
  readonly signature: string;
  readonly publisher: DrogulusNode;
}

interface GetOutcome {
  readonly ok: boolean;
  /** The getter left the network before its get ended: the user is gone, not the item. */
  readonly abandoned: boolean;
  readonly network: boolean;
  readonly rounds: number;
  readonly requests: number;
  readonly latencyMs: number;
}

/** One maintenance interval (DEFAULTS.refreshIntervalMs): the nodes' timers end up spread over all of it. */
export const DEFAULT_BUILD_MINUTES = 10;

export const sessionsFor = (params: Pick<SimulationParams, 'churn' | 'sessionMedianMinutes' | 'shape'>): WeibullParams | undefined => {
  if (!params.churn || params.churn === 'none') return undefined;
  const preset = CHURN_PRESETS[params.churn];
  return {
    shape: params.shape ?? preset.shape,
    medianMs: params.sessionMedianMinutes !== undefined ? params.sessionMedianMinutes * MINUTE_MS : preset.medianMs,
  };
};

export const simulate = async (params: SimulationParams, now: () => number = () => performance.now()): Promise<{ report: SimulationReport; samples: SimulationSamples }> => {
  const started = now();
  const cpuStarted = process.cpuUsage();
  const latencyModel = params.latencyModel ?? 'fixed';
  const wan = latencyModel === 'wan' ? new WanLatencyModel({ seed: params.seed }) : undefined;
  const population = new Population({ seed: params.seed, latencyMs: wan ? wan.latencyMs : (params.latencyMs ?? 5), lossRate: params.lossRate, nodeOptions: params.nodeOptions });
  const clock = population.clock;
  const random = population.net.random;
  const probes = params.probes ?? 0;

  const memoryBefore = params.measureResources ? memoryInUse() : 0;
  const buildStart = clock.now();
  await population.grow(params.nodes, { windowMs: (params.buildMinutes ?? DEFAULT_BUILD_MINUTES) * MINUTE_MS });
  const buildVirtualSeconds = (clock.now() - buildStart) / 1000;
  const buildWallSeconds = (now() - started) / 1000;
  const memoryPerNode = params.measureResources ? Math.round((memoryInUse() - memoryBefore) / params.nodes) : undefined;

  const virtualStart = clock.now();
  const k = population.nodes[0].options.k;
  const wantReplicas = Math.min(k, population.size);
  let putsOk = 0;
  let replicas = 0;
  const publishLatency: number[] = [];
  const publishLookupLatency: number[] = [];
  const allAcked: number[] = [];
  const published: Published[] = [];
  let replicasTrueClosest = 0;
  let putsOnTrueClosest = 0;
  for (let i = 0; i < params.items; i++) {
    const publisher = population.pick()!;
    const value = Buffer.from(random.bytes(100));
    const t0 = clock.now();
    let stored = 0;
    let ackedAt = Infinity;
    const onReplica = (outcome: { status: string }): void => {
      if (outcome.status === 'stored' && ++stored === wantReplicas) ackedAt = clock.now() - t0;
    };
    const onLookupDone = (): void => {
      publishLookupLatency.push(clock.now() - t0);
    };
    const report = await population.net.run(publisher.set(`sim/item-${i}`, value, { onReplica, onLookupDone }));
    publishLatency.push(clock.now() - t0);
    allAcked.push(ackedAt);
    replicas += report.stored;
    const truth = population.closestIndex().closest(report.item.key, wantReplicas);
    const holders = new Set(report.replicas.filter((r) => r.status === 'stored').map((r) => (r.peer === SELF ? toHex(publisher.nodeId) : r.peer)));
    const overlap = truth.filter((id) => holders.has(toHex(id))).length;
    replicasTrueClosest += overlap;
    if (overlap === wantReplicas) putsOnTrueClosest++;
    // An anomalous cluster next to the key (density.ts) is stored on as well: every replica chosen must acknowledge.
    if (report.attempted >= wantReplicas && report.stored === report.attempted) putsOk++;
    published.push({ key: Buffer.from(report.item.key), signature: toHex(report.item.signature), publisher });
  }

  const extraStores = population.nodes.reduce((sum, node) => sum + node.stats.extraStores, 0);
  const gets: GetOutcome[] = [];
  for (const item of published) {
    const getter = population.pick(item.publisher)!;
    gets.push(await population.net.run(probeGet(getter, item, false)));
  }
  const network = gets.filter((g) => g.network);
  const rounds = network.map((g) => g.rounds);
  const lookupLatency = network.map((g) => g.latencyMs);

  const closestProbes = [];
  for (let i = 0; i < probes; i++) closestProbes.push(await population.net.run(probeClosest(population)));
  const knowledge = neighbourhoodKnowledge(population);
  const virtualSeconds = (clock.now() - virtualStart) / 1000;

  const sessions = sessionsFor(params);
  let churnReport: ChurnReport | null = null;
  let churnLatency: number[] = [];
  if (sessions) {
    const result = await runChurn(population, published, sessions, { hours: params.hours ?? 2, probes: params.probes ?? 100, seed: random.next32(), model: params.churn!, onProgress: params.onProgress });
    churnReport = result.report;
    churnLatency = result.latencyMs;
  }
  await population.stop();

  const rtt = wan?.summarize(20_000, new SeededRandom(params.seed + 1));
  const report: SimulationReport = {
    nodes: params.nodes,
    items: params.items,
    seed: params.seed,
    latency_model: latencyModel,
    loss_rate: params.lossRate ?? 0,
    rtt_ms: rtt ? { p50: rtt.p50, p95: rtt.p95, p99: rtt.p99 } : null,
    put_success: ratio(putsOk, params.items),
    get_success: ratio(gets.filter((g) => g.ok).length, params.items),
    lookup_rounds_p50: percentile(rounds, 0.5),
    lookup_rounds_p95: percentile(rounds, 0.95),
    lookup_rounds_p99: percentile(rounds, 0.99),
    messages_per_lookup: round2(network.length ? network.reduce((sum, g) => sum + g.requests, 0) / network.length : 0),
    lookup_latency_ms_p50: round2(percentile(lookupLatency, 0.5)),
    lookup_latency_ms_p95: round2(percentile(lookupLatency, 0.95)),
    lookup_latency_ms_p99: round2(percentile(lookupLatency, 0.99)),
    publish_latency_ms_p50: round2(percentile(publishLatency, 0.5)),
    publish_latency_ms_p95: round2(percentile(publishLatency, 0.95)),
    publish_all_acked_ms_p50: finiteOrNull(percentile(allAcked, 0.5)),
    publish_lookup_ms_p50: round2(percentile(publishLookupLatency, 0.5)),
    publish_lookup_ms_p95: round2(percentile(publishLookupLatency, 0.95)),
    replicas_per_put: round2(params.items ? replicas / params.items : 0),
    put_replicas_true_closest_mean: round2(params.items ? replicasTrueClosest / params.items : 0),
    put_replicas_true_closest_fraction: params.items ? ratio(putsOnTrueClosest, params.items) : 0,
    extra_stores_per_put: round2(params.items ? extraStores / params.items : 0),
    true_closest_fraction: closestProbes.length ? ratio(closestProbes.filter((p) => p.overlap === p.wanted).length, closestProbes.length) : null,
    true_closest_overlap_mean: closestProbes.length ? round2(mean(closestProbes.map((p) => p.overlap))) : null,
    nodes_knowing_18_of_20: knowledge.fractionKnowingMost,
    neighbours_known_mean: knowledge.meanKnown,
    build_virtual_seconds: round2(buildVirtualSeconds),
    virtual_seconds: round2(virtualSeconds),
    ...(params.measureResources ? { memory_per_node_bytes: memoryPerNode, build_wall_seconds: round2(buildWallSeconds), cpu_seconds: cpuSeconds(cpuStarted) } : {}),
    churn: churnReport,
    wall_seconds: round2((now() - started) / 1000),
  };
  return { report, samples: { lookupLatencyMs: lookupLatency, publishLatencyMs: publishLatency, churnLookupLatencyMs: churnLatency } };
};

/** The report alone, as `drogulus sim` prints it. */
export const runSimulation = async (params: SimulationParams, now: () => number = () => performance.now()): Promise<SimulationReport> => (await simulate(params, now)).report;

/** A get of `item` from `getter`, judged by the signature the put produced. */
const probeGet = async (getter: DrogulusNode, item: Published, fresh: boolean): Promise<GetOutcome> => {
  const t0 = getter.clock.now();
  try {
    const result = await getter.retrieve(item.key, { fresh });
    const ok = result.item !== undefined && toHex(result.item.signature) === item.signature;
    return { ok, abandoned: !getter.isRunning, network: result.source !== 'local', rounds: result.rounds, requests: result.requests, latencyMs: getter.clock.now() - t0 };
  } catch {
    return { ok: false, abandoned: !getter.isRunning, network: true, rounds: 0, requests: 0, latencyMs: getter.clock.now() - t0 };
  }
};

interface ChurnRun {
  readonly hours: number;
  readonly probes: number;
  readonly seed: number;
  readonly model: ChurnName;
  readonly onProgress?: (text: string) => void;
}

/**
 * Churn for `hours` of virtual time with maintenance running on every node;
 * `probes` gets are spread evenly over the run, each for a random item from a
 * random live node; then every item is probed once, and lookups and routing
 * tables are checked against the live population.
 */
const runChurn = async (population: Population, published: readonly Published[], sessions: WeibullParams, run: ChurnRun): Promise<{ report: ChurnReport; latencyMs: number[] }> => {
  const clock = population.clock;
  const random = new SeededRandom(run.seed);
  const churn = new Churn(population, { sessions, seed: random.next32() });
  const durationMs = run.hours * HOUR_MS;
  const startMs = clock.now();
  const outcomes: Array<GetOutcome & { hour: number }> = [];
  const inFlight = new Set<Promise<void>>();
  let abandoned = 0;
  const startProbe = (): void => {
    const getter = population.pick();
    if (!getter || published.length === 0) return;
    const item = published[random.int(published.length)];
    const hour = Math.floor((clock.now() - startMs) / HOUR_MS);
    const work: Promise<void> = probeGet(getter, item, true).then((o) => {
      if (o.abandoned) abandoned++;
      else outcomes.push({ ...o, hour });
      inFlight.delete(work);
    });
    inFlight.add(work);
  };
  for (let i = 0; i < run.probes; i++) clock.setTimeout(startProbe, ((i + 0.5) * durationMs) / run.probes);
  const keysHex = published.map((p) => toHex(p.key));
  const censuses: number[][] = [];
  const census = (): void => {
    const copies = liveCopies(population, keysHex);
    censuses.push(copies);
    const ok = outcomes.filter((o) => o.ok).length;
    run.onProgress?.(
      `churn hour ${censuses.length}: ${population.size} live, ${churn.counters.departures} departures, items with a live copy ${copies.filter((c) => c > 0).length}/${copies.length}, gets ${ok}/${outcomes.length} ok`,
    );
  };
  for (let t = HOUR_MS; t < durationMs; t += HOUR_MS) clock.setTimeout(census, t);

  const trafficBefore = population.messagesOut();
  churn.start();
  await clock.advance(durationMs);
  const trafficAfter = population.messagesOut();
  await population.net.run(Promise.all([...inFlight]));

  // Every item once more, a batch at a time, with churn still running.
  const final: GetOutcome[] = [];
  for (let i = 0; i < published.length; i += 64) {
    const batch = published.slice(i, i + 64).map(async (item) => {
      for (;;) {
        const outcome = await probeGet(population.pick()!, item, true);
        if (!outcome.abandoned) return outcome;
      }
    });
    final.push(...(await population.net.run(Promise.all(batch))));
  }
  const copies = liveCopies(population, keysHex);
  censuses.push(copies);
  const closest = [];
  for (let i = 0; i < Math.min(run.probes, 200); i++) closest.push(await population.net.run(probeClosest(population)));
  const knowledge = neighbourhoodKnowledge(population);
  churn.stop();
  await population.net.run(churn.settled);

  const network = outcomes.filter((o) => o.network);
  const hours = Math.ceil(run.hours);
  const byHour = Array.from({ length: hours }, (_, h) => {
    const inHour = outcomes.filter((o) => o.hour === h);
    return ratio(inHour.filter((o) => o.ok).length, inHour.length);
  });
  const report: ChurnReport = {
    model: run.model,
    session_median_minutes: round2(sessions.medianMs / MINUTE_MS),
    shape: sessions.shape,
    hours: run.hours,
    departures: churn.counters.departures,
    arrivals: churn.counters.arrivals,
    failed_arrivals: churn.counters.failedArrivals,
    live_nodes_at_end: population.size,
    probes: outcomes.length,
    probes_abandoned: abandoned,
    get_success: ratio(outcomes.filter((o) => o.ok).length, outcomes.length),
    get_success_by_hour: byHour,
    lookup_rounds_p50: percentile(network.map((o) => o.rounds), 0.5),
    lookup_rounds_p95: percentile(network.map((o) => o.rounds), 0.95),
    lookup_rounds_p99: percentile(network.map((o) => o.rounds), 0.99),
    lookup_latency_ms_p50: round2(percentile(network.map((o) => o.latencyMs), 0.5)),
    lookup_latency_ms_p95: round2(percentile(network.map((o) => o.latencyMs), 0.95)),
    lookup_latency_ms_p99: round2(percentile(network.map((o) => o.latencyMs), 0.99)),
    messages_per_lookup: round2(mean(network.map((o) => o.requests))),
    survival: ratio(final.filter((o) => o.ok).length, final.length),
    items_with_live_copy: ratio(copies.filter((c) => c > 0).length, copies.length),
    item_probes: outcomes.length + final.length,
    item_probe_survival: ratio(outcomes.filter((o) => o.ok).length + final.filter((o) => o.ok).length, outcomes.length + final.length),
    census: summarizeCensuses(censuses),
    live_copies_mean: round2(mean(copies)),
    true_closest_fraction: closest.length ? ratio(closest.filter((p) => p.overlap === p.wanted).length, closest.length) : null,
    true_closest_overlap_mean: closest.length ? round2(mean(closest.map((p) => p.overlap))) : null,
    nodes_knowing_18_of_20: knowledge.fractionKnowingMost,
    messages_per_node_hour: Object.fromEntries(
      Object.entries(trafficAfter)
        .map(([type, n]) => [type, round2((n - (trafficBefore[type] ?? 0)) / (population.size * run.hours))] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
  };
  return { report, latencyMs: network.map((o) => o.latencyMs) };
};

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return round2((used.user + used.system) / 1e6);
};

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? round2(x) : null);

