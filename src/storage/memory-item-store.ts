/**
 * An ItemStore in a Map, for tests, the simulator and nodes that keep nothing
 * on disk.
 */
import { toHex } from '../crypto/bytes.js';
import { valueLength, type Item } from '../protocol/item.js';
import type { TableSnapshot } from '../routing/routing-table.js';
import type { ItemStore, StoredItem } from './item-store.js';

export class MemoryItemStore implements ItemStore {
  private readonly items = new Map<string, StoredItem>();
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
    if (old) this.bytes -= valueLength(old.item.value);
    this.bytes += valueLength(item.value);
    this.items.set(keyHex, { item, updatedMs: nowMs, accessedMs: old?.accessedMs ?? nowMs });
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
    this.bytes -= valueLength(old.item.value);
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
  }
}
