/**
 * Storage quotas, as a plan over a store: per-publisher caps on items and
 * bytes, and the eviction order of a full store (expired, then cached
 * copies, then replicas of publishers holding more than the newcomer's
 * would, least recently read first), or a refusal when nothing can go fairly.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { createItem, type Item } from '../../src/protocol/item.js';
import { MemoryItemStore } from '../../src/storage/memory-item-store.js';
import { planStore, type QuotaLimits } from '../../src/storage/quota.js';

const T0 = Date.UTC(2026, 0, 1);
const alice = Identity.fromSeed(Buffer.alloc(32, 1));
const bob = Identity.fromSeed(Buffer.alloc(32, 2));
const carol = Identity.fromSeed(Buffer.alloc(32, 3));
const LOOSE: QuotaLimits = { maxItems: 1000, maxBytes: 1_000_000, maxItemsPerPublisher: 1000, maxBytesPerPublisher: 1_000_000 };

const item = (who: Identity, name: string, value = '"x"', extra: { expires?: number; timestamp?: number } = {}): Item =>
  createItem(who, { name, value, timestamp: extra.timestamp ?? T0, expires: extra.expires ?? 0 });
const keyOf = (i: Item): string => toHex(i.key);
const noCaches = (): boolean => false;

describe('storage quotas', () => {
  it('refuses a new key beyond a publisher\'s item quota, and takes a newer version of a key it holds', () => {
    const store = new MemoryItemStore();
    store.put(item(alice, 'a'), T0);
    store.put(item(alice, 'b'), T0);
    const limits = { ...LOOSE, maxItemsPerPublisher: 2 };
    expect(planStore(store, item(alice, 'c'), T0, limits, noCaches)).toMatchObject({ ok: false });
    expect(planStore(store, item(alice, 'a', '"newer"', { timestamp: T0 + 1 }), T0, limits, noCaches)).toEqual({ ok: true, evict: [] });
    expect(planStore(store, item(bob, 'c'), T0, limits, noCaches)).toEqual({ ok: true, evict: [] });
  });

  it('refuses an item that would take its publisher over its byte quota, counting a replaced version once', () => {
    const store = new MemoryItemStore();
    store.put(item(alice, 'a', JSON.stringify('x'.repeat(50))), T0);
    const limits = { ...LOOSE, maxBytesPerPublisher: 80 };
    expect(planStore(store, item(alice, 'b', JSON.stringify('y'.repeat(40))), T0, limits, noCaches)).toMatchObject({ ok: false });
    expect(planStore(store, item(alice, 'a', JSON.stringify('z'.repeat(70)), { timestamp: T0 + 1 }), T0, limits, noCaches).ok).toBe(true);
  });

  it('evicts expired items first, then cached copies, least recently read first', () => {
    const store = new MemoryItemStore();
    const expired = item(bob, 'expired', '"e"', { expires: T0 + 10 });
    const cacheOld = item(carol, 'cache-old');
    const cacheNew = item(carol, 'cache-new');
    const replica = item(bob, 'replica');
    store.put(replica, T0);
    store.put(cacheNew, T0 + 2);
    store.put(cacheOld, T0 + 1);
    store.put(expired, T0);
    const caches = new Set([keyOf(cacheOld), keyOf(cacheNew)]);
    const isCache = (key: Uint8Array): boolean => caches.has(toHex(key));
    const now = T0 + 100;
    const plan1 = planStore(store, item(alice, 'new'), now, { ...LOOSE, maxItems: 4 }, isCache);
    expect(plan1.ok && plan1.evict.map((e) => [keyOf(e.stored.item), e.reason])).toEqual([[keyOf(expired), 'expired']]);
    const plan2 = planStore(store, item(alice, 'new'), now, { ...LOOSE, maxItems: 2 }, isCache);
    expect(plan2.ok && plan2.evict.map((e) => keyOf(e.stored.item))).toEqual([keyOf(expired), keyOf(cacheOld), keyOf(cacheNew)]);
  });

  it('evicts a replica only from a publisher that keeps at least as many items as the newcomer\'s publisher', () => {
    const store = new MemoryItemStore();
    // Bob holds 3 items, Carol 1; Alice (the newcomer's publisher) holds 1 already.
    const bobs = ['b1', 'b2', 'b3'].map((n) => item(bob, n));
    bobs.forEach((b, i) => store.put(b, T0 + 10 + i));
    const carols = item(carol, 'c1');
    store.put(carols, T0); // read least recently of all
    store.put(item(alice, 'a1'), T0 + 20);
    const limits = { ...LOOSE, maxItems: 5 };
    const plan = planStore(store, item(alice, 'a2'), T0 + 30, limits, noCaches);
    // Carol's single item is the least recently read, but Carol holds fewer than Alice will: Bob's oldest goes.
    expect(plan.ok && plan.evict.map((e) => [keyOf(e.stored.item), e.reason])).toEqual([[keyOf(bobs[0]), 'fair share']]);
  });

  it('refuses with a message when nothing can be evicted fairly, and never evicts for a cached copy beyond expired and cached items', () => {
    const store = new MemoryItemStore();
    store.put(item(bob, 'b1'), T0);
    store.put(item(carol, 'c1'), T0);
    const limits = { ...LOOSE, maxItems: 2 };
    const refused = planStore(store, item(alice, 'a1'), T0, limits, noCaches);
    expect(refused).toEqual({ ok: false, message: expect.stringMatching(/nothing it holds can be evicted fairly/) });
    // A cached copy of Alice's item, facing Bob's three replicas: it may not push a replica out.
    store.put(item(bob, 'b2'), T0);
    store.put(item(bob, 'b3'), T0);
    const incoming = item(alice, 'a2');
    const asCache = (key: Uint8Array): boolean => keyOf(incoming) === toHex(key);
    expect(planStore(store, incoming, T0, { ...LOOSE, maxItems: 4 }, asCache).ok).toBe(false);
    expect(planStore(store, incoming, T0, { ...LOOSE, maxItems: 4 }, noCaches).ok).toBe(true);
  });

  it('evicts until the bytes fit, not only the count', () => {
    const store = new MemoryItemStore();
    const big = (n: string) => item(bob, n, JSON.stringify('x'.repeat(98)));
    ['1', '2', '3', '4'].forEach((n, i) => store.put(big(n), T0 + i));
    const limits = { ...LOOSE, maxBytes: 400 };
    const plan = planStore(store, item(alice, 'wide', JSON.stringify('y'.repeat(198))), T0 + 10, limits, noCaches);
    expect(plan.ok && plan.evict.length).toBe(2);
  });
});
