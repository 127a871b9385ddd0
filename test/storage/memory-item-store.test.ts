import type { TableSnapshot } from '../../src/routing/routing-table.js';
import type { StoredItem } from '../../src/storage/item-store.js';
import { MemoryItemStore } from '../../src/storage/memory-item-store.js';
import { runItemStoreContract } from './store-contract.js';

runItemStoreContract('MemoryItemStore', () => new MemoryItemStore());

interface Disk {
  items: StoredItem[];
  table: TableSnapshot | undefined;
}

/**
 * A MemoryItemStore that writes itself to a plain object on close and reads it
 * back when made again: it lets the contract's close-and-reopen tests run (and
 * be checked) before the SQLite store that needs them exists.
 */
class DiskBackedMemoryStore extends MemoryItemStore {
  constructor(readonly disk: Disk) {
    super();
    for (const { item, updatedMs, accessedMs } of disk.items) {
      this.put(item, updatedMs);
      this.touch(item.key, accessedMs);
    }
    if (disk.table) this.saveTable(disk.table);
  }

  override close(): void {
    this.disk.items = [...this.entries()];
    this.disk.table = this.loadTable();
    super.close();
  }
}

runItemStoreContract('MemoryItemStore saved to a simulated disk', () => new DiskBackedMemoryStore({ items: [], table: undefined }), {
  reopen: (store) => new DiskBackedMemoryStore((store as DiskBackedMemoryStore).disk),
});
