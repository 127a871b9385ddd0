/**
 * What the workload needs from each DHT under test: deploy N nodes on
 * 127.0.0.1, put a signed mutable value from one node, get it from another,
 * and read traffic counters. One adapter per system in systems/.
 */

export interface PutOutcome {
  readonly ok: boolean;
  /** Where the value can be found: drogulus's item key, hyperdht's public key, bittorrent-dht's target hash. */
  readonly key: Uint8Array;
  /** The signature of the value stored: a get succeeds only if it returns a value with this signature. */
  readonly signature: Uint8Array;
  /** Nodes that acknowledged storing it. */
  readonly replicas: number;
}

export interface Deployment {
  readonly size: number;
  /** Routing table size of every node, to wait until the tables settle. */
  tableSizes(): number[];
  /** Work that is not part of an operation (key pairs for the peers' per-put keys), done before a phase. */
  prepare?(puts: number): void;
  put(node: number, index: number, value: Buffer): Promise<PutOutcome>;
  /** Resolves with the signature of the value found, or undefined. */
  get(node: number, stored: PutOutcome, mode: string): Promise<Uint8Array | undefined>;
  /** Cumulative counters; `messages` (sent) and `requests` (sent) are always present. */
  counters(): Record<string, number>;
  close(): Promise<void>;
}

export interface BenchSystem {
  readonly name: string;
  /** The installed version, read from its package.json. */
  readonly version: string;
  /** The get modes it offers: hyperdht's first value and latest, or one. */
  readonly getModes: readonly string[];
  /** How it counts messages and requests, for the report. */
  readonly counting: string;
  deploy(size: number, pick: (maxExclusive: number) => number): Promise<Deployment>;
}
