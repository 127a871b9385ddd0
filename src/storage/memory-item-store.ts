/**
 * An ItemStore in a Map, for tests, the simulator and nodes that keep nothing
 * on disk.
 */
import { toHex } from '../crypto/bytes.js';
import { isExpired, valueLength, type Item } from '../protocol/item.js';
import type { TableSnapshot } from '../routing/routing-table.js';
import type { ItemStore, PublisherUsage, StoredItem } from './item-store.js';

export class MemoryItemStore implements ItemStore {
  private readonly items = new Map<string, StoredItem>();
  private readonly publishers = new Map<string, { count: number; bytes: number }>();
  private table: TableSnapshot | undefined;
  private bytes = 0;

  get size(): number {
    return this.items.size;
  }

  get valueBytes(): number {
    return this.bytes;
  }

  get(key: Uint8Array): StoredItem | undefined {
    return this.items.get(toHex(key));
  }

  put(item: Item, nowMs: number): void {
    const keyHex = toHex(item.key);
    const old = this.items.get(keyHex);
    if (old) this.count(old.item, -1);
    this.count(item, +1);
    this.items.set(keyHex, { item, updatedMs: nowMs, accessedMs: old?.accessedMs ?? nowMs });
  }

  publisherUsage(publicKey: Uint8Array): PublisherUsage {
    const usage = this.publishers.get(toHex(publicKey));
    return { count: usage?.count ?? 0, bytes: usage?.bytes ?? 0 };
  }

  evictionCandidates(nowMs: number, limit: number): StoredItem[] {
    const all = [...this.items.values()];
    const expired = all.filter((s) => isExpired(s.item, nowMs)).sort((a, b) => a.item.expires - b.item.expires);
    const live = all.filter((s) => !isExpired(s.item, nowMs)).sort((a, b) => a.accessedMs - b.accessedMs);
    return expired.concat(live).slice(0, Math.max(0, limit));
  }

  private count(item: Item, sign: 1 | -1): void {
    const bytes = valueLength(item.value);
    this.bytes += sign * bytes;
    const publisher = toHex(item.publicKey);
    const usage = this.publishers.get(publisher) ?? { count: 0, bytes: 0 };
    usage.count += sign;
    usage.bytes += sign * bytes;
    if (usage.count > 0) this.publishers.set(publisher, usage);
    else this.publishers.delete(publisher);
  }

  touch(key: Uint8Array, nowMs: number): void {
    const keyHex = toHex(key);
    const old = this.items.get(keyHex);
    if (old) this.items.set(keyHex, { ...old, accessedMs: nowMs });
  }

  markUpdated(key: Uint8Array, nowMs: number): void {
    const keyHex = toHex(key);
    const old = this.items.get(keyHex);
    if (old) this.items.set(keyHex, { ...old, updatedMs: nowMs });
  }

  delete(key: Uint8Array): boolean {
    const keyHex = toHex(key);
    const old = this.items.get(keyHex);
    if (!old) return false;
    this.count(old.item, -1);
    return this.items.delete(keyHex);
  }

  entries(): IterableIterator<StoredItem> {
    return [...this.items.values()][Symbol.iterator]();
  }

  saveTable(snapshot: TableSnapshot): void {
    this.table = structuredClone(snapshot);
  }

  loadTable(): TableSnapshot | undefined {
    return this.table ? structuredClone(this.table) : undefined;
  }

  close(): void {
    this.items.clear();
    this.publishers.clear();
    this.bytes = 0;
  }
}
