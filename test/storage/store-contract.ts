/**
 * The suite every ItemStore must pass (the memory store now, the SQLite store
 * later): one set of behaviours, run against each implementation, as undici
 * runs one cache-store suite against its memory and SQLite stores.
 * Items are real signed items, so a store that loses a byte anywhere fails
 * the signature check as well as the equality.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { checkItem, createItem, type Item } from '../../src/protocol/item.js';
import type { TableSnapshot } from '../../src/routing/routing-table.js';
import { SeededRandom } from '../../src/runtime/random.js';
import type { ItemStore, StoredItem } from '../../src/storage/item-store.js';

export interface ItemStoreContractOptions {
  /**
   * For stores that persist: given a store the suite has just closed, opens a
   * new store over the same data (the same SQLite file, say). When given, the
   * suite also checks that items, their times and the table survive.
   */
  readonly reopen?: (store: ItemStore) => ItemStore | Promise<ItemStore>;
}

const T0_MS = Date.UTC(2026, 0, 1);
const DAY_MS = 24 * 60 * 60 * 1000;

const alice = Identity.fromSeed(Buffer.alloc(32, 0x51));
const bob = Identity.fromSeed(Buffer.alloc(32, 0x52));

// Multi-byte UTF-8 on purpose: valueBytes counts bytes, not UTF-16 code units.
const PROFILE_JSON = '{"name":"Zoë","city":"東京","tags":["a",1,null]}';

const items = {
  json: createItem(alice, { name: 'profile', value: PROFILE_JSON, timestamp: T0_MS, expires: T0_MS + 30 * DAY_MS, meta: { lang: 'en', clé: 'valeur ✓' } }),
  jsonNewer: createItem(alice, { name: 'profile', value: '[1,2,3]', timestamp: T0_MS + 10 }),
  bytes: createItem(alice, { name: 'blob', value: new Uint8Array([0, 1, 2, 254, 255]), timestamp: T0_MS, meta: { type: 'application/octet-stream' } }),
  // The empty name keys an item by its publisher's node id; the empty value is still a value.
  empty: createItem(bob, { name: '', value: new Uint8Array(0), timestamp: T0_MS + 1 }),
  big: createItem(bob, { name: 'big', value: new SeededRandom(1).bytes(64 * 1024), timestamp: T0_MS + 2, createdWith: 'contract-test/1' }),
  sameNameOtherPublisher: createItem(bob, { name: 'profile', value: '"bob"', timestamp: T0_MS }),
} satisfies Record<string, Item>;

const bytesOf = (item: Item): number => (typeof item.value === 'string' ? Buffer.byteLength(item.value, 'utf8') : item.value.length);

/** A deep copy with every byte array as `{ bytes: hex }`, so equality compares bytes, not which class holds them. */
const plain = (x: unknown): unknown => {
  if (x instanceof Uint8Array) return { bytes: toHex(x) };
  if (Array.isArray(x)) return x.map(plain);
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
};

const expectStored = (stored: StoredItem | undefined, item: Item, times: { updatedMs: number; accessedMs: number }): void => {
  expect(stored).toBeDefined();
  expect(plain(stored!.item)).toEqual(plain(item));
  expect(typeof stored!.item.value).toBe(typeof item.value);
  expect(checkItem(stored!.item, T0_MS)).toBeUndefined();
  expect({ updatedMs: stored!.updatedMs, accessedMs: stored!.accessedMs }).toEqual(times);
};

const keysOf = (stored: Iterable<StoredItem>): string[] => [...stored].map((s) => toHex(s.item.key)).sort();

const snapshot = (port: number): TableSnapshot => ({
  version: 1,
  nodeId: toHex(alice.nodeId),
  contacts: [
    { publicKey: toHex(bob.publicKey), host: '10.0.0.2', port },
    { publicKey: toHex(Identity.fromSeed(Buffer.alloc(32, 0x53)).publicKey), host: '2001:db8::1', port: 4001 },
  ],
  blacklist: [toHex(Identity.fromSeed(Buffer.alloc(32, 0x54)).nodeId)],
});

export const runItemStoreContract = (
  name: string,
  makeStore: () => ItemStore | Promise<ItemStore>,
  options: ItemStoreContractOptions = {},
): void => {
  describe(`${name} (ItemStore contract)`, () => {
    const opened = new Set<ItemStore>();

    const open = async (): Promise<ItemStore> => {
      const store = await makeStore();
      opened.add(store);
      return store;
    };

    afterEach(() => {
      for (const store of opened) store.close();
      opened.clear();
    });

    it('returns undefined for a key it does not hold', async () => {
      const store = await open();
      expect(store.get(items.json.key)).toBeUndefined();
      expect(store.size).toBe(0);
      expect(store.valueBytes).toBe(0);
    });

    it('returns an item as it was put, with updated and accessed times both set to the time of the put', async () => {
      const store = await open();
      const all = [items.json, items.bytes, items.empty, items.big];
      all.forEach((item, i) => store.put(item, T0_MS + i));
      all.forEach((item, i) => expectStored(store.get(item.key), item, { updatedMs: T0_MS + i, accessedMs: T0_MS + i }));
    });

    it('keeps items of different publishers apart even when they share a name', async () => {
      const store = await open();
      store.put(items.json, T0_MS);
      store.put(items.sameNameOtherPublisher, T0_MS + 1);
      expect(store.size).toBe(2);
      expectStored(store.get(items.json.key), items.json, { updatedMs: T0_MS, accessedMs: T0_MS });
      expectStored(store.get(items.sameNameOtherPublisher.key), items.sameNameOtherPublisher, { updatedMs: T0_MS + 1, accessedMs: T0_MS + 1 });
    });

    it('replaces the item under an existing key, setting the updated time and keeping the accessed time', async () => {
      const store = await open();
      store.put(items.json, T0_MS);
      store.touch(items.json.key, T0_MS + 5);
      store.put(items.jsonNewer, T0_MS + 10);
      expect(store.size).toBe(1);
      expectStored(store.get(items.json.key), items.jsonNewer, { updatedMs: T0_MS + 10, accessedMs: T0_MS + 5 });
    });

    it('sets only the accessed time on touch', async () => {
      const store = await open();
      store.put(items.bytes, T0_MS);
      store.touch(items.bytes.key, T0_MS + 7);
      expectStored(store.get(items.bytes.key), items.bytes, { updatedMs: T0_MS, accessedMs: T0_MS + 7 });
    });

    it('sets only the updated time on markUpdated', async () => {
      const store = await open();
      store.put(items.bytes, T0_MS);
      store.markUpdated(items.bytes.key, T0_MS + 9);
      expectStored(store.get(items.bytes.key), items.bytes, { updatedMs: T0_MS + 9, accessedMs: T0_MS });
    });

    it('does nothing on touch or markUpdated of a key it does not hold', async () => {
      const store = await open();
      store.put(items.bytes, T0_MS);
      store.touch(items.json.key, T0_MS + 1);
      store.markUpdated(items.json.key, T0_MS + 2);
      expect(store.get(items.json.key)).toBeUndefined();
      expect(store.size).toBe(1);
      expect(store.valueBytes).toBe(bytesOf(items.bytes));
      expectStored(store.get(items.bytes.key), items.bytes, { updatedMs: T0_MS, accessedMs: T0_MS });
    });

    it('deletes a held key once: true, then false', async () => {
      const store = await open();
      store.put(items.json, T0_MS);
      store.put(items.bytes, T0_MS);
      expect(store.delete(items.json.key)).toBe(true);
      expect(store.get(items.json.key)).toBeUndefined();
      expect(store.delete(items.json.key)).toBe(false);
      expect(store.delete(items.big.key)).toBe(false);
      expect(store.size).toBe(1);
      expect(store.get(items.bytes.key)).toBeDefined();
    });

    it('yields every item once from entries, with its times', async () => {
      const store = await open();
      expect([...store.entries()]).toEqual([]);
      const all = [items.json, items.bytes, items.empty, items.big];
      all.forEach((item, i) => store.put(item, T0_MS + i));
      store.touch(items.big.key, T0_MS + 50);
      const entries = [...store.entries()];
      expect(keysOf(entries)).toEqual(all.map((i) => toHex(i.key)).sort());
      for (const entry of entries) {
        const i = all.findIndex((item) => toHex(item.key) === toHex(entry.item.key));
        expectStored(entry, all[i], { updatedMs: T0_MS + i, accessedMs: all[i] === items.big ? T0_MS + 50 : T0_MS + i });
      }
    });

    it('lets the caller delete each item while iterating over entries', async () => {
      const store = await open();
      const all = [items.json, items.bytes, items.empty, items.big];
      for (const item of all) store.put(item, T0_MS);
      const visited: string[] = [];
      for (const entry of store.entries()) {
        visited.push(toHex(entry.item.key));
        expect(store.delete(entry.item.key)).toBe(true);
      }
      expect(visited.sort()).toEqual(all.map((i) => toHex(i.key)).sort());
      expect(store.size).toBe(0);
      expect(store.valueBytes).toBe(0);
    });

    it('lets the caller delete items not yet visited while iterating over entries', async () => {
      const store = await open();
      const all = [items.json, items.bytes, items.empty, items.big];
      for (const item of all) store.put(item, T0_MS);
      let visits = 0;
      for (const entry of store.entries()) {
        visits++;
        if (visits === 1) for (const item of all) store.delete(item.key);
        expect(entry.item.key).toHaveLength(64);
      }
      expect(visits).toBeGreaterThanOrEqual(1);
      expect(visits).toBeLessThanOrEqual(all.length);
      expect(store.size).toBe(0);
      expect([...store.entries()]).toEqual([]);
    });

    it('counts items and the bytes of their values through puts, replacements and deletes', async () => {
      const store = await open();
      // JSON values count their UTF-8 bytes, which here differ from the string length.
      expect(Buffer.byteLength(PROFILE_JSON, 'utf8')).toBeGreaterThan(PROFILE_JSON.length);
      const expectCounts = (size: number, valueBytes: number): void => {
        expect({ size: store.size, valueBytes: store.valueBytes }).toEqual({ size, valueBytes });
      };
      expectCounts(0, 0);
      store.put(items.json, T0_MS);
      expectCounts(1, Buffer.byteLength(PROFILE_JSON, 'utf8'));
      store.put(items.bytes, T0_MS);
      expectCounts(2, Buffer.byteLength(PROFILE_JSON, 'utf8') + 5);
      store.put(items.empty, T0_MS);
      store.put(items.big, T0_MS);
      expectCounts(4, Buffer.byteLength(PROFILE_JSON, 'utf8') + 5 + 0 + 64 * 1024);
      store.put(items.jsonNewer, T0_MS + 1);
      expectCounts(4, '[1,2,3]'.length + 5 + 64 * 1024);
      store.put(items.jsonNewer, T0_MS + 2);
      expectCounts(4, '[1,2,3]'.length + 5 + 64 * 1024);
      expect(store.delete(items.big.key)).toBe(true);
      expectCounts(3, '[1,2,3]'.length + 5);
      store.delete(items.big.key);
      expectCounts(3, '[1,2,3]'.length + 5);
      store.delete(items.bytes.key);
      store.delete(items.empty.key);
      store.delete(items.json.key);
      expectCounts(0, 0);
    });

    it('counts each publisher\'s items and value bytes through puts, replacements and deletes', async () => {
      const store = await open();
      expect(store.publisherUsage(alice.publicKey)).toEqual({ count: 0, bytes: 0 });
      store.put(items.json, T0_MS);
      store.put(items.bytes, T0_MS);
      store.put(items.empty, T0_MS);
      expect(store.publisherUsage(alice.publicKey)).toEqual({ count: 2, bytes: bytesOf(items.json) + bytesOf(items.bytes) });
      expect(store.publisherUsage(bob.publicKey)).toEqual({ count: 1, bytes: 0 });
      store.put(items.jsonNewer, T0_MS + 1);
      expect(store.publisherUsage(alice.publicKey)).toEqual({ count: 2, bytes: bytesOf(items.jsonNewer) + bytesOf(items.bytes) });
      store.delete(items.bytes.key);
      store.delete(items.empty.key);
      expect(store.publisherUsage(alice.publicKey)).toEqual({ count: 1, bytes: bytesOf(items.jsonNewer) });
      expect(store.publisherUsage(bob.publicKey)).toEqual({ count: 0, bytes: 0 });
    });

    it('offers items for eviction expired first, soonest expiry first, then least recently read, each once', async () => {
      const store = await open();
      const soon = createItem(bob, { name: 'soon', value: '1', timestamp: T0_MS, expires: T0_MS + 10 });
      const later = createItem(bob, { name: 'later', value: '2', timestamp: T0_MS, expires: T0_MS + 20 });
      store.put(items.json, T0_MS);
      store.put(items.bytes, T0_MS);
      store.put(items.empty, T0_MS);
      store.put(later, T0_MS);
      store.put(soon, T0_MS);
      store.touch(items.json.key, T0_MS + 3);
      store.touch(items.bytes.key, T0_MS + 1);
      store.touch(items.empty.key, T0_MS + 2);
      const now = T0_MS + 30;
      const order = [soon, later, items.bytes, items.empty, items.json].map((i) => toHex(i.key));
      expect(store.evictionCandidates(now, 10).map((s) => toHex(s.item.key))).toEqual(order);
      expect(store.evictionCandidates(now, 3).map((s) => toHex(s.item.key))).toEqual(order.slice(0, 3));
      expect(store.evictionCandidates(now, 0)).toEqual([]);
      // Before either expires, they are ordered by their reads like any other item.
      const unexpired = store.evictionCandidates(T0_MS + 5, 10).map((s) => toHex(s.item.key));
      expect(unexpired.slice(0, 2).sort()).toEqual([soon, later].map((i) => toHex(i.key)).sort());
      expect(unexpired.slice(2)).toEqual([items.bytes, items.empty, items.json].map((i) => toHex(i.key)));
    });

    it('returns no table before one is saved', async () => {
      const store = await open();
      expect(store.loadTable()).toBeUndefined();
    });

    it('returns the saved table, and the latest one after several saves', async () => {
      const store = await open();
      store.saveTable(snapshot(4000));
      expect(store.loadTable()).toEqual(snapshot(4000));
      store.saveTable(snapshot(5000));
      expect(store.loadTable()).toEqual(snapshot(5000));
      store.saveTable({ version: 1, nodeId: toHex(alice.nodeId), contacts: [], blacklist: [] });
      expect(store.loadTable()).toEqual({ version: 1, nodeId: toHex(alice.nodeId), contacts: [], blacklist: [] });
    });

    it('keeps the table as it was saved when the caller later changes its snapshot', async () => {
      const store = await open();
      const contacts = [...snapshot(4000).contacts];
      store.saveTable({ ...snapshot(4000), contacts });
      contacts.pop();
      expect(store.loadTable()).toEqual(snapshot(4000));
    });

    it('keeps the table apart from the items', async () => {
      const store = await open();
      store.put(items.json, T0_MS);
      store.saveTable(snapshot(4000));
      expect(store.size).toBe(1);
      expect(keysOf(store.entries())).toEqual([toHex(items.json.key)]);
      store.delete(items.json.key);
      expect(store.loadTable()).toEqual(snapshot(4000));
    });

    const { reopen } = options;
    if (reopen) {
      const closeAndReopen = async (store: ItemStore): Promise<ItemStore> => {
        store.close();
        opened.delete(store);
        const again = await reopen(store);
        opened.add(again);
        return again;
      };

      it('keeps items, their times and counts, and the table across close and reopen', async () => {
        const store = await open();
        store.put(items.json, T0_MS);
        store.put(items.bytes, T0_MS + 1);
        store.put(items.big, T0_MS + 2);
        store.put(items.empty, T0_MS + 3);
        store.touch(items.json.key, T0_MS + 20);
        store.put(items.jsonNewer, T0_MS + 30);
        store.markUpdated(items.bytes.key, T0_MS + 40);
        store.delete(items.empty.key);
        store.saveTable(snapshot(4000));
        store.saveTable(snapshot(5000));

        const again = await closeAndReopen(store);
        expectStored(again.get(items.json.key), items.jsonNewer, { updatedMs: T0_MS + 30, accessedMs: T0_MS + 20 });
        expectStored(again.get(items.bytes.key), items.bytes, { updatedMs: T0_MS + 40, accessedMs: T0_MS + 1 });
        expectStored(again.get(items.big.key), items.big, { updatedMs: T0_MS + 2, accessedMs: T0_MS + 2 });
        expect(again.get(items.empty.key)).toBeUndefined();
        expect(again.size).toBe(3);
        expect(again.valueBytes).toBe('[1,2,3]'.length + 5 + 64 * 1024);
        expect(keysOf(again.entries())).toEqual([items.json, items.bytes, items.big].map((i) => toHex(i.key)).sort());
        expect(again.loadTable()).toEqual(snapshot(5000));
      });

      it('returns no table after reopening a store that never saved one, and keeps working after reopen', async () => {
        const store = await open();
        store.put(items.bytes, T0_MS);
        const again = await closeAndReopen(store);
        expect(again.loadTable()).toBeUndefined();
        again.put(items.json, T0_MS + 1);
        again.touch(items.bytes.key, T0_MS + 2);
        again.saveTable(snapshot(4000));
        const third = await closeAndReopen(again);
        expectStored(third.get(items.json.key), items.json, { updatedMs: T0_MS + 1, accessedMs: T0_MS + 1 });
        expectStored(third.get(items.bytes.key), items.bytes, { updatedMs: T0_MS, accessedMs: T0_MS + 2 });
        expect(third.loadTable()).toEqual(snapshot(4000));
      });
    }
  });
};
