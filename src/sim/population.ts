/**
 * The live nodes of a simulation, at scale: constant-time add, remove and
 * random pick (a testnet's filter over every node ever made is quadratic at
 * 10^4 nodes), joins in virtual-time waves, and abrupt departures that let
 * the departed node be collected. A node counts as live from the end of a
 * successful join until it departs.
 */
import type { NodeOptions } from '../dht/defaults.js';
import type { DrogulusNode } from '../dht/node.js';
import { ClosestIndex } from './closest-index.js';
import { Testnet, type TestnetOptions } from './testnet.js';

export interface PopulationOptions extends TestnetOptions {
  /** Seeds a joining node tries before it gives up. */
  readonly joinAttempts?: number;
}

export interface GrowOptions {
  /**
   * Nodes arrive at uniformly random times over this much virtual time and
   * join as they arrive. Spread over at least one maintenance interval, their
   * refresh and republish timers are out of step as in a real network; nodes
   * started together would all republish the same items at the same instant.
   */
  readonly windowMs?: number;
}

export class Population {
  readonly net: Testnet;
  private readonly live: DrogulusNode[] = [];
  private readonly slot = new Map<DrogulusNode, number>();
  private readonly joinAttempts: number;
  private version = 0;
  private index: { version: number; index: ClosestIndex } | undefined;
  readonly counters = { joined: 0, joinFailures: 0, departed: 0 };
  /** Messages sent by type, summed over departed nodes; live nodes are added by messagesOut(). */
  private readonly departedOut: Record<string, number> = {};

  constructor(options: PopulationOptions) {
    this.net = new Testnet(options);
    this.joinAttempts = options.joinAttempts ?? 5;
  }

  get clock(): Testnet['clock'] {
    return this.net.clock;
  }

  get size(): number {
    return this.live.length;
  }

  get nodes(): readonly DrogulusNode[] {
    return this.live;
  }

  /** A started node that has not joined yet (it answers requests, but nobody knows it). */
  spawn(options?: Partial<NodeOptions>): DrogulusNode {
    return this.net.createNode(options ? { options } : {});
  }

  /**
   * Joins `node` through a random live node, trying another one when a seed
   * does not answer (its Ping or Pong may be lost); the first node of a
   * network has nobody to join and is live at once. Resolves false when
   * every attempt failed.
   */
  async join(node: DrogulusNode): Promise<boolean> {
    if (this.live.length === 0) {
      this.admit(node);
      return true;
    }
    for (let attempt = 0; attempt < this.joinAttempts; attempt++) {
      const seed = this.pick(node);
      if (!seed) break;
      try {
        await node.join([{ ...seed.address, publicKey: seed.publicKey }]);
        if (!node.isRunning) return false;
        this.admit(node);
        return true;
      } catch {
        this.counters.joinFailures++;
      }
    }
    return false;
  }

  /** Adds `count` nodes arriving over `windowMs` (0: one after another); resolves with how many joined. */
  async grow(count: number, options: GrowOptions = {}): Promise<number> {
    const windowMs = options.windowMs ?? 0;
    if (windowMs <= 0) {
      let added = 0;
      for (let i = 0; i < count; i++) if (await this.net.run(this.arrive())) added++;
      return added;
    }
    const clock = this.net.clock;
    // Whole milliseconds: node clocks read integers, and items are stamped with them.
    const arrivals = Array.from({ length: count }, () => Math.floor(this.net.random.float() * windowMs)).sort((a, b) => a - b);
    const joins = arrivals.map((atMs) => new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(this.arrive()), atMs)));
    const joined = await this.net.run(Promise.all(joins));
    return joined.filter(Boolean).length;
  }

  /** A new node that joins, or leaves again if it cannot. */
  private async arrive(): Promise<boolean> {
    const node = this.spawn();
    if (await this.join(node)) return true;
    void node.stop();
    return false;
  }

  /** Takes a live node off the network as a crash would: no goodbye, and its store goes with it. */
  depart(node: DrogulusNode): void {
    const at = this.slot.get(node);
    if (at === undefined) return;
    const last = this.live.pop()!;
    if (last !== node) {
      this.live[at] = last;
      this.slot.set(last, at);
    }
    this.slot.delete(node);
    this.version++;
    this.counters.departed++;
    addCounts(this.departedOut, node.stats.messagesOut);
    void node.stop();
  }

  isLive(node: DrogulusNode): boolean {
    return this.slot.has(node);
  }

  /** A uniformly random live node other than `exclude`, if there is one. */
  pick(exclude?: DrogulusNode): DrogulusNode | undefined {
    const n = this.live.length;
    const excluded = exclude !== undefined && this.slot.has(exclude) ? 1 : 0;
    if (n - excluded <= 0) return undefined;
    const chosen = this.live[this.net.random.int(n - excluded)];
    // The excluded node's slot maps to the last slot, which the draw above never reaches.
    return excluded && chosen === exclude ? this.live[n - 1] : chosen;
  }

  /** The live nodes' ids, sorted for brute-force closest queries; rebuilt only after the population changed. */
  closestIndex(): ClosestIndex {
    if (this.index?.version !== this.version) this.index = { version: this.version, index: new ClosestIndex(this.live.map((n) => n.nodeId)) };
    return this.index.index;
  }

  /** Messages sent by type, by every node that has been live: what the network's traffic was made of. */
  messagesOut(): Record<string, number> {
    const total: Record<string, number> = { ...this.departedOut };
    for (const node of this.live) addCounts(total, node.stats.messagesOut);
    return total;
  }

  async stop(): Promise<void> {
    const nodes = this.live.splice(0);
    this.slot.clear();
    await Promise.all(nodes.map((n) => n.stop()));
  }

  private admit(node: DrogulusNode): void {
    this.slot.set(node, this.live.length);
    this.live.push(node);
    this.version++;
    this.counters.joined++;
  }
}

const addCounts = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
  for (const [type, n] of Object.entries(from)) into[type] = (into[type] ?? 0) + n;
};
