/**
 * Every tunable of the DHT core in one frozen place, each with its reason.
 * Options are merged with `??` so that 0 stays a valid setting.
 */
import { hours, minutes, seconds } from '../runtime/clock.js';
import { maxMessageBytesFor } from '../protocol/codec.js';
import { DEFAULT_ITEM_LIMITS, type ItemLimits } from '../protocol/item.js';
import { MAX_DIFFICULTY } from '../crypto/puzzle.js';
import { DEFAULT_SHARED_HOSTS } from '../routing/address-group.js';

export interface NodeOptions {
  /** Bucket size, replicas per item and contacts per Nodes reply (Kademlia's k). */
  readonly k: number;
  /** Requests in flight per lookup (Kademlia's alpha). */
  readonly alpha: number;
  /**
   * A FindValue lookup asks its closest candidate alone first, and opens up to
   * alpha requests once that one has answered without the value, failed, or
   * kept it waiting this long; sooner, twice the peer's smoothed round trip
   * (at least 20 ms), when the table has measured it. 0: alpha from the start.
   * The closest peer usually holds the value, and each request a found value
   * leaves in flight costs a request, a reply and their seals for nothing.
   */
  readonly valueHedgeMs: number;
  /**
   * Time to wait for one reply. The original's 5 s made lookups slow when peers
   * had gone; 2 s is still well above Internet round trips (p99 under 1 s).
   */
  readonly rpcTimeoutMs: number;
  /** Upper bound for one lookup; the original's 600 s only hid stuck lookups. */
  readonly lookupTimeoutMs: number;
  /** A bucket untouched this long is refreshed with a lookup in its range. */
  readonly refreshTimeoutMs: number;
  /** An item not re-stored for this long is republished; a cached copy not read for this long is dropped. */
  readonly replicateIntervalMs: number;
  /** How often the node looks for refresh and republish work. */
  readonly refreshIntervalMs: number;
  /**
   * Self-lookups repeated after a join that left the table holding fewer than
   * K contacts, 1 s after it and then at doubling delays. Nodes that join at
   * the same moment through one seed are each told nothing of the other (the
   * seed admits a newcomer only after its challenge round trip), and would
   * otherwise not meet until a bucket refresh an hour later.
   */
  readonly joinFollowUpLookups: number;
  /**
   * A publish sends its Stores while its lookup still runs, to each of the
   * closest candidates as it answers once the closest has answered, instead
   * of after the lookup: one round trip less on a wide-area network, for the
   * odd extra copy on a peer the lookup then finds not among the closest.
   */
  readonly earlyStores: boolean;
  /**
   * The shortest wait before a request with no answer is sent again, under a
   * fresh request id, to a peer (src/dht/retransmit-timer.ts: RTT-adaptive
   * above this floor, at most half of rpcTimeoutMs). 0: never sent again.
   */
  readonly retransmitMinMs: number;
  /**
   * Kademlia's store-on-join: a node hands a new neighbour the items it is
   * now among the K closest to (src/dht/handoff.ts), instead of leaving them
   * to the next republish.
   */
  readonly storeOnJoin: boolean;
  /** How many of the closest candidates must have answered before a publish's early Stores start. */
  readonly earlyStoresAfter: number;
  /** Consecutive failed requests before a contact is evicted. */
  readonly allowedRpcFails: number;
  /** Default number of nodes an item is stored on. */
  readonly duplicationCount: number;
  /** Requests of ours awaiting replies; beyond this new requests fail at once. */
  readonly maxPendingRequests: number;
  /** Recent address challenges remembered; beyond this unknown senders are not challenged. */
  readonly maxPendingChallenges: number;
  /** The same id at the same address is challenged at most once per this interval. */
  readonly challengeIntervalMs: number;
  /** Items a node holds at most; beyond this Stores of new keys are refused with code 4. */
  readonly maxStoredItems: number;
  /** Items dated further than this into the future are refused. */
  readonly maxClockSkewMs: number;
  /** Republishes run at once during maintenance. */
  readonly republishConcurrency: number;
  readonly itemLimits: ItemLimits;
  /**
   * Seal messages to peers whose key we know with a MAC under a pairwise
   * session key instead of an Ed25519 signature (docs/protocol.md, "Seals").
   */
  readonly sessionMacs: boolean;
  /** Session keys kept (least recently used out); each costs an X25519 agreement to derive. */
  readonly sessionKeyCacheSize: number;
  /** Largest encoded message accepted. */
  readonly maxMessageBytes: number;

  // ---- routing table integrity (docs/protocol.md, "Routing rules") ----
  /** Contacts of one IP address per bucket (and per replacement cache). S/Kademlia and libp2p use 2. */
  readonly maxContactsPerHostPerBucket: number;
  /** Contacts of one /24 (IPv4) or /48 (IPv6) per bucket (and per replacement cache): one operator's network. */
  readonly maxContactsPerNetworkPerBucket: number;
  /** Places one IP address may hold in the whole table, contacts and replacements together. */
  readonly maxContactsPerHost: number;
  /**
   * Hosts many honest nodes share on purpose, where each port counts as a
   * host of its own (for the caps above and the rate limits below): the
   * loopback addresses of a devnet, which no remote peer can send from.
   */
  readonly sharedHosts: readonly string[];
  /**
   * The Sybil puzzle: SHA-512 of an admissible node id starts with this many
   * zero bits. Every node of a network must use the same value; 0 = no puzzle.
   */
  readonly difficulty: number;

  // ---- limits (docs/protocol.md, "Limits") ----
  /**
   * Unsolicited messages a second per source IP after the burst. Generous on
   * purpose: many users can share one IP (carrier-grade NAT), and a request
   * costs about 50 µs to check, so this bounds one IP to about 1% of a core.
   */
  readonly requestsPerSecondPerSource: number;
  /** Messages a source may send at once before its rate applies. */
  readonly requestBurstPerSource: number;
  /** Sources whose rate is tracked; beyond this the least recently seen is forgotten. */
  readonly maxTrackedSources: number;
  /**
   * Requests that may draw a large reply (FindNode, FindValue, a Ping to an
   * unknown key) are padded to this many bytes when sent to a peer that may
   * not have proven our address yet, so that its reply may be that large;
   * 0 turns padding off. 1,200 is the datagram size of the UDP transport.
   */
  readonly padRequestsToBytes: number;
  /** Pings to an unknown key, or to a peer that may not have proven our address, are padded to this size: room for a Pong and a challenge. */
  readonly padPingsToBytes: number;
  /** Addresses remembered as proven (either way); least recently proven out beyond this. */
  readonly maxProvenAddresses: number;
  /** How long a proven address stays proven without a new round trip. */
  readonly provenAddressTtlMs: number;
  /** Requests remembered (by sender, address and id) to drop replays of them. */
  readonly maxRecentRequests: number;
  /** How long a request is remembered for that. */
  readonly replayWindowMs: number;
  /** Total bytes of stored values; beyond this, Stores evict fairly or are refused with code 4. */
  readonly maxStoredBytes: number;
  /** Items of one publisher key a node holds at most. */
  readonly maxItemsPerPublisher: number;
  /** Value bytes of one publisher key a node holds at most. */
  readonly maxBytesPerPublisher: number;

  // ---- lookups (S/Kademlia section 4.4) ----
  /** Disjoint paths per FindValue lookup and per replicate's lookup; 1 = plain Kademlia. */
  readonly disjointPaths: number;
  /** Valid copies a get collects before it answers with the newest (fewer when fewer exist). */
  readonly getQuorum: number;
  /**
   * Candidates of one /24 (IPv4) or /48 (IPv6) network counted among a
   * lookup's K closest (a port on a shared host is a network of its own);
   * Infinity = no limit. Keeps one operator's Sybils from filling the K
   * closest a lookup returns, and so a replicate's store set, even when
   * they answer with each other.
   */
  readonly maxLookupContactsPerNetwork: number;
  /**
   * The density check against Sybils ground next to a key (docs/security.md,
   * "Density of ids near a key"; src/dht/density.ts): when the m closest ids
   * to a target are this many times denser than the network size the node
   * estimates from its own neighbourhood allows, they are an anomalous
   * cluster, and lookups, gets and replicates go on to the K closest ids
   * beyond it (asking and storing on the cluster as well). 0 turns it off.
   * At 4 a false alarm among honest ids is rare (a few in a thousand
   * lookups, and only widens the sets), while Sybils that stay below the
   * factor leave about K/4 honest ids among the K closest.
   */
  readonly densityCheckFactor: number;
  /** The fewest ids that can form a cluster (a few close ids are common by chance). */
  readonly densityCheckMinCluster: number;
  /** The most ids counted as a cluster: what one get may ask beyond the K closest. */
  readonly densityCheckMaxCluster: number;
}

export const DEFAULTS: NodeOptions = Object.freeze({
  k: 20,
  alpha: 3,
  valueHedgeMs: 250,
  rpcTimeoutMs: seconds(2),
  lookupTimeoutMs: seconds(60),
  refreshTimeoutMs: hours(1),
  replicateIntervalMs: hours(1),
  refreshIntervalMs: minutes(10),
  joinFollowUpLookups: 4,
  earlyStores: true,
  retransmitMinMs: 250,
  storeOnJoin: true,
  earlyStoresAfter: 3,
  allowedRpcFails: 5,
  duplicationCount: 20,
  maxPendingRequests: 8192,
  maxPendingChallenges: 4096,
  challengeIntervalMs: minutes(1),
  maxStoredItems: 1_000_000,
  maxClockSkewMs: minutes(10),
  republishConcurrency: 8,
  itemLimits: DEFAULT_ITEM_LIMITS,
  sessionMacs: true,
  sessionKeyCacheSize: 4096,
  maxMessageBytes: maxMessageBytesFor(DEFAULT_ITEM_LIMITS),
  maxContactsPerHostPerBucket: 2,
  maxContactsPerNetworkPerBucket: 2,
  maxContactsPerHost: 3,
  sharedHosts: DEFAULT_SHARED_HOSTS,
  difficulty: 0,
  requestsPerSecondPerSource: 200,
  requestBurstPerSource: 1000,
  maxTrackedSources: 65_536,
  padRequestsToBytes: 1200,
  padPingsToBytes: 512,
  maxProvenAddresses: 65_536,
  provenAddressTtlMs: hours(1),
  maxRecentRequests: 16_384,
  replayWindowMs: minutes(10),
  maxStoredBytes: 1024 ** 3,
  maxItemsPerPublisher: 10_000,
  maxBytesPerPublisher: 64 * 1024 ** 2,
  disjointPaths: 1,
  getQuorum: 1,
  maxLookupContactsPerNetwork: 2,
  densityCheckFactor: 4,
  densityCheckMinCluster: 6,
  densityCheckMaxCluster: 100,
});

/** Merges options over the defaults and checks them once, at the edge. */
export const resolveOptions = (options: Partial<NodeOptions> = {}): NodeOptions => {
  const merged: NodeOptions = {
    k: options.k ?? DEFAULTS.k,
    alpha: options.alpha ?? DEFAULTS.alpha,
    valueHedgeMs: options.valueHedgeMs ?? DEFAULTS.valueHedgeMs,
    rpcTimeoutMs: options.rpcTimeoutMs ?? DEFAULTS.rpcTimeoutMs,
    lookupTimeoutMs: options.lookupTimeoutMs ?? DEFAULTS.lookupTimeoutMs,
    refreshTimeoutMs: options.refreshTimeoutMs ?? DEFAULTS.refreshTimeoutMs,
    replicateIntervalMs: options.replicateIntervalMs ?? DEFAULTS.replicateIntervalMs,
    refreshIntervalMs: options.refreshIntervalMs ?? DEFAULTS.refreshIntervalMs,
    joinFollowUpLookups: options.joinFollowUpLookups ?? DEFAULTS.joinFollowUpLookups,
    earlyStores: options.earlyStores ?? DEFAULTS.earlyStores,
    retransmitMinMs: options.retransmitMinMs ?? DEFAULTS.retransmitMinMs,
    storeOnJoin: options.storeOnJoin ?? DEFAULTS.storeOnJoin,
    earlyStoresAfter: options.earlyStoresAfter ?? DEFAULTS.earlyStoresAfter,
    allowedRpcFails: options.allowedRpcFails ?? DEFAULTS.allowedRpcFails,
    duplicationCount: options.duplicationCount ?? DEFAULTS.duplicationCount,
    maxPendingRequests: options.maxPendingRequests ?? DEFAULTS.maxPendingRequests,
    maxPendingChallenges: options.maxPendingChallenges ?? DEFAULTS.maxPendingChallenges,
    challengeIntervalMs: options.challengeIntervalMs ?? DEFAULTS.challengeIntervalMs,
    maxStoredItems: options.maxStoredItems ?? DEFAULTS.maxStoredItems,
    maxClockSkewMs: options.maxClockSkewMs ?? DEFAULTS.maxClockSkewMs,
    republishConcurrency: options.republishConcurrency ?? DEFAULTS.republishConcurrency,
    itemLimits: options.itemLimits ?? DEFAULTS.itemLimits,
    sessionMacs: options.sessionMacs ?? DEFAULTS.sessionMacs,
    sessionKeyCacheSize: options.sessionKeyCacheSize ?? DEFAULTS.sessionKeyCacheSize,
    maxMessageBytes: options.maxMessageBytes ?? maxMessageBytesFor(options.itemLimits ?? DEFAULTS.itemLimits),
    maxContactsPerHostPerBucket: options.maxContactsPerHostPerBucket ?? DEFAULTS.maxContactsPerHostPerBucket,
    maxContactsPerNetworkPerBucket: options.maxContactsPerNetworkPerBucket ?? DEFAULTS.maxContactsPerNetworkPerBucket,
    maxContactsPerHost: options.maxContactsPerHost ?? DEFAULTS.maxContactsPerHost,
    sharedHosts: options.sharedHosts ?? DEFAULTS.sharedHosts,
    difficulty: options.difficulty ?? DEFAULTS.difficulty,
    requestsPerSecondPerSource: options.requestsPerSecondPerSource ?? DEFAULTS.requestsPerSecondPerSource,
    requestBurstPerSource: options.requestBurstPerSource ?? DEFAULTS.requestBurstPerSource,
    maxTrackedSources: options.maxTrackedSources ?? DEFAULTS.maxTrackedSources,
    padRequestsToBytes: options.padRequestsToBytes ?? DEFAULTS.padRequestsToBytes,
    padPingsToBytes: options.padPingsToBytes ?? DEFAULTS.padPingsToBytes,
    maxProvenAddresses: options.maxProvenAddresses ?? DEFAULTS.maxProvenAddresses,
    provenAddressTtlMs: options.provenAddressTtlMs ?? DEFAULTS.provenAddressTtlMs,
    maxRecentRequests: options.maxRecentRequests ?? DEFAULTS.maxRecentRequests,
    replayWindowMs: options.replayWindowMs ?? DEFAULTS.replayWindowMs,
    maxStoredBytes: options.maxStoredBytes ?? DEFAULTS.maxStoredBytes,
    maxItemsPerPublisher: options.maxItemsPerPublisher ?? DEFAULTS.maxItemsPerPublisher,
    maxBytesPerPublisher: options.maxBytesPerPublisher ?? DEFAULTS.maxBytesPerPublisher,
    disjointPaths: options.disjointPaths ?? DEFAULTS.disjointPaths,
    getQuorum: options.getQuorum ?? DEFAULTS.getQuorum,
    maxLookupContactsPerNetwork: options.maxLookupContactsPerNetwork ?? DEFAULTS.maxLookupContactsPerNetwork,
    densityCheckFactor: options.densityCheckFactor ?? DEFAULTS.densityCheckFactor,
    densityCheckMinCluster: options.densityCheckMinCluster ?? DEFAULTS.densityCheckMinCluster,
    densityCheckMaxCluster: options.densityCheckMaxCluster ?? DEFAULTS.densityCheckMaxCluster,
  };
  const positive: Array<keyof NodeOptions> = [
    'k', 'alpha', 'earlyStoresAfter', 'rpcTimeoutMs', 'lookupTimeoutMs', 'refreshIntervalMs', 'allowedRpcFails', 'duplicationCount', 'maxPendingRequests', 'republishConcurrency', 'maxMessageBytes',
    'maxContactsPerHostPerBucket', 'maxContactsPerNetworkPerBucket', 'maxContactsPerHost', 'requestsPerSecondPerSource', 'requestBurstPerSource', 'maxTrackedSources',
    'maxProvenAddresses', 'provenAddressTtlMs', 'maxRecentRequests', 'replayWindowMs', 'disjointPaths', 'getQuorum', 'maxLookupContactsPerNetwork',
  ];
  for (const name of positive) {
    const value = merged[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`option ${name} must be a positive number, got ${String(value)}`);
  }
  if (!Number.isInteger(merged.k) || !Number.isInteger(merged.alpha) || !Number.isInteger(merged.earlyStoresAfter)) throw new RangeError('options k, alpha and earlyStoresAfter must be integers');
  if (!Number.isInteger(merged.disjointPaths) || !Number.isInteger(merged.getQuorum)) throw new RangeError('options disjointPaths and getQuorum must be integers');
  if (!Number.isInteger(merged.joinFollowUpLookups) || merged.joinFollowUpLookups < 0) throw new RangeError(`option joinFollowUpLookups must be an integer of 0 or more, got ${String(merged.joinFollowUpLookups)}`);
  if (!Number.isInteger(merged.difficulty) || merged.difficulty < 0 || merged.difficulty > MAX_DIFFICULTY) throw new RangeError(`option difficulty must be an integer from 0 to ${MAX_DIFFICULTY}`);
  for (const name of ['densityCheckMinCluster', 'densityCheckMaxCluster'] as const) {
    if (!Number.isInteger(merged[name]) || merged[name] < 1) throw new RangeError(`option ${name} must be an integer of at least 1, got ${String(merged[name])}`);
  }
  for (const name of ['valueHedgeMs', 'retransmitMinMs', 'padRequestsToBytes', 'padPingsToBytes', 'maxStoredBytes', 'maxItemsPerPublisher', 'maxBytesPerPublisher', 'densityCheckFactor'] as const) {
    if (!(merged[name] >= 0)) throw new RangeError(`option ${name} must be zero or more, got ${String(merged[name])}`);
  }
  return Object.freeze(merged);
};
