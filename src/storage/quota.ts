/**
 * Storage quotas: how many items and value bytes a node holds in all and per
 * publisher key, and what a full store gives up to take a new item. The
 * order is fair to publishers (docs/protocol.md, "Storage quotas"): expired
 * items first, then cached copies (keys we are not among the K closest to),
 * least recently read first, then, only for an item we are a replica for,
 * replicas of publishers that would still hold at least as many items as
 * the newcomer's publisher, least recently read first. Anything else is
 * never evicted: the Store is refused with code 4. A pure plan; the caller
 * deletes and puts.
 */
import { toHex } from '../crypto/bytes.js';
import { isExpired, type Item, valueLength } from '../protocol/item.js';
import type { ItemStore, StoredItem } from './item-store.js';

export interface QuotaLimits {
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly maxItemsPerPublisher: number;
  readonly maxBytesPerPublisher: number;
}

export type EvictionReason = 'expired' | 'cached copy' | 'fair share';

export type QuotaPlan =
  | { readonly ok: true; readonly evict: ReadonlyArray<{ readonly stored: StoredItem; readonly reason: EvictionReason }> }
  | { readonly ok: false; readonly message: string };

/** Items a full store examines for eviction: enough for a Store's needs, few enough that a SQLite store reads them quickly. */
export const EVICTION_WINDOW = 256;

/**
 * What storing `item` takes: nothing, some evictions, or a refusal.
 * `isCachedCopy(key)` says whether a copy under `key` is only a cache (we
 * are not among the K closest nodes we know to it). The item's version was
 * already checked against the one held, if any.
 */
export const planStore = (store: ItemStore, item: Item, nowMs: number, limits: QuotaLimits, isCachedCopy: (key: Uint8Array) => boolean): QuotaPlan => {
  const size = valueLength(item.value);
  const held = store.get(item.key);
  const heldBytes = held ? valueLength(held.item.value) : 0;
  const newKey = held === undefined;
  const usage = store.publisherUsage(item.publicKey);
  if (newKey && usage.count + 1 > limits.maxItemsPerPublisher) {
    return { ok: false, message: `this node holds ${usage.count} items of this publisher, its quota` };
  }
  if (usage.bytes - heldBytes + size > limits.maxBytesPerPublisher) {
    return { ok: false, message: `this item would take this publisher over its quota of ${limits.maxBytesPerPublisher} bytes here` };
  }
  let excessItems = store.size + (newKey ? 1 : 0) - limits.maxItems;
  let excessBytes = store.valueBytes - heldBytes + size - limits.maxBytes;
  if (excessItems <= 0 && excessBytes <= 0) return { ok: true, evict: [] };
  if (size > limits.maxBytes) return { ok: false, message: `the value is larger than this node's whole store (${limits.maxBytes} bytes)` };

  const keyHex = toHex(item.key);
  const publisherHex = toHex(item.publicKey);
  const incomingCount = usage.count + (newKey ? 1 : 0);
  const incomingIsCache = isCachedCopy(item.key);
  const candidates = store.evictionCandidates(nowMs, EVICTION_WINDOW).filter((s) => toHex(s.item.key) !== keyHex);
  const expired = candidates.filter((s) => isExpired(s.item, nowMs));
  const live = candidates.filter((s) => !isExpired(s.item, nowMs));
  const caches = live.filter((s) => isCachedCopy(s.item.key));
  const replicas = incomingIsCache ? [] : live.filter((s) => !isCachedCopy(s.item.key));

  const evict: Array<{ stored: StoredItem; reason: EvictionReason }> = [];
  const take = (stored: StoredItem, reason: EvictionReason): void => {
    evict.push({ stored, reason });
    excessItems--;
    excessBytes -= valueLength(stored.item.value);
  };
  const satisfied = (): boolean => excessItems <= 0 && excessBytes <= 0;
  for (const s of expired) if (!satisfied()) take(s, 'expired');
  for (const s of caches) if (!satisfied()) take(s, 'cached copy');
  // Counts as they fall: a publisher gives up items only while it keeps at least as many as the newcomer's.
  const counts = new Map<string, number>();
  for (const s of replicas) {
    if (satisfied()) break;
    const q = toHex(s.item.publicKey);
    if (q === publisherHex) continue;
    const count = counts.get(q) ?? store.publisherUsage(s.item.publicKey).count;
    if (count - 1 < incomingCount) continue;
    counts.set(q, count - 1);
    take(s, 'fair share');
  }
  if (!satisfied()) return { ok: false, message: 'this node is full, and nothing it holds can be evicted fairly for this item' };
  return { ok: true, evict };
};
