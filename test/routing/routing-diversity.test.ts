/**
 * The routing table's diversity caps: at most 2 contacts of one IP address
 * and of one /24 (IPv4) or /48 (IPv6) in a bucket and, separately, in its
 * replacement cache; at most 3 places for one IP in the whole table; the
 * loopback of a devnet counted per port; and, as a property, that no
 * sequence of adds, failures and blacklistings ever breaks a cap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressGroup } from '../../src/routing/address-group.js';
import { commonPrefixLength } from '../../src/routing/distance.js';
import { RoutingTable } from '../../src/routing/routing-table.js';
import { byPrefixLength, identityPool, type PoolEntry, T0_MS } from './fixtures.js';

const K = 20;
const CAPS = { maxPerHostPerBucket: 2, maxPerNetworkPerBucket: 2, maxPerHost: 3 };
const own = identityPool(100, 1)[0];
const pool = identityPool(1, 1500);
const groups = byPrefixLength(own.id, pool);
const sharing = (bits: number, count: number, skip = 0): PoolEntry[] => {
  const out = (groups.get(bits) ?? []).slice(skip, skip + count);
  if (out.length < count) throw new Error(`too few ids sharing ${bits} bits`);
  return out;
};

const newTable = (caps: Partial<typeof CAPS> = CAPS): RoutingTable => new RoutingTable(own.id, { k: K, allowedFails: 1, ...caps }, T0_MS);
const at = (e: PoolEntry, host: string, port = 4000) => ({ publicKey: e.publicKey, host, port });
/** A distinct /24 for each i. */
const spread = (i: number): string => `10.${i >> 8}.${i & 0xff}.1`;

describe('address groups', () => {
  it('groups IPv4 by /24 and IPv6 by /48, with an IPv4-mapped address in its IPv4 /24', () => {
    expect(addressGroup({ host: '192.0.2.7', port: 1 })).toEqual({ host: '192.0.2.7', network: '192.0.2.0/24' });
    expect(addressGroup({ host: '::ffff:192.0.2.9', port: 1 })).toEqual({ host: '192.0.2.9', network: '192.0.2.0/24' });
    expect(addressGroup({ host: '2001:db8:1:2::1', port: 1 }).network).toBe(addressGroup({ host: '2001:0db8:0001:ffff::9', port: 1 }).network);
    expect(addressGroup({ host: '2001:db8:2::1', port: 1 }).network).not.toBe(addressGroup({ host: '2001:db8:1::1', port: 1 }).network);
  });

  it('counts each port of a shared host (a devnet loopback) as a host and network of its own', () => {
    expect(addressGroup({ host: '127.0.0.1', port: 4000 })).toEqual({ host: '127.0.0.1:4000', network: '127.0.0.1:4000' });
    expect(addressGroup({ host: '127.0.0.2', port: 4000 })).toEqual({ host: '127.0.0.2', network: '127.0.0.0/24' });
    expect(addressGroup({ host: '127.0.0.2', port: 4000 }, ['127.0.0.2']).host).toBe('127.0.0.2:4000');
  });
});

describe('RoutingTable diversity caps', () => {
  it('takes at most 2 contacts of one IP address into a bucket', () => {
    const table = newTable({ ...CAPS, maxPerHost: 100 });
    const outcomes = sharing(0, 5).map((e, i) => table.add(at(e, '198.51.100.7', 4000 + i), T0_MS));
    expect(outcomes).toEqual(['added', 'added', 'refused', 'refused', 'refused']);
    expect(table.size).toBe(2);
  });

  it('takes at most 2 contacts of one /24 into a bucket, and a third from another /24', () => {
    const table = newTable();
    const [a, b, c, d] = sharing(0, 4);
    expect([table.add(at(a, '198.51.100.1'), T0_MS), table.add(at(b, '198.51.100.2'), T0_MS), table.add(at(c, '198.51.100.3'), T0_MS)]).toEqual(['added', 'added', 'refused']);
    expect(table.add(at(d, '198.51.101.3'), T0_MS)).toBe('added');
  });

  it('takes at most 2 contacts of one IPv6 /48 into a bucket', () => {
    const table = newTable();
    const [a, b, c, d] = sharing(0, 4);
    expect(table.add(at(a, '2001:db8:1::1'), T0_MS)).toBe('added');
    expect(table.add(at(b, '2001:db8:1:2::1'), T0_MS)).toBe('added');
    expect(table.add(at(c, '2001:db8:1:ffff::5'), T0_MS)).toBe('refused');
    expect(table.add(at(d, '2001:db8:2::1'), T0_MS)).toBe('added');
  });

  it('gives one IP at most 3 places in the whole table, across buckets', () => {
    const table = newTable();
    // 20 ids sharing 0 bits and 20 sharing 1 bit, from distinct networks: three buckets.
    [...sharing(0, K), ...sharing(1, K), ...sharing(2, 1)].forEach((e, i) => table.add(at(e, spread(i)), T0_MS));
    expect(table.bucketCount).toBe(3);
    for (const e of [...sharing(0, 2), ...sharing(1, 2)]) table.recordFailure(e.id, true);
    const spreadOver = [...sharing(0, 2, K), ...sharing(1, 2, K), ...sharing(2, 2, 1)];
    const outcomes = spreadOver.map((e, i) => table.add(at(e, '203.0.113.5', 5000 + i), T0_MS));
    expect(outcomes.filter((o) => o === 'added')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(3);
    expect(table.placesHeldBy({ host: '203.0.113.5', port: 1 })).toBe(3);
  });

  it('applies the caps to a full bucket\'s replacement cache, and counts cached places against the IP\'s table-wide share', () => {
    const table = newTable();
    table.add(at(sharing(1, 1)[0], spread(999)), T0_MS); // a second bucket, so bucket 0 cannot split
    sharing(0, K).forEach((e, i) => expect(table.add(at(e, spread(i)), T0_MS)).toBe('added'));
    const newcomers = sharing(0, 4, K);
    const outcomes = newcomers.map((e, i) => table.add(at(e, '203.0.113.9', 6000 + i), T0_MS));
    expect(outcomes).toEqual(['cached', 'cached', 'refused', 'refused']);
    expect(table.bucketViews()[0].replacements).toHaveLength(2);
    // One place left for that IP in the whole table.
    expect(table.add(at(sharing(1, 1, 1)[0], '203.0.113.9', 6100), T0_MS)).toBe('added');
    expect(table.add(at(sharing(1, 1, 2)[0], '203.0.113.9', 6101), T0_MS)).toBe('refused');
  });

  it('refills an evicted slot with the most recent replacement that the bucket\'s caps allow', () => {
    const table = newTable();
    table.add(at(sharing(1, 1)[0], spread(999)), T0_MS);
    const members = sharing(0, K);
    members.forEach((e, i) => table.add(at(e, i < 2 ? '198.51.100.1' : spread(i), 4000 + i), T0_MS));
    const [older, newer] = sharing(0, 2, K);
    expect(table.add(at(older, spread(500)), T0_MS)).toBe('cached');
    expect(table.add(at(newer, '198.51.100.2'), T0_MS)).toBe('cached'); // the same /24 as two members
    expect(table.recordFailure(members[5].id)).toBe('evicted');
    // The newer replacement would make 3 of 198.51.100.0/24 in the bucket: the older one comes in.
    expect(table.get(older.id)).toBeDefined();
    expect(table.get(newer.id)).toBeUndefined();
  });

  it('keeps a contact at its old address when its new address is over a cap', () => {
    const table = newTable();
    const [a, b, c] = sharing(0, 3);
    table.add(at(a, '198.51.100.1'), T0_MS);
    table.add(at(b, '198.51.100.2'), T0_MS);
    table.add(at(c, spread(7)), T0_MS);
    expect(table.add(at(c, '198.51.100.3'), T0_MS + 1)).toBe('refused');
    expect(table.get(c.id)).toMatchObject({ host: spread(7) });
    expect(table.add(at(c, spread(8)), T0_MS + 2)).toBe('updated');
    expect(table.get(c.id)).toMatchObject({ host: spread(8) });
  });

  it('reports a capped address as refused from placement, without changing the table', () => {
    const table = newTable();
    const [a, b, c] = sharing(0, 3);
    table.add(at(a, '198.51.100.1'), T0_MS);
    table.add(at(b, '198.51.100.1', 4001), T0_MS);
    expect(table.placement(c.id, { host: '198.51.100.1', port: 4002 })).toBe('refused');
    expect(table.placement(c.id, { host: spread(3), port: 4002 })).toBe('room');
    expect(table.placement(c.id)).toBe('room');
    expect(table.size).toBe(2);
  });

  it('lets every port of a devnet loopback in, as distinct hosts', () => {
    const table = newTable();
    const outcomes = sharing(0, 6).map((e, i) => table.add(at(e, '127.0.0.1', 4000 + i), T0_MS));
    expect(outcomes.every((o) => o === 'added')).toBe(true);
  });

  it('refuses an id the admissibility check rejects, and reports it from placement', () => {
    const [a, b] = sharing(0, 2);
    const table = new RoutingTable(own.id, { k: K, allowedFails: 1, admissible: (id) => Buffer.from(id).equals(a.id) }, T0_MS);
    expect(table.add(at(a, spread(1)), T0_MS)).toBe('added');
    expect(table.add(at(b, spread(2)), T0_MS)).toBe('inadmissible');
    expect(table.placement(b.id)).toBe('inadmissible');
  });

  it('never breaks a cap, whatever the sequence of adds, failures and blacklistings (seeded property)', () => {
    const hosts = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.101.1', '2001:db8:1::1', '2001:db8:1::2', '127.0.0.1', '203.0.113.1'];
    const op = fc.oneof(
      { weight: 10, arbitrary: fc.record({ kind: fc.constant('add' as const), index: fc.nat({ max: 299 }), host: fc.nat({ max: hosts.length - 1 }), port: fc.integer({ min: 4000, max: 4003 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('fail' as const), index: fc.nat({ max: 299 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('blacklist' as const), index: fc.nat({ max: 299 }) }) },
    );
    const seed = 20260115;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 400 }), (k, ops) => {
        const table = new RoutingTable(own.id, { k, allowedFails: 2, ...CAPS }, T0_MS);
        for (const o of ops) {
          const entry = pool[o.index];
          if (o.kind === 'add') table.add(at(entry, hosts[o.host], o.port), T0_MS);
          else if (o.kind === 'fail') table.recordFailure(entry.id);
          else table.blacklist(entry.id);
          const places = new Map<string, number>();
          for (const view of table.bucketViews()) {
            for (const list of [view.contacts, view.replacements]) {
              const perHost = new Map<string, number>();
              const perNetwork = new Map<string, number>();
              for (const c of list) {
                const g = addressGroup(c);
                perHost.set(g.host, (perHost.get(g.host) ?? 0) + 1);
                perNetwork.set(g.network, (perNetwork.get(g.network) ?? 0) + 1);
                places.set(g.host, (places.get(g.host) ?? 0) + 1);
                if (!view.coversOwnId && commonPrefixLength(own.id, c.id) !== view.index) throw new Error('a contact left its bucket');
              }
              if (Math.max(0, ...perHost.values()) > CAPS.maxPerHostPerBucket) throw new Error(`host cap broken in bucket ${view.index}`);
              if (Math.max(0, ...perNetwork.values()) > CAPS.maxPerNetworkPerBucket) throw new Error(`network cap broken in bucket ${view.index}`);
            }
          }
          for (const [host, n] of places) {
            if (n > CAPS.maxPerHost) throw new Error(`${host} holds ${n} places`);
            if (table.placesHeldBy({ host: host.split(':')[0] === '127.0.0.1' ? '127.0.0.1' : host, port: Number(host.split(':')[1] ?? 1) }) !== n) throw new Error(`count of ${host} drifted`);
          }
        }
      }),
      { seed, numRuns: 60 },
    );
  });
});
