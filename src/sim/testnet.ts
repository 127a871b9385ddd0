/**
 * A test network as a library (hyperdht's createTestnet, made deterministic):
 * real DrogulusNodes on a MemoryNetwork driven by a ManualClock, all keys and
 * choices drawn from one seed, so a run is reproducible from its seed.
 */
import { Identity } from '../crypto/identity.js';
import type { NodeOptions } from '../dht/defaults.js';
import { DrogulusNode } from '../dht/node.js';
import { ManualClock } from '../runtime/manual-clock.js';
import { SeededRandom } from '../runtime/random.js';
import type { Address } from '../routing/contact.js';
import { MemoryItemStore } from '../storage/memory-item-store.js';
import { MemoryNetwork, type MemoryTransport } from '../transport/memory-network.js';

export interface TestnetOptions {
  readonly seed: number;
  /** One-way delay per packet in virtual ms. */
  readonly latencyMs?: number | ((from: Address, to: Address) => number);
  readonly lossRate?: number;
  readonly nodeOptions?: Partial<NodeOptions>;
}

export interface NodeExtras {
  readonly options?: Partial<NodeOptions>;
  readonly profile?: Record<string, string>;
  readonly transport?: MemoryTransport;
}

export class Testnet {
  readonly clock = new ManualClock();
  readonly random: SeededRandom;
  readonly network: MemoryNetwork;
  readonly nodes: DrogulusNode[] = [];
  private readonly keyRandom: SeededRandom;

  constructor(private readonly options: TestnetOptions) {
    this.random = new SeededRandom(options.seed);
    this.keyRandom = this.random.fork();
    this.network = new MemoryNetwork({ clock: this.clock, random: this.random.fork(), latencyMs: options.latencyMs ?? 5, lossRate: options.lossRate });
  }

  /** Creates, starts and keeps a node; it has not joined yet. */
  addNode(extra: NodeExtras = {}): DrogulusNode {
    const node = this.createNode(extra);
    this.nodes.push(node);
    return node;
  }

  /**
   * Creates and starts a node that this testnet does not keep in `nodes`: for
   * harnesses that track their own population (the churn simulator lets
   * departed nodes be collected).
   */
  createNode(extra: NodeExtras = {}): DrogulusNode {
    const node = new DrogulusNode({
      identity: Identity.fromSeed(this.keyRandom.bytes(32)),
      transport: extra.transport ?? this.network.createTransport(),
      clock: this.clock,
      random: this.random.fork(),
      store: new MemoryItemStore(),
      options: { ...this.options.nodeOptions, ...extra.options },
      profile: extra.profile,
    });
    node.start();
    return node;
  }

  /** Joins `node` through a random node already in the network. */
  async join(node: DrogulusNode): Promise<void> {
    const others = this.nodes.filter((n) => n !== node && this.network.isAttached(n.address));
    if (others.length === 0) return;
    const seed = others[this.random.int(others.length)];
    await this.run(node.join([{ ...seed.address, publicKey: seed.publicKey }]));
  }

  /** Adds `count` nodes, each joining through a random earlier one. */
  async grow(count: number): Promise<DrogulusNode[]> {
    const added: DrogulusNode[] = [];
    for (let i = 0; i < count; i++) {
      const node = this.addNode();
      await this.join(node);
      added.push(node);
    }
    return added;
  }

  /** Runs virtual time until `work` settles. */
  run<T>(work: Promise<T>): Promise<T> {
    return this.clock.run(work);
  }

  /** Takes a node off the network, as a crash would: no goodbye, no saved state. */
  kill(node: DrogulusNode): void {
    void node.stop();
  }

  isAlive(node: DrogulusNode): boolean {
    return this.network.isAttached(node.address);
  }

  pick(exclude?: DrogulusNode): DrogulusNode {
    const alive = this.nodes.filter((n) => n !== exclude && this.isAlive(n));
    return alive[this.random.int(alive.length)];
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

export const createTestnet = async (size: number, options: TestnetOptions): Promise<Testnet> => {
  const net = new Testnet(options);
  await net.grow(size);
  return net;
};
