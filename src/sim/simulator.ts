/**
 * The simulator: N real nodes on the in-memory network, every node joined,
 * M items set from random nodes and each fetched from a different random node.
 * Reports success rates, lookup rounds and messages per lookup; the same seed
 * gives the same numbers (wall time aside).
 */
import { toHex } from '../crypto/bytes.js';
import { createTestnet } from './testnet.js';

export interface SimulationParams {
  readonly nodes: number;
  readonly items: number;
  readonly seed: number;
  /** One-way virtual latency per packet (ms). */
  readonly latencyMs?: number;
  readonly lossRate?: number;
}

export interface SimulationReport {
  readonly nodes: number;
  readonly items: number;
  readonly seed: number;
  /** Fraction of puts whose every chosen replica (min(K, N) of them) acknowledged. */
  readonly put_success: number;
  /** Fraction of gets, from a node other than the publisher, that returned the exact item. */
  readonly get_success: number;
  readonly lookup_rounds_p50: number;
  readonly lookup_rounds_p95: number;
  /** Requests sent per get lookup that went to the network (each has one reply). */
  readonly messages_per_lookup: number;
  readonly replicas_per_put: number;
  readonly virtual_seconds: number;
  readonly wall_seconds: number;
}

export const runSimulation = async (params: SimulationParams, now: () => number = () => performance.now()): Promise<SimulationReport> => {
  const started = now();
  const net = await createTestnet(params.nodes, { seed: params.seed, latencyMs: params.latencyMs ?? 5, lossRate: params.lossRate });
  const virtualStart = net.clock.now();
  const k = net.nodes[0].options.k;
  const wantReplicas = Math.min(k, params.nodes);

  let putsOk = 0;
  let replicas = 0;
  const published: Array<{ key: Buffer; signature: string; publisherIndex: number }> = [];
  for (let i = 0; i < params.items; i++) {
    const publisherIndex = net.random.int(net.nodes.length);
    const value = Buffer.from(net.random.bytes(100));
    const report = await net.run(net.nodes[publisherIndex].set(`sim/item-${i}`, value));
    replicas += report.stored;
    if (report.attempted === wantReplicas && report.stored === wantReplicas) putsOk++;
    published.push({ key: Buffer.from(report.item.key), signature: toHex(report.item.signature), publisherIndex });
  }

  let getsOk = 0;
  const rounds: number[] = [];
  let requests = 0;
  for (const { key, signature, publisherIndex } of published) {
    let getterIndex = net.random.int(net.nodes.length - 1);
    if (getterIndex >= publisherIndex) getterIndex++;
    const result = await net.run(net.nodes[getterIndex].retrieve(key));
    if (result.item && toHex(result.item.signature) === signature) getsOk++;
    if (result.source !== 'local') {
      rounds.push(result.rounds);
      requests += result.requests;
    }
  }
  const virtualSeconds = (net.clock.now() - virtualStart) / 1000;
  await net.stop();
  return {
    nodes: params.nodes,
    items: params.items,
    seed: params.seed,
    put_success: ratio(putsOk, params.items),
    get_success: ratio(getsOk, params.items),
    lookup_rounds_p50: percentile(rounds, 0.5),
    lookup_rounds_p95: percentile(rounds, 0.95),
    messages_per_lookup: round2(rounds.length ? requests / rounds.length : 0),
    replicas_per_put: round2(params.items ? replicas / params.items : 0),
    virtual_seconds: round2(virtualSeconds),
    wall_seconds: round2((now() - started) / 1000),
  };
};

const ratio = (a: number, b: number): number => (b === 0 ? 1 : round2(a / b));
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Nearest-rank percentile; 0 for no samples. */
export const percentile = (samples: readonly number[], q: number): number => {
  if (samples.length === 0) return 0;
  const sorted = samples.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
};
