import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { nodeIdOf } from '../../src/crypto/identity.js';
import { ID_BYTES } from '../../src/routing/distance.js';
import { RoutingTable, type TableSnapshot } from '../../src/routing/routing-table.js';
import { distanceModel, identityPool, prefixLengthModel, T0_MS } from './fixtures.js';

const NUM_RUNS = 100;

// Key derivation is the cost here: derive the identities once, let runs pick by index.
const POOL = identityPool(7, 1000);
const BY_HEX = new Map(POOL.map((e) => [e.idHex, e]));

type Op =
  | { readonly kind: 'add'; readonly index: number; readonly port: number; readonly rttMs: number | undefined }
  | { readonly kind: 'add-many'; readonly index: number; readonly count: number }
  | { readonly kind: 'fail'; readonly index: number; readonly force: boolean }
  | { readonly kind: 'blacklist'; readonly index: number; readonly byPublicKey: boolean }
  | { readonly kind: 'touch'; readonly index: number; readonly port: number };

const index = fc.nat({ max: POOL.length - 1 });
const port = fc.integer({ min: 4000, max: 4002 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('add' as const), index, port, rttMs: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }) }) },
  // A burst of new ids, so tables fill up to their K-per-bucket limits.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add-many' as const), index, count: fc.integer({ min: 1, max: 150 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fail' as const), index, force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('blacklist' as const), index, byPublicKey: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('touch' as const), index, port }) },
);

const scenario = fc.record({
  // Our own identity comes from the pool, so some adds are of ourselves.
  ownIndex: index,
  k: fc.oneof(fc.constant(20), fc.integer({ min: 1, max: 6 })),
  allowedFails: fc.integer({ min: 1, max: 4 }),
  ops: fc.array(op, { maxLength: 500, size: 'max' }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  readonly table: RoutingTable;
  readonly ownId: Buffer;
  readonly k: number;
  readonly blacklisted: ReadonlySet<string>;
}

const host = (index: number): string => `10.${index >> 8}.${index & 0xff}.1`;

/** A cheap check for the inner loop, where expect() would dominate the run time. */
const same = (actual: unknown, expected: unknown, what: string): void => {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
};

/** Plays the operations on a new table, checking what each one reports against what the table then holds. */
const build = ({ ownIndex, k, allowedFails, ops }: Scenario): Built => {
  const own = POOL[ownIndex];
  const table = new RoutingTable(own.id, { k, allowedFails }, T0_MS);
  const blacklisted = new Set<string>();
  const add = (i: number, port: number, now: number, rttMs?: number): void => {
    const entry = POOL[i];
    const outcome = table.add({ publicKey: entry.publicKey, host: host(i), port }, now, rttMs);
    const held = table.get(entry.id);
    if (i === ownIndex) same(outcome, 'self', `add of our own id ${i}`);
    else if (blacklisted.has(entry.idHex)) same(outcome, 'blacklisted', `add of blacklisted id ${i}`);
    else if (outcome === 'cached') same(held, undefined, `cached id ${i} in a bucket`);
    else {
      same(outcome === 'added' || outcome === 'updated', true, `add of id ${i} gave ${outcome}`);
      same(held?.host, host(i), `host of id ${i}`);
      same(held?.port, port, `port of id ${i}`);
      same(held?.lastSeenMs, now, `last seen of id ${i}`);
      same(held?.failures, 0, `failures of id ${i}`);
    }
  };
  ops.forEach((o, step) => {
    const now = T0_MS + step * 1000;
    const entry = POOL[o.index];
    switch (o.kind) {
      case 'add':
        add(o.index, o.port, now, o.rttMs);
        break;
      case 'add-many':
        for (let i = o.index; i < Math.min(o.index + o.count, POOL.length); i++) add(i, 4000, now);
        break;
      case 'fail': {
        const failures = table.get(entry.id)?.failures;
        // Kademlia section 4.1: a stale contact goes only when a replacement waits to take its place.
        const replacementWaits = table.bucketViews().some((b) => b.replacements.length > 0 && b.contacts.some((c) => c.idHex === entry.idHex));
        const outcome = table.recordFailure(entry.id, o.force);
        const expected = failures === undefined ? 'unknown' : o.force || (failures + 1 >= allowedFails && replacementWaits) ? 'evicted' : 'counted';
        same(outcome, expected, `failure of id ${o.index}`);
        if (outcome === 'evicted') same(table.get(entry.id), undefined, `evicted id ${o.index}`);
        if (outcome === 'counted') same(table.get(entry.id)?.failures, failures! + 1, `failures of id ${o.index}`);
        break;
      }
      case 'blacklist': {
        if (o.index === ownIndex) break;
        table.blacklist(o.byPublicKey ? entry.publicKey : entry.id);
        blacklisted.add(entry.idHex);
        same(table.get(entry.id), undefined, `blacklisted id ${o.index}`);
        break;
      }
      case 'touch': {
        // A contact is known in a bucket or in a replacement cache.
        const known =
          table.get(entry.id) ??
          table
            .bucketViews()
            .flatMap((v) => v.replacements)
            .find((c) => c.idHex === entry.idHex);
        const inBucket = table.get(entry.id) !== undefined;
        const touched = table.touch(entry.id, { host: host(o.index), port: o.port }, now);
        same(touched, known !== undefined && known.port === o.port, `touch of id ${o.index}`);
        if (touched && inBucket) same(table.get(entry.id)?.lastSeenMs, now, `last seen of touched id ${o.index}`);
        break;
      }
    }
  });
  return { table, ownId: own.id, k, blacklisted };
};

const key = fc.oneof(
  fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES }).map((bytes) => Buffer.from(bytes)),
  index.map((i) => POOL[i].id),
);
const query = fc.record({ target: key, count: fc.integer({ min: 1, max: 40 }), exclude: fc.option(index, { nil: undefined }) });

const byDistance = (table: RoutingTable, target: Uint8Array, excludeHex: string | undefined): string[] =>
  table
    .contacts()
    .filter((c) => c.idHex !== excludeHex)
    .map((c) => ({ idHex: c.idHex, distance: distanceModel(c.id, target) }))
    .sort((a, b) => (a.distance < b.distance ? -1 : a.distance > b.distance ? 1 : 0))
    .map((c) => c.idHex);

const sortedContacts = (snapshot: TableSnapshot) => [...snapshot.contacts].sort((a, b) => a.publicKey.localeCompare(b.publicKey));

describe('RoutingTable properties', () => {
  it('returns from closest exactly the nearest known contacts by XOR distance, nearest first', () => {
    fc.assert(
      fc.property(scenario, fc.array(query, { minLength: 1, maxLength: 5 }), (s, queries) => {
        const { table } = build(s);
        for (const { target, count, exclude } of queries) {
          const excludeId = exclude === undefined ? undefined : POOL[exclude].id;
          const expected = byDistance(table, target, excludeId && toHex(excludeId)).slice(0, count);
          expect(table.closest(target, count, excludeId).map((c) => c.idHex)).toEqual(expected);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('keeps its invariants: buckets within K, ids unique and in their prefix bucket, no blacklisted or own id', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { table, ownId, k, blacklisted } = build(s);
        const views = table.bucketViews();
        const seen = new Set<string>();
        let contactCount = 0;
        for (const view of views) {
          const last = view.index === views.length - 1;
          expect(view.prefixBits).toBe(view.index);
          expect(view.coversOwnId).toBe(last);
          expect(view.contacts.length).toBeLessThanOrEqual(k);
          expect(view.replacements.length).toBeLessThanOrEqual(k);
          // The cache is for a full bucket that cannot split; an eviction always drains it first.
          if (view.replacements.length > 0) {
            expect(last).toBe(false);
            expect(view.contacts).toHaveLength(k);
          }
          contactCount += view.contacts.length;
          for (const c of [...view.contacts, ...view.replacements]) {
            same(seen.has(c.idHex), false, `${c.idHex} held twice`);
            seen.add(c.idHex);
            same(c.idHex, toHex(c.id), 'idHex of a contact');
            same(toHex(nodeIdOf(c.publicKey)), c.idHex, 'id of a contact is the hash of its public key');
            same(BY_HEX.has(c.idHex), true, `${c.idHex} comes from the pool`);
            same(blacklisted.has(c.idHex), false, `blacklisted ${c.idHex} held`);
            same(c.idHex === toHex(ownId), false, 'our own id held');
            const cpl = prefixLengthModel(ownId, c.id);
            same(last ? cpl >= views.length - 1 : cpl === view.index, true, `${c.idHex} sharing ${cpl} bits in bucket ${view.index} of ${views.length}`);
          }
        }
        expect(table.size).toBe(contactCount);
        expect(table.contacts()).toHaveLength(contactCount);
        expect(table.blacklistSize).toBe(blacklisted.size);
        for (const idHex of blacklisted) expect(table.isBlacklisted(Buffer.from(idHex, 'hex'))).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('restores the same contacts and blacklist from its snapshot into a new table', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { table, ownId, k } = build(s);
        const snapshot = JSON.parse(JSON.stringify(table.toSnapshot())) as TableSnapshot;
        const fresh = new RoutingTable(ownId, { k, allowedFails: s.allowedFails }, T0_MS);
        expect(fresh.restore(snapshot, T0_MS)).toEqual({ restored: table.size, skipped: 0 });
        expect(sortedContacts(fresh.toSnapshot())).toEqual(sortedContacts(snapshot));
        expect(fresh.toSnapshot().blacklist).toEqual(snapshot.blacklist);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
