/**
 * Every tunable of the DHT core in one frozen place, each with its reason.
 * Options are merged with `??` so that 0 stays a valid setting.
 */
import { hours, minutes, seconds } from '../runtime/clock.js';
import { maxMessageBytesFor } from '../protocol/codec.js';
import { DEFAULT_ITEM_LIMITS, type ItemLimits } from '../protocol/item.js';

export interface NodeOptions {
  /** Bucket size, replicas per item and contacts per Nodes reply (Kademlia's k). */
  readonly k: number;
  /** Requests in flight per lookup (Kademlia's alpha). */
  readonly alpha: number;
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
}

export const DEFAULTS: NodeOptions = Object.freeze({
  k: 20,
  alpha: 3,
  rpcTimeoutMs: seconds(2),
  lookupTimeoutMs: seconds(60),
  refreshTimeoutMs: hours(1),
  replicateIntervalMs: hours(1),
  refreshIntervalMs: minutes(10),
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
});

/** Merges options over the defaults and checks them once, at the edge. */
export const resolveOptions = (options: Partial<NodeOptions> = {}): NodeOptions => {
  const merged: NodeOptions = {
    k: options.k ?? DEFAULTS.k,
    alpha: options.alpha ?? DEFAULTS.alpha,
    rpcTimeoutMs: options.rpcTimeoutMs ?? DEFAULTS.rpcTimeoutMs,
    lookupTimeoutMs: options.lookupTimeoutMs ?? DEFAULTS.lookupTimeoutMs,
    refreshTimeoutMs: options.refreshTimeoutMs ?? DEFAULTS.refreshTimeoutMs,
    replicateIntervalMs: options.replicateIntervalMs ?? DEFAULTS.replicateIntervalMs,
    refreshIntervalMs: options.refreshIntervalMs ?? DEFAULTS.refreshIntervalMs,
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
  };
  const positive: Array<keyof NodeOptions> = ['k', 'alpha', 'rpcTimeoutMs', 'lookupTimeoutMs', 'refreshIntervalMs', 'allowedRpcFails', 'duplicationCount', 'maxPendingRequests', 'republishConcurrency', 'maxMessageBytes'];
  for (const name of positive) {
    const value = merged[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`option ${name} must be a positive number, got ${String(value)}`);
  }
  if (!Number.isInteger(merged.k) || !Number.isInteger(merged.alpha)) throw new RangeError('options k and alpha must be integers');
  return Object.freeze(merged);
};
