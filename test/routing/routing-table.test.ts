import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import type { ContactInfo } from '../../src/routing/contact.js';
import { commonPrefixLength, randomIdWithPrefix } from '../../src/routing/distance.js';
import { RoutingTable, type TableSnapshot } from '../../src/routing/routing-table.js';
import { hours } from '../../src/runtime/clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { byPrefixLength, identityPool, type PoolEntry, T0_MS } from './fixtures.js';

const K = 20;
const ALLOWED_FAILS = 3;
const REFRESH_MS = hours(1);

const own = identityPool(100, 1)[0];
const pool = identityPool(1, 1500);
const groups = byPrefixLength(own.id, pool);

/** `count` pool identities sharing exactly `bits` leading bits with our id (at least, with `atLeast`), skipping the first `skip`. */
const sharing = (bits: number, count: number, { skip = 0, atLeast = false } = {}): PoolEntry[] => {
  const candidates = atLeast ? pool.filter((e) => commonPrefixLength(own.id, e.id) >= bits) : (groups.get(bits) ?? []);
  const out = candidates.slice(skip, skip + count);
  if (out.length < count) throw new Error(`the pool has too few ids sharing ${atLeast ? 'at least ' : ''}${bits} bits with ours; make it bigger`);
  return out;
};

const info = (e: PoolEntry, port = 4000, host = '10.0.0.1'): ContactInfo => ({ publicKey: e.publicKey, host, port });

const newTable = (nowMs = T0_MS): RoutingTable => new RoutingTable(own.id, { k: K, allowedFails: ALLOWED_FAILS }, nowMs);

const addAll = (table: RoutingTable, entries: readonly PoolEntry[], nowMs = T0_MS): string[] => entries.map((e) => table.add(info(e), nowMs));

const ids = (contacts: ReadonlyArray<{ idHex: string }>): string[] => contacts.map((c) => c.idHex);
const hexes = (entries: readonly PoolEntry[]): string[] => entries.map((e) => e.idHex);

/** Bucket 0 full of ids sharing no bits with ours, and the last bucket (1) holding one id: two buckets, the first unable to split. */
const fullFirstBucket = (): { table: RoutingTable; first: PoolEntry[] } => {
  const table = newTable();
  const first = sharing(0, K);
  addAll(table, first);
  table.add(info(sharing(1, 1)[0]), T0_MS);
  expect(table.bucketCount).toBe(2);
  return { table, first };
};

/** Three full-ish buckets built at T0: 20 ids sharing 0 bits, 20 sharing 1, and one sharing at least 2. */
const threeBuckets = (): RoutingTable => {
  const table = newTable();
  addAll(table, [...sharing(0, K), ...sharing(1, K), ...sharing(2, 1, { atLeast: true })]);
  expect(table.bucketCount).toBe(3);
  return table;
};

const expectBucketsHoldTheirPrefix = (table: RoutingTable): void => {
  const views = table.bucketViews();
  for (const view of views) {
    expect(view.prefixBits).toBe(view.index);
    for (const c of [...view.contacts, ...view.replacements]) {
      const cpl = commonPrefixLength(own.id, c.id);
      if (view.coversOwnId) expect(cpl).toBeGreaterThanOrEqual(view.index);
      else expect(cpl).toBe(view.index);
    }
  }
};

describe('RoutingTable buckets', () => {
  it('starts with one empty bucket that covers every id, our own included', () => {
    const table = newTable();
    expect(table.bucketCount).toBe(1);
    expect(table.size).toBe(0);
    expect(table.bucketViews()).toEqual([{ index: 0, prefixBits: 0, coversOwnId: true, lastTouchedMs: T0_MS, contacts: [], replacements: [] }]);
  });

  it('holds K contacts in its first bucket without splitting', () => {
    const table = newTable();
    expect(addAll(table, pool.slice(0, K))).toEqual(Array(K).fill('added'));
    expect(table.bucketCount).toBe(1);
    expect(table.size).toBe(K);
  });

  it('splits the bucket covering our own id when a contact arrives for it while it is full', () => {
    const table = newTable();
    const far = sharing(0, K);
    addAll(table, far);
    const near = sharing(1, 1)[0];
    expect(table.add(info(near), T0_MS)).toBe('added');
    expect(table.bucketCount).toBe(2);
    const [first, last] = table.bucketViews();
    expect(ids(first.contacts)).toEqual(hexes(far));
    expect(first.coversOwnId).toBe(false);
    expect(ids(last.contacts)).toEqual([near.idHex]);
    expect(last.coversOwnId).toBe(true);
  });

  it('never splits a bucket that does not cover our own id: newcomers to it are cached', () => {
    const { table } = fullFirstBucket();
    const newcomer = sharing(0, 1, { skip: K })[0];
    expect(table.add(info(newcomer), T0_MS)).toBe('cached');
    expect(table.bucketCount).toBe(2);
    expect(table.size).toBe(K + 1);
    expect(table.get(newcomer.id)).toBeUndefined();
  });

  it('splits as deep as the ids need when all of them share a long prefix with ours', () => {
    const table = newTable();
    const near = sharing(3, K + 1, { atLeast: true });
    expect(addAll(table, near)).toEqual(Array(K + 1).fill('added'));
    expect(table.size).toBe(K + 1);
    expect(table.bucketCount).toBeGreaterThanOrEqual(5);
    const views = table.bucketViews();
    for (const view of views.slice(0, 3)) expect(view.contacts).toEqual([]);
    expectBucketsHoldTheirPrefix(table);
  });

  it('keeps every contact in the bucket of its shared-prefix length through many splits', () => {
    const table = newTable();
    addAll(table, pool);
    expect(table.bucketCount).toBeGreaterThan(3);
    for (const view of table.bucketViews()) expect(view.contacts.length).toBeLessThanOrEqual(K);
    expectBucketsHoldTheirPrefix(table);
  });

  it('keeps each bucket least recently seen first', () => {
    const table = newTable();
    const [a, b, c] = pool;
    table.add(info(a), T0_MS);
    table.add(info(b), T0_MS + 1);
    table.add(info(c), T0_MS + 2);
    expect(table.add(info(a), T0_MS + 3)).toBe('updated');
    expect(ids(table.contacts())).toEqual([b.idHex, c.idHex, a.idHex]);
  });

  it('refuses our own public key', () => {
    const table = newTable();
    expect(table.add(info(own), T0_MS)).toBe('self');
    expect(table.size).toBe(0);
  });
});

describe('RoutingTable replacement cache', () => {
  it('keeps at most K newcomers for a full bucket, the most recent last', () => {
    const { table, first } = fullFirstBucket();
    const newcomers = sharing(0, K + 5, { skip: K });
    newcomers.forEach((e, i) => expect(table.add(info(e), T0_MS + i)).toBe('cached'));
    const [bucket] = table.bucketViews();
    expect(ids(bucket.replacements)).toEqual(hexes(newcomers.slice(5)));
    expect(ids(bucket.contacts)).toEqual(hexes(first));
  });

  it('moves a cached contact that is seen again to the most recent end of the cache', () => {
    const { table } = fullFirstBucket();
    const [x, y, z] = sharing(0, 3, { skip: K });
    addAll(table, [x, y, z]);
    expect(table.add(info(x), T0_MS + 1)).toBe('cached');
    expect(ids(table.bucketViews()[0].replacements)).toEqual([y.idHex, z.idHex, x.idHex]);
  });
});

describe('RoutingTable failures', () => {
  const withCache = () => {
    const { table, first } = fullFirstBucket();
    const cached = sharing(0, 3, { skip: K });
    addAll(table, cached);
    return { table, first, cached };
  };

  it('counts failures and evicts after allowedFails in a row, refilling the bucket with the most recent replacement', () => {
    const { table, first, cached } = withCache();
    const victim = first[5];
    for (let i = 1; i < ALLOWED_FAILS; i++) {
      expect(table.recordFailure(victim.id)).toBe('counted');
      expect(table.get(victim.id)?.failures).toBe(i);
    }
    expect(table.recordFailure(victim.id)).toBe('evicted');
    expect(table.get(victim.id)).toBeUndefined();
    const [bucket] = table.bucketViews();
    expect(bucket.contacts).toHaveLength(K);
    expect(bucket.contacts.at(-1)?.idHex).toBe(cached[2].idHex);
    expect(ids(bucket.replacements)).toEqual(hexes(cached.slice(0, 2)));
    expect(table.size).toBe(K + 1);
  });

  it('forgets counted failures once the contact answers again', () => {
    const { table, first } = withCache();
    const victim = first[0];
    for (let i = 1; i < ALLOWED_FAILS; i++) table.recordFailure(victim.id);
    expect(table.add(info(victim), T0_MS + 1)).toBe('updated');
    expect(table.get(victim.id)?.failures).toBe(0);
    for (let i = 1; i < ALLOWED_FAILS; i++) expect(table.recordFailure(victim.id)).toBe('counted');
    expect(table.get(victim.id)).toBeDefined();
  });

  it('evicts at once when forced', () => {
    const { table, first, cached } = withCache();
    expect(table.recordFailure(first[0].id, true)).toBe('evicted');
    expect(table.get(first[0].id)).toBeUndefined();
    expect(table.get(cached[2].id)).toBeDefined();
    expect(table.remove(first[1].id)).toBe(true);
    expect(table.get(first[1].id)).toBeUndefined();
    expect(table.get(cached[1].id)).toBeDefined();
  });

  it('leaves a gap when the evicted contact has no replacement', () => {
    const { table, first } = fullFirstBucket();
    expect(table.recordFailure(first[3].id, true)).toBe('evicted');
    expect(table.bucketViews()[0].contacts).toHaveLength(K - 1);
    expect(table.placement(sharing(0, 1, { skip: K })[0].id)).toBe('room');
  });

  it('reports a failure of an unknown id as unknown and drops it from the cache if it is there', () => {
    const { table, cached } = withCache();
    expect(table.recordFailure(pool.at(-1)!.id.map((b) => b ^ 0xff))).toBe('unknown');
    expect(table.recordFailure(cached[0].id)).toBe('unknown');
    expect(ids(table.bucketViews()[0].replacements)).toEqual(hexes(cached.slice(1)));
    expect(table.size).toBe(K + 1);
  });
});

describe('RoutingTable blacklist', () => {
  it('removes a blacklisted contact from its bucket and refills the bucket from the cache', () => {
    const { table, first } = fullFirstBucket();
    const [cached] = sharing(0, 1, { skip: K });
    table.add(info(cached), T0_MS);
    table.blacklist(first[2].publicKey);
    expect(table.get(first[2].id)).toBeUndefined();
    expect(table.isBlacklisted(first[2].id)).toBe(true);
    expect(table.blacklistSize).toBe(1);
    expect(table.get(cached.id)).toBeDefined();
  });

  it('removes a blacklisted node from the replacement cache, given its id', () => {
    const { table } = fullFirstBucket();
    const [x, y] = sharing(0, 2, { skip: K });
    addAll(table, [x, y]);
    table.blacklist(x.id);
    expect(ids(table.bucketViews()[0].replacements)).toEqual([y.idHex]);
    expect(table.isBlacklisted(x.id)).toBe(true);
  });

  it('refuses a blacklisted node for good, even when a restored snapshot lists it', () => {
    const table = newTable();
    const [bad, good] = pool;
    table.add(info(bad), T0_MS);
    const saved = table.toSnapshot();
    table.blacklist(bad.publicKey);
    expect(table.add(info(bad), T0_MS + hours(24 * 30))).toBe('blacklisted');
    expect(table.add(info(bad, 5000, '10.9.9.9'), T0_MS + hours(24 * 30))).toBe('blacklisted');
    expect(table.placement(bad.id)).toBe('blacklisted');
    expect(table.restore({ ...saved, contacts: [...saved.contacts, { publicKey: toHex(good.publicKey), host: '10.0.0.2', port: 4000 }] }, T0_MS + 1)).toEqual({
      restored: 1,
      skipped: 1,
    });
    expect(table.get(bad.id)).toBeUndefined();
    expect(table.get(good.id)).toBeDefined();
  });

  it('carries the blacklist to a new table through a snapshot', () => {
    const table = newTable();
    const [bad] = pool;
    table.blacklist(bad.publicKey);
    const fresh = newTable();
    fresh.restore(table.toSnapshot(), T0_MS);
    expect(fresh.isBlacklisted(bad.id)).toBe(true);
    expect(fresh.add(info(bad), T0_MS)).toBe('blacklisted');
  });

  // Fails against src/routing/routing-table.ts as written: restore() adds the
  // snapshot's blacklist to the set without removing a contact already present.
  it('drops a contact already in the table when a restored snapshot blacklists it', () => {
    const { table, first } = fullFirstBucket();
    const [present, cached] = [first[0], sharing(0, 1, { skip: K })[0]];
    table.add(info(cached), T0_MS);
    table.restore({ version: 1, nodeId: own.idHex, contacts: [], blacklist: [present.idHex, cached.idHex] }, T0_MS + 1);
    expect(table.isBlacklisted(present.id)).toBe(true);
    expect(ids(table.contacts())).not.toContain(present.idHex);
    expect(ids(table.bucketViews()[0].replacements)).not.toContain(cached.idHex);
  });
});

describe('RoutingTable addresses', () => {
  it('updates the address of a known id added from a new address', () => {
    const table = newTable();
    const [a, b] = pool;
    table.add(info(a, 4000, '10.0.0.1'), T0_MS);
    table.add(info(b), T0_MS);
    expect(table.add(info(a, 4001, '192.168.1.9'), T0_MS + 5, 30)).toBe('updated');
    const moved = table.get(a.id);
    expect(moved).toMatchObject({ host: '192.168.1.9', port: 4001, lastSeenMs: T0_MS + 5, failures: 0, rttMs: 30 });
    expect(table.size).toBe(2);
    expect(ids(table.contacts())).toEqual([b.idHex, a.idHex]);
  });

  it('touches a known contact only from the address it holds for it', () => {
    const table = newTable();
    const [a, b, stranger] = pool;
    table.add(info(a, 4000, '10.0.0.1'), T0_MS);
    table.add(info(b), T0_MS);
    expect(table.touch(a.id, { host: '10.0.0.1', port: 4001 }, T0_MS + 1)).toBe(false);
    expect(table.touch(a.id, { host: '10.0.0.2', port: 4000 }, T0_MS + 1)).toBe(false);
    expect(table.get(a.id)).toMatchObject({ host: '10.0.0.1', port: 4000, lastSeenMs: T0_MS });
    expect(ids(table.contacts())).toEqual([a.idHex, b.idHex]);

    expect(table.touch(a.id, { host: '10.0.0.1', port: 4000 }, T0_MS + 2)).toBe(true);
    expect(table.get(a.id)).toMatchObject({ host: '10.0.0.1', port: 4000, lastSeenMs: T0_MS + 2 });
    expect(ids(table.contacts())).toEqual([b.idHex, a.idHex]);

    expect(table.touch(stranger.id, { host: '10.0.0.1', port: 4000 }, T0_MS + 3)).toBe(false);
    expect(table.touch(own.id, { host: '10.0.0.1', port: 4000 }, T0_MS + 3)).toBe(false);
    expect(table.size).toBe(2);
  });
});

describe('RoutingTable placement', () => {
  it('reports self, blacklisted, known, room and cache without changing the table', () => {
    const { table, first } = fullFirstBucket();
    const [newcomer, banned] = sharing(0, 2, { skip: K });
    table.blacklist(banned.id);
    const before = JSON.stringify(table.bucketViews());

    expect(table.placement(own.id)).toBe('self');
    expect(table.placement(banned.id)).toBe('blacklisted');
    expect(table.placement(first[0].id)).toBe('known');
    expect(table.placement(newcomer.id)).toBe('cache');
    expect(table.placement(sharing(1, 1, { skip: 1 })[0].id)).toBe('room');
    expect(JSON.stringify(table.bucketViews())).toBe(before);
  });

  it('reports room for a full bucket that covers our own id, since it can split', () => {
    const table = newTable();
    addAll(table, sharing(0, K));
    expect(table.placement(sharing(0, 1, { skip: K })[0].id)).toBe('room');
    expect(table.bucketCount).toBe(1);
  });

  it('agrees with what add then does', () => {
    const table = newTable();
    for (const [i, e] of pool.slice(0, 300).entries()) {
      const placement = table.placement(e.id);
      const outcome = table.add(info(e), T0_MS + i);
      expect(outcome).toBe(placement === 'room' ? 'added' : placement === 'cache' ? 'cached' : 'updated');
    }
  });
});

describe('RoutingTable closest', () => {
  it('returns the known contacts closest to the target first, without the excluded id', () => {
    const table = newTable();
    addAll(table, pool.slice(0, 100));
    const target = pool[0].id;
    const closest = table.closest(target, 5);
    expect(closest[0].idHex).toBe(pool[0].idHex);
    expect(closest).toHaveLength(5);
    const withoutTarget = table.closest(target, 5, target);
    expect(ids(withoutTarget)).toEqual(ids(table.closest(target, 6)).slice(1));
    expect(table.closest(target, 1000)).toHaveLength(table.size);
  });
});

describe('RoutingTable snapshots', () => {
  const sortedContacts = (snapshot: TableSnapshot) => [...snapshot.contacts].sort((a, b) => a.publicKey.localeCompare(b.publicKey));

  it('restores the same contacts and blacklist into a new table after a JSON round trip', () => {
    const table = newTable();
    pool.slice(0, 400).forEach((e, i) => table.add(info(e, 4000 + (i % 7), `10.0.${i % 3}.${i % 250}`), T0_MS + i));
    table.blacklist(pool[401].publicKey);
    table.blacklist(table.contacts()[3].id);
    const snapshot = table.toSnapshot();
    expect(snapshot.version).toBe(1);
    expect(snapshot.nodeId).toBe(own.idHex);

    const parsed = JSON.parse(JSON.stringify(snapshot)) as TableSnapshot;
    const fresh = newTable(T0_MS + 1000);
    expect(fresh.restore(parsed, T0_MS + 1000)).toEqual({ restored: table.size, skipped: 0 });
    expect(sortedContacts(fresh.toSnapshot())).toEqual(sortedContacts(snapshot));
    expect(fresh.toSnapshot().blacklist).toEqual(snapshot.blacklist);
    expect(fresh.size).toBe(table.size);
    expectBucketsHoldTheirPrefix(fresh);
  });

  it('skips malformed entries and counts them', () => {
    const [a, b] = pool;
    const pk = toHex(a.publicKey);
    const snapshot = JSON.parse(
      JSON.stringify({
        version: 1,
        nodeId: own.idHex,
        contacts: [
          { publicKey: pk, host: '10.0.0.1', port: 4000 },
          { publicKey: 'xyz', host: '10.0.0.1', port: 4000 },
          { publicKey: pk.slice(2), host: '10.0.0.1', port: 4000 },
          { publicKey: pk, host: 7, port: 4000 },
          { publicKey: pk, host: '10.0.0.1', port: 0 },
          { publicKey: pk, host: '10.0.0.1', port: 65536 },
          { publicKey: pk, host: '10.0.0.1', port: 80.5 },
          { publicKey: pk, host: '10.0.0.1', port: '80' },
          { host: '10.0.0.1', port: 4000 },
          null,
          'a contact',
          { publicKey: toHex(b.publicKey), host: '10.0.0.2', port: 4001 },
        ],
        blacklist: ['not hex', 42, null, 'ab', toHex(pool[2].id)],
      }),
    ) as TableSnapshot;
    const table = newTable();
    expect(table.restore(snapshot, T0_MS)).toEqual({ restored: 2, skipped: 10 + 4 });
    expect(ids(table.contacts()).sort()).toEqual([a.idHex, b.idHex].sort());
    expect(table.blacklistSize).toBe(1);
    expect(table.isBlacklisted(pool[2].id)).toBe(true);
  });

  it('does not restore our own key from a snapshot', () => {
    const table = newTable();
    const snapshot: TableSnapshot = { version: 1, nodeId: own.idHex, contacts: [{ publicKey: toHex(own.publicKey), host: '10.0.0.1', port: 4000 }], blacklist: [] };
    expect(table.restore(snapshot, T0_MS)).toEqual({ restored: 0, skipped: 1 });
    expect(table.size).toBe(0);
  });
});

describe('RoutingTable refresh', () => {
  it('lists the buckets untouched for the refresh timeout, with the prefix a refresh target must share', () => {
    const table = threeBuckets();
    expect(table.bucketsToRefresh(T0_MS + REFRESH_MS - 1, REFRESH_MS)).toEqual([]);
    expect(table.bucketsToRefresh(T0_MS + REFRESH_MS, REFRESH_MS)).toEqual([
      { index: 0, prefixBits: 0, coversOwnId: false },
      { index: 1, prefixBits: 1, coversOwnId: false },
      { index: 2, prefixBits: 2, coversOwnId: true },
    ]);
  });

  it('takes a bucket off the list once it is refreshed or a lookup reaches into it', () => {
    const table = threeBuckets();
    const random = new SeededRandom(3);
    const now = T0_MS + REFRESH_MS;
    table.touchBucketFor(randomIdWithPrefix(own.id, 1, random), now);
    expect(table.bucketsToRefresh(now, REFRESH_MS).map((b) => b.index)).toEqual([0, 2]);
    table.markBucketRefreshed(0, now);
    expect(table.bucketsToRefresh(now, REFRESH_MS).map((b) => b.index)).toEqual([2]);
    table.touchBucketFor(randomIdWithPrefix(own.id, 9, random, true), now);
    expect(table.bucketsToRefresh(now, REFRESH_MS)).toEqual([]);
    expect(table.bucketsToRefresh(now + REFRESH_MS, REFRESH_MS).map((b) => b.index)).toEqual([0, 1, 2]);
  });

  it('ignores a refresh mark for a bucket that does not exist', () => {
    const table = threeBuckets();
    table.markBucketRefreshed(7, T0_MS + REFRESH_MS);
    expect(table.bucketsToRefresh(T0_MS + REFRESH_MS, REFRESH_MS)).toHaveLength(3);
  });
});
