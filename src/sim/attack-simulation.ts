/**
 * Attacks on a simulated network of real nodes (src/sim/adversaries.ts for
 * the behaviours): a fraction of the nodes drops everything, answers lookups
 * with colluders only, forges or keeps stale copies, floods Stores, or an
 * on-path attacker replays traffic; or Sybils with ids ground next to a key
 * surround it. Items are published while everyone is honest (except for the
 * Sybil and stale attacks, see below), the attack starts, and honest nodes
 * get every item; a get succeeds when it returns the very item last
 * published. The same seed gives the same report (wall time aside).
 * Figures and commands: docs/security.md.
 */
import { toHex } from '../crypto/bytes.js';
import { Identity } from '../crypto/identity.js';
import { grindSeed } from '../crypto/puzzle.js';
import type { NodeOptions } from '../dht/defaults.js';
import { DrogulusNode } from '../dht/node.js';
import { checkItem, compareItemVersions, type Item, itemKey } from '../protocol/item.js';
import { commonPrefixLength, compareDistance } from '../routing/distance.js';
import { hours, seconds } from '../runtime/clock.js';
import { SeededRandom } from '../runtime/random.js';
import type { MemoryTransport } from '../transport/memory-network.js';
import { Adversary, type Behaviour, Colluders, OnPathReplayer } from './adversaries.js';
import { mean, ratio, round2 } from './measure.js';
import { Testnet } from './testnet.js';

export type AttackName = 'none' | 'drop' | 'collude' | 'forge' | 'stale' | 'flood' | 'replay' | 'sybil';
export const ATTACKS: readonly AttackName[] = ['none', 'drop', 'collude', 'forge', 'stale', 'flood', 'replay', 'sybil'];

export interface AttackSimulationParams {
  readonly nodes: number;
  /** Items published (for 'sybil': keys surrounded, one Sybil group each). */
  readonly items: number;
  readonly seed: number;
  /** Fraction of the nodes that turn malicious, in [0, 1) (not used by 'sybil'). */
  readonly malicious: number;
  readonly attack: AttackName;
  /** Disjoint paths for gets (S/Kademlia's d); default 1. */
  readonly disjoint?: number;
  /** Valid copies a get gathers before answering with the newest; default 1. */
  readonly quorum?: number;
  /** Gets of each item, each from a random honest node; default 2 (20 for 'sybil'). */
  readonly getsPerItem?: number;
  /** More malicious fractions to measure on the same network, with d = 1 and d = disjoint (drop, collude, forge). */
  readonly curve?: readonly number[];
  /** 'sybil': Sybils per key (default 20), how many /24 networks they come from (default 1), and what they do. */
  readonly sybils?: number;
  readonly sybilNetworks?: number;
  readonly sybilBehaviour?: 'collude' | 'forge';
  /** 'flood': junk Stores each malicious node sends (default 200), and the honest nodes' item quota (default 3 × their fair share). */
  readonly floodStores?: number;
  readonly latencyMs?: number;
  readonly nodeOptions?: Partial<NodeOptions>;
}

export interface GetTally {
  readonly disjoint: number;
  readonly quorum: number;
  readonly gets: number;
  /** Gets that returned the very item last published. */
  readonly true_value: number;
  /** Gets that returned an item failing its checks: must be 0, whatever the attack. */
  readonly forged_returned: number;
  /** Gets that returned a valid but older version. */
  readonly stale_returned: number;
  readonly not_found: number;
  readonly success: number;
  readonly requests_mean: number;
}

export interface CurvePoint {
  readonly malicious: number;
  readonly d1: number;
  readonly d: number;
  readonly success_d1: number;
  readonly success_d: number;
}

export interface AttackReport {
  readonly attack: AttackName;
  readonly nodes: number;
  readonly items: number;
  readonly seed: number;
  readonly malicious: number;
  readonly malicious_nodes: number;
  readonly gets: GetTally;
  /** The same gets with d = 1 and quorum 1, when those differ. */
  readonly baseline: GetTally | null;
  readonly curve: readonly CurvePoint[] | null;
  readonly details: Record<string, number | string | boolean>;
  readonly build_virtual_seconds: number;
  readonly wall_seconds: number;
}

interface Published {
  readonly publisher: DrogulusNode;
  readonly name: string;
  /** The latest version: the one a get must return. */
  latest: Item;
}

const SYBIL_PORT = 3000;

class AttackNetwork {
  readonly net: Testnet;
  readonly nodes: DrogulusNode[] = [];
  readonly adversaries = new Map<DrogulusNode, Adversary>();
  readonly colluders = new Colluders();
  readonly random: SeededRandom;

  private readonly nodeOptions: Partial<NodeOptions>;

  constructor(params: AttackSimulationParams) {
    // No maintenance during a run: what is measured is the attack, not the hourly republish.
    // No maintenance and no store-on-join: what the gets find is what the publish and the attack left, not what
    // background replication spread since (a stale holder would otherwise hand its old copy to newcomers).
    this.nodeOptions = { refreshIntervalMs: hours(10_000), storeOnJoin: false, ...params.nodeOptions };
    this.net = new Testnet({ seed: params.seed, latencyMs: params.latencyMs ?? 5, nodeOptions: this.nodeOptions });
    this.random = new SeededRandom(params.seed ^ 0x5eed);
  }

  /** A node with an adversary in front of its transport, joined through a random earlier node. */
  async add(options: { transport?: MemoryTransport; identity?: Identity } = {}): Promise<DrogulusNode | undefined> {
    const transport = options.transport ?? this.net.network.createTransport();
    const node = options.identity ? this.withIdentity(options.identity, transport) : this.net.createNode({ transport });
    this.adversaries.set(node, new Adversary(node, transport, this.colluders));
    for (let attempt = 0; attempt < 3 && this.nodes.length > 0; attempt++) {
      const seed = this.nodes[this.random.int(this.nodes.length)];
      try {
        await this.net.run(node.join([{ ...seed.address, publicKey: seed.publicKey }]));
        return node;
      } catch {
        // another seed
      }
    }
    if (this.nodes.length === 0) return node;
    void node.stop();
    return undefined;
  }

  private withIdentity(identity: Identity, transport: MemoryTransport): DrogulusNode {
    // Testnet draws identities itself; a ground Sybil key needs its own constructor call.
    const node = new DrogulusNode({ identity, transport, clock: this.net.clock, random: this.net.random.fork(), options: this.nodeOptions });
    node.start();
    return node;
  }

  async grow(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const node = await this.add();
      if (node) this.nodes.push(node);
    }
  }

  turn(nodes: Iterable<DrogulusNode>, behaviour: Behaviour): void {
    this.colluders.clear();
    for (const node of nodes) {
      this.adversaries.get(node)!.behaviour = behaviour;
      this.colluders.add(node);
    }
  }

  calm(): void {
    for (const adversary of this.adversaries.values()) adversary.behaviour = { kind: 'honest' };
    this.colluders.clear();
  }

  pickHonest(malicious: ReadonlySet<DrogulusNode>, exclude?: DrogulusNode): DrogulusNode {
    for (;;) {
      const node = this.nodes[this.random.int(this.nodes.length)];
      if (!malicious.has(node) && node !== exclude) return node;
    }
  }

  async publish(count: number, malicious: ReadonlySet<DrogulusNode>, prefix: string): Promise<Published[]> {
    const published: Published[] = [];
    for (let i = 0; i < count; i++) {
      const publisher = this.pickHonest(malicious);
      const name = `${prefix}-${i}`;
      const report = await this.net.run(publisher.set(name, Buffer.from(this.random.bytes(64))));
      published.push({ publisher, name, latest: report.item });
    }
    return published;
  }

  /** `perItem` gets of each item from random honest nodes, asking the network (fresh), 32 at a time. */
  async getAll(published: readonly Published[], perItem: number, malicious: ReadonlySet<DrogulusNode>, paths: number, quorum: number): Promise<GetTally> {
    const jobs = published.flatMap((p) => Array.from({ length: perItem }, () => ({ p, getter: this.pickHonest(malicious, p.publisher) })));
    const outcomes: Array<{ kind: 'true' | 'forged' | 'stale' | 'none'; requests: number }> = [];
    for (let i = 0; i < jobs.length; i += 32) {
      const batch = jobs.slice(i, i + 32).map(async ({ p, getter }) => {
        const report = await getter.retrieve(p.latest.key, { fresh: true, paths, quorum }).catch(() => undefined);
        return { kind: classify(report?.item, p.latest, this.net.clock.now()), requests: report?.requests ?? 0 };
      });
      outcomes.push(...(await this.net.run(Promise.all(batch))));
    }
    const count = (kind: string): number => outcomes.filter((o) => o.kind === kind).length;
    return {
      disjoint: paths,
      quorum,
      gets: outcomes.length,
      true_value: count('true'),
      forged_returned: count('forged'),
      stale_returned: count('stale'),
      not_found: count('none'),
      success: ratio(count('true'), outcomes.length),
      requests_mean: round2(mean(outcomes.map((o) => o.requests))),
    };
  }

  chooseMalicious(fraction: number): Set<DrogulusNode> {
    const shuffled = this.nodes.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    return new Set(shuffled.slice(0, Math.round(fraction * this.nodes.length)));
  }
}

const classify = (found: Item | undefined, latest: Item, nowMs: number): 'true' | 'forged' | 'stale' | 'none' => {
  if (!found) return 'none';
  if (checkItem(found, nowMs) || toHex(found.key) !== toHex(latest.key)) return 'forged';
  if (toHex(found.signature) === toHex(latest.signature)) return 'true';
  return compareItemVersions(found, latest) < 0 ? 'stale' : 'forged';
};

const behaviourOf = (attack: AttackName): Behaviour => {
  switch (attack) {
    case 'drop':
      return { kind: 'drop' };
    case 'collude':
      return { kind: 'collude' };
    case 'forge':
      return { kind: 'forge', otherwise: 'honest' };
    case 'stale':
      return { kind: 'stale' };
    default:
      return { kind: 'honest' };
  }
};

export const runAttackSimulation = async (params: AttackSimulationParams, now: () => number = () => performance.now()): Promise<AttackReport> => {
  const started = now();
  if (!ATTACKS.includes(params.attack)) throw new RangeError(`unknown attack ${String(params.attack)}; one of ${ATTACKS.join(', ')}`);
  if (!(params.malicious >= 0 && params.malicious < 1)) throw new RangeError(`malicious must be a fraction in [0, 1), got ${params.malicious}`);
  const d = params.disjoint ?? 1;
  const quorum = params.quorum ?? 1;
  const net = new AttackNetwork(params);
  const buildStartMs = net.net.clock.now();
  await net.grow(params.nodes);
  const buildVirtualSeconds = (net.net.clock.now() - buildStartMs) / 1000;
  const base = {
    attack: params.attack,
    nodes: net.nodes.length,
    items: params.items,
    seed: params.seed,
    malicious: params.malicious,
    build_virtual_seconds: round2(buildVirtualSeconds),
  };
  const finish = async (rest: Omit<AttackReport, keyof typeof base | 'wall_seconds'>): Promise<AttackReport> => {
    await Promise.all([...net.adversaries.keys()].map((n) => n.stop()));
    return { ...base, ...rest, wall_seconds: round2((now() - started) / 1000) };
  };

  if (params.attack === 'sybil') return finish(await sybilAttack(net, params, d, quorum));

  const malicious = net.chooseMalicious(params.malicious);
  const perItem = params.getsPerItem ?? 2;
  const details: Record<string, number | string | boolean> = {};
  // Two sets of items: the gets of one cannot warm caches for the other's.
  const compare = d !== 1 || quorum !== 1;
  const published = await net.publish(params.items, malicious, 'item');
  const forBaseline = compare ? await net.publish(params.items, malicious, 'baseline-item') : [];
  net.turn(malicious, behaviourOf(params.attack));
  if (params.attack === 'stale') {
    // Every node holds version 1; the stale nodes keep it, acknowledging version 2 without keeping it.
    for (const p of [...published, ...forBaseline]) p.latest = (await net.net.run(p.publisher.set(p.name, Buffer.from(net.random.bytes(64))))).item;
  }

  let replayer: OnPathReplayer | undefined;
  if (params.attack === 'replay') {
    const tapped = new Set([...malicious].map((n) => n.address.host));
    const addresses = net.nodes.map((n) => n.address);
    replayer = new OnPathReplayer(net.net.network, tapped, () => addresses, net.random, {
      fraction: 1,
      delayMs: 50,
      schedule: (fn, ms) => void net.net.clock.setTimeout(fn, ms),
    });
  }
  if (params.attack === 'flood') {
    // Replicas: copies on honest nodes that count themselves among the item's K closest. The others are
    // cached or handed-over extras, which the eviction order gives up first, as it should.
    const copies = (replicasOnly: boolean): number =>
      published.reduce((sum, p) => sum + net.nodes.filter((n) => !malicious.has(n) && n.store.get(p.latest.key) && (!replicasOnly || n.isAmongClosest(p.latest.key))).length, 0);
    const before = copies(false);
    const replicasBefore = copies(true);
    Object.assign(details, await flood(net, malicious, params));
    details.honest_copies_before = before;
    details.honest_copies_after = copies(false);
    details.honest_replicas_before = replicasBefore;
    details.honest_replicas_after = copies(true);
  }

  const gets = await net.getAll(published, perItem, malicious, d, quorum);
  const baseline = compare ? await net.getAll(forBaseline, perItem, malicious, 1, 1) : null;

  if (replayer) {
    // Let the last replays land, and whatever they cause settle, before counting.
    await net.net.clock.advance(seconds(10));
    replayer.stop();
    Object.assign(details, replayCounters(net, malicious, replayer));
  }
  const counters = [...malicious].map((n) => net.adversaries.get(n)!.counters);
  details.forged_values_served = counters.reduce((s, c) => s + c.forgedValues, 0);
  details.collusive_replies = counters.reduce((s, c) => s + c.collusiveReplies, 0);
  details.updates_ignored = counters.reduce((s, c) => s + c.updatesIgnored, 0);
  details.messages_dropped_by_adversaries = counters.reduce((s, c) => s + c.dropped, 0);
  details.blacklistings = net.nodes.filter((n) => !malicious.has(n)).reduce((s, n) => s + n.table.blacklistSize, 0);

  let curve: CurvePoint[] | null = null;
  if (params.curve?.length && (params.attack === 'drop' || params.attack === 'collude' || params.attack === 'forge')) {
    curve = [];
    for (const fraction of params.curve) {
      net.calm();
      const bad = net.chooseMalicious(fraction);
      const items = await net.publish(params.items, bad, `curve-${fraction}`);
      const itemsD1 = await net.publish(params.items, bad, `curve-d1-${fraction}`);
      net.turn(bad, behaviourOf(params.attack));
      const single = await net.getAll(itemsD1, perItem, bad, 1, 1);
      const multi = await net.getAll(items, perItem, bad, d, quorum);
      curve.push({ malicious: fraction, d1: 1, d, success_d1: single.success, success_d: multi.success });
    }
  }
  return finish({ malicious_nodes: malicious.size, gets, baseline, curve, details });
};

/** Every malicious node floods Stores of junk under fresh keys; reports what the honest stores took. */
const flood = async (net: AttackNetwork, malicious: ReadonlySet<DrogulusNode>, params: AttackSimulationParams): Promise<Record<string, number>> => {
  const honest = net.nodes.filter((n) => !malicious.has(n));
  const perNode = params.floodStores ?? 200;
  let stored = 0;
  let refused = 0;
  let failed = 0;
  for (const node of malicious) {
    const outcome = await net.net.run(net.adversaries.get(node)!.floodStores(honest, perNode, 256, net.random));
    stored += outcome.stored;
    refused += outcome.refused;
    failed += outcome.failed;
  }
  await net.net.clock.advance(seconds(5));
  const full = honest.filter((n) => n.store.size >= n.options.maxStoredItems).length;
  return {
    junk_stores_sent: perNode * malicious.size,
    junk_stores_acknowledged: stored,
    junk_stores_refused: refused,
    junk_stores_failed: failed,
    honest_nodes_full: full,
    honest_items_held_mean: round2(mean(honest.map((n) => n.store.size))),
    rate_limited_drops: honest.reduce((s, n) => s + (n.stats.dropped['rate-limited'] ?? 0), 0),
  };
};

const replayCounters = (net: AttackNetwork, malicious: ReadonlySet<DrogulusNode>, replayer: OnPathReplayer): Record<string, number> => {
  const honest = net.nodes.filter((n) => !malicious.has(n));
  const sum = (reason: string): number => honest.reduce((s, n) => s + (n.stats.dropped[reason] ?? 0), 0);
  // A contact held at an address other than its node's own would be the mark of a replay that moved it.
  const moved = honest.reduce((s, n) => s + n.table.contacts().filter((c) => {
    const owner = net.nodes.find((m) => m.nodeId.equals(c.id));
    return owner !== undefined && (owner.address.host !== c.host || owner.address.port !== c.port);
  }).length, 0);
  return {
    packets_seen: replayer.counters.seen,
    replayed_to_recipient: replayer.counters.replayed,
    replayed_elsewhere: replayer.counters.redirected,
    dropped_as_replayed_request: sum('replayed-request'),
    dropped_as_unmatched_reply: sum('unmatched-reply'),
    dropped_as_misdirected: sum('misdirected'),
    dropped_as_failed_seal: sum('codec-6'),
    contacts_at_wrong_address: moved,
  };
};

/**
 * For each of `items` keys: Sybils with ids ground to share more leading bits
 * with the key than any honest node is likely to, from `sybilNetworks` /24s,
 * join and look around; then an honest node publishes the item under that key
 * and honest nodes get it.
 */
const sybilAttack = async (net: AttackNetwork, params: AttackSimulationParams, d: number, quorum: number): Promise<Omit<AttackReport, 'attack' | 'nodes' | 'items' | 'seed' | 'malicious' | 'build_virtual_seconds' | 'wall_seconds'>> => {
  const perKey = params.sybils ?? 20;
  const networks = Math.max(1, params.sybilNetworks ?? 1);
  const prefixBits = Math.ceil(Math.log2(Math.max(2, net.nodes.length))) + 2;
  const behaviour: Behaviour = params.sybilBehaviour === 'forge' ? { kind: 'forge', otherwise: 'collude' } : { kind: 'collude' };
  const keys = new SeededRandom(params.seed ^ 0x5b11);
  const published: Published[] = [];
  const allSybils = new Set<DrogulusNode>();
  const closestCounts: number[] = [];
  let sybilIndex = 0;
  for (let i = 0; i < params.items; i++) {
    const publisher = net.pickHonest(allSybils);
    const name = `surrounded-${i}`;
    const key = itemKey(publisher.publicKey, name);
    const sybils: DrogulusNode[] = [];
    for (let s = 0; s < perKey; s++) {
      const identity = Identity.fromSeed(grindSeed((id) => commonPrefixLength(id, key) >= prefixBits, () => keys.bytes(32)).seed);
      const host = `127.250.${(sybilIndex % networks) + 1}.${1 + (Math.floor(sybilIndex / networks) % 250)}`;
      const transport = net.net.network.createTransport({ host: networks === 1 ? '127.250.1.1' : host, port: SYBIL_PORT + sybilIndex });
      sybilIndex++;
      const node = await net.add({ transport, identity });
      if (node) sybils.push(node);
    }
    for (const sybil of sybils) {
      allSybils.add(sybil);
      await net.net.run(sybil.lookup(key, 'node').catch(() => undefined));
      await net.net.run(sybil.lookup(Buffer.from(keys.bytes(64)), 'node').catch(() => undefined));
    }
    const everyone = [...net.nodes, ...sybils].sort((a, b) => compareDistance(a.nodeId, b.nodeId, key)).slice(0, perKey);
    closestCounts.push(everyone.filter((n) => allSybils.has(n)).length);
    // The colluders of this key's group name each other; forgers serve tampered copies of what reaches them.
    for (const sybil of sybils) net.adversaries.get(sybil)!.behaviour = behaviour;
    for (const sybil of sybils) net.colluders.add(sybil);
    const report = await net.net.run(publisher.set(name, Buffer.from(net.random.bytes(64))));
    published.push({ publisher, name, latest: report.item });
  }
  const perItem = params.getsPerItem ?? 20;
  // The baseline asks for the same surrounded keys after the main gets, whose cached copies may help it.
  const gets = await net.getAll(published, perItem, allSybils, d, quorum);
  const baseline = d !== 1 || quorum !== 1 ? await net.getAll(published, perItem, allSybils, 1, 1) : null;
  const honest = net.nodes.filter((n) => !allSybils.has(n));
  const places = honest.map((n) => [...networksOf(networks)].reduce((s, h) => s + n.table.placesHeldBy({ host: h, port: SYBIL_PORT }), 0));
  const honestCopies = published.map((p) => honest.filter((n) => n.store.get(p.latest.key)).length);
  const sybilCopies = published.map((p) => [...allSybils].filter((n) => n.store.get(p.latest.key)).length);
  return {
    malicious_nodes: allSybils.size,
    gets,
    baseline,
    curve: null,
    details: {
      sybils_per_key: perKey,
      sybil_networks: networks,
      sybil_behaviour: behaviour.kind,
      prefix_bits_ground: prefixBits,
      sybils_among_closest_mean: round2(mean(closestCounts)),
      sybil_places_per_honest_table_mean: round2(mean(places)),
      sybil_places_per_honest_table_max: Math.max(0, ...places),
      honest_copies_mean: round2(mean(honestCopies)),
      sybil_copies_mean: round2(mean(sybilCopies)),
      blacklistings: honest.reduce((s, n) => s + n.table.blacklistSize, 0),
    },
  };
};

/** The hosts Sybils use, to count their places in honest tables (placesHeldBy counts a whole IP). */
const networksOf = (networks: number): Set<string> => {
  const hosts = new Set<string>();
  if (networks === 1) hosts.add('127.250.1.1');
  else for (let i = 0; i < Math.min(networks * 250, 5000); i++) hosts.add(`127.250.${(i % networks) + 1}.${1 + (Math.floor(i / networks) % 250)}`);
  return hosts;
};
