/**
 * The store interface the DHT core is given: signed items with the times that
 * drive republishing (updated) and cache expiry (accessed), plus the saved
 * routing table. Implementations: MemoryItemStore here, the SQLite store for
 * real nodes; test/storage/store-contract.ts is the suite both must pass.
 * A store holds what it is given: validation is the node's job, before put.
 */
import type { Item } from '../protocol/item.js';
import type { TableSnapshot } from '../routing/routing-table.js';

export interface StoredItem {
  readonly item: Item;
  /** When this copy was last stored or re-stored (ms): republishing counts from here. */
  readonly updatedMs: number;
  /** When this copy was last read by a FindValue or a local get (ms). */
  readonly accessedMs: number;
}

export interface PublisherUsage {
  readonly count: number;
  readonly bytes: number;
}

export interface ItemStore {
  get(key: Uint8Array): StoredItem | undefined;
  /** Stores or replaces the item under its key, with updated = accessed = nowMs for a new key. */
  put(item: Item, nowMs: number): void;
  /** Marks the item under `key` as read at `nowMs`. */
  touch(key: Uint8Array, nowMs: number): void;
  /** Marks the item under `key` as republished at `nowMs` without replacing it. */
  markUpdated(key: Uint8Array, nowMs: number): void;
  delete(key: Uint8Array): boolean;
  /** Every stored item, in no particular order; safe to delete while iterating. */
  entries(): IterableIterator<StoredItem>;
  readonly size: number;
  /** Total bytes of stored values. */
  readonly valueBytes: number;
  /** Items held under keys of one publisher, and their value bytes: what its quota counts. */
  publisherUsage(publicKey: Uint8Array): PublisherUsage;
  /**
   * Up to `limit` items in the order a full store gives them up: expired
   * ones first (soonest expiry first), then the least recently read (by
   * accessedMs, oldest first). Each item at most once.
   */
  evictionCandidates(nowMs: number, limit: number): StoredItem[];
  saveTable(snapshot: TableSnapshot): void;
  loadTable(): TableSnapshot | undefined;
  close(): void;
}
