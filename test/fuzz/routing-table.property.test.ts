/**
 * Routing table invariants under arbitrary interleavings of adds (new ids and
 * address changes), failures, evictions, blacklisting, touches from right and
 * wrong addresses and restores of snapshots, checked after every operation;
 * and restore idempotence. Complements test/routing/routing-table.property.test.ts.
 * Run with FC_SEED=<n> to replay a seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { commonPrefixLength } from '../../src/routing/distance.js';
import { RoutingTable, type TableSnapshot } from '../../src/routing/routing-table.js';
import { SeededRandom } from '../../src/runtime/random.js';

const SEED = Number(process.env.FC_SEED ?? 1908);
const T0_MS = Date.UTC(2026, 0, 1);
const random = new SeededRandom(5);
const POOL = Array.from({ length: 400 }, () => Identity.fromSeed(random.bytes(32)));
const HEX = POOL.map((p) => toHex(p.nodeId));

type Op =
  | { readonly kind: 'add'; readonly index: number; readonly host: number; readonly port: number }
  | { readonly kind: 'burst'; readonly index: number; readonly count: number }
  | { readonly kind: 'fail'; readonly index: number; readonly force: boolean }
  | { readonly kind: 'blacklist'; readonly index: number; readonly byPublicKey: boolean }
  | { readonly kind: 'touch'; readonly index: number; readonly host: number; readonly port: number }
  | { readonly kind: 'restore-own' }
  | { readonly kind: 'restore-foreign'; readonly indexes: readonly number[] };

const index = fc.nat({ max: POOL.length - 1 });
const host = fc.nat({ max: 3 });
const port = fc.constantFrom(1908, 4000);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('add' as const), index, host, port }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), index, count: fc.integer({ min: 1, max: 120 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fail' as const), index, force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('blacklist' as const), index, byPublicKey: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('touch' as const), index, host, port }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restore-own' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore-foreign' as const), indexes: fc.array(index, { maxLength: 30 }) }) },
);
const scenarioArb = fc.record({
  own: index,
  k: fc.oneof(fc.constant(20), fc.integer({ min: 1, max: 5 })),
  allowedFails: fc.integer({ min: 1, max: 4 }),
  ops: fc.array(opArb, { maxLength: 300 }),
});

const addressOf = (i: number, h: number, p: number) => ({ host: `10.${h}.${i >> 8}.${i & 0xff}`, port: p });

const fail = (message: string): never => {
  throw new Error(message);
};

/** Every structural invariant, read through the public views. */
const checkInvariants = (table: RoutingTable, ownHex: string, k: number, blacklisted: ReadonlySet<number>): void => {
  const views = table.bucketViews();
  const seen = new Set<string>();
  let count = 0;
  views.forEach((view, b) => {
    const last = b === views.length - 1;
    if (view.contacts.length > k) fail(`bucket ${b} holds ${view.contacts.length} contacts, K is ${k}`);
    if (view.replacements.length > k) fail(`bucket ${b} caches ${view.replacements.length} replacements, K is ${k}`);
    count += view.contacts.length;
    for (const c of [...view.contacts, ...view.replacements]) {
      if (seen.has(c.idHex)) fail(`${c.idHex.slice(0, 8)} is held twice`);
      seen.add(c.idHex);
      if (c.idHex === ownHex) fail('the table holds its own id');
      const i = HEX.indexOf(c.idHex);
      if (blacklisted.has(i)) fail(`blacklisted ${i} is held`);
      const cpl = commonPrefixLength(table.ownId, c.id);
      if (last ? cpl < b : cpl !== b) fail(`${i} shares ${cpl} bits but sits in bucket ${b} of ${views.length}`);
    }
  });
  if (table.size !== count) fail(`size ${table.size} but ${count} contacts`);
};

const sortedContacts = (s: TableSnapshot): string[] => s.contacts.map((c) => `${c.publicKey}@${c.host}:${c.port}`).sort();

interface Scenario {
  readonly own: number;
  readonly k: number;
  readonly allowedFails: number;
  readonly ops: readonly Op[];
}

const play = ({ own, k, allowedFails, ops }: Scenario): void => {
  const ownHex = HEX[own];
  const table = new RoutingTable(POOL[own].nodeId, { k, allowedFails }, T0_MS);
  const blacklisted = new Set<number>();
  const add = (i: number, h: number, p: number, now: number): void => {
    const placement = table.placement(POOL[i].nodeId);
    const outcome = table.add({ publicKey: POOL[i].publicKey, ...addressOf(i, h, p) }, now);
    // 'room' counts a split of the last bucket as room, though the id may land in a full bucket after it.
    const expected = { self: ['self'], blacklisted: ['blacklisted'], known: ['updated'], room: ['added', 'cached'], cache: ['cached'], refused: ['refused'], inadmissible: ['inadmissible'] }[placement];
    if (!expected.includes(outcome)) fail(`placement said ${placement} for ${i}, add did ${outcome}`);
    if (outcome === 'added' || outcome === 'updated') {
      const held = table.get(POOL[i].nodeId);
      const want = addressOf(i, h, p);
      if (held?.host !== want.host || held.port !== want.port || held.failures !== 0) fail(`${i} not held at its new address after ${outcome}`);
    }
  };
  ops.forEach((op, step) => {
    const now = T0_MS + step * 1000;
    switch (op.kind) {
      case 'add':
        add(op.index, op.host, op.port, now);
        break;
      case 'burst':
        for (let i = op.index; i < Math.min(POOL.length, op.index + op.count); i++) add(i, 0, 1908, now);
        break;
      case 'fail':
        table.recordFailure(POOL[op.index].nodeId, op.force);
        break;
      case 'blacklist':
        if (op.index === own) break;
        table.blacklist(op.byPublicKey ? POOL[op.index].publicKey : POOL[op.index].nodeId);
        blacklisted.add(op.index);
        break;
      case 'touch': {
        const before = table.get(POOL[op.index].nodeId);
        table.touch(POOL[op.index].nodeId, addressOf(op.index, op.host, op.port), now);
        const after = table.get(POOL[op.index].nodeId);
        // A touch refreshes; it never adds, moves or removes a contact.
        if ((before === undefined) !== (after === undefined)) fail(`touch of ${op.index} added or removed it`);
        if (before && after && (before.host !== after.host || before.port !== after.port)) fail(`touch moved ${op.index}`);
        break;
      }
      case 'restore-own': {
        // The table's own snapshot changes nothing in it.
        const snapshot = table.toSnapshot();
        const result = table.restore(snapshot, now);
        if (result.skipped !== 0 || result.restored !== snapshot.contacts.length) fail(`restoring its own snapshot gave ${JSON.stringify(result)}`);
        expect(sortedContacts(table.toSnapshot())).toEqual(sortedContacts(snapshot));
        expect(table.toSnapshot().blacklist).toEqual(snapshot.blacklist);
        break;
      }
      case 'restore-foreign': {
        // Another table's snapshot may add contacts without a round trip (that is what restoring is), never blacklisted ones.
        const contacts = op.indexes.map((i) => ({ publicKey: toHex(POOL[i].publicKey), ...addressOf(i, 1, 1908) }));
        table.restore({ version: 1, nodeId: HEX[op.indexes[0] ?? 0], contacts, blacklist: [] }, now);
        break;
      }
    }
    checkInvariants(table, ownHex, k, blacklisted);
  });
};

describe(`the routing table under random operation sequences (fast-check seed ${SEED})`, () => {
  it('keeps every bucket within K, every id once and in its bucket, and no own or blacklisted id, after every operation', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => play(s)),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('restores a snapshot idempotently: twice gives the same table as once', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const source = new RoutingTable(POOL[s.own].nodeId, { k: s.k, allowedFails: s.allowedFails }, T0_MS);
        s.ops.forEach((op, step) => {
          if (op.kind === 'add') source.add({ publicKey: POOL[op.index].publicKey, ...addressOf(op.index, op.host, op.port) }, T0_MS + step);
          if (op.kind === 'burst') for (let i = op.index; i < Math.min(POOL.length, op.index + op.count); i++) source.add({ publicKey: POOL[i].publicKey, ...addressOf(i, 0, 1908) }, T0_MS + step);
          if (op.kind === 'blacklist' && op.index !== s.own) source.blacklist(POOL[op.index].nodeId);
        });
        const snapshot = JSON.parse(JSON.stringify(source.toSnapshot())) as TableSnapshot;
        const target = new RoutingTable(POOL[s.own].nodeId, { k: s.k, allowedFails: s.allowedFails }, T0_MS);
        const first = target.restore(snapshot, T0_MS);
        const once = target.toSnapshot();
        const second = target.restore(snapshot, T0_MS + 1);
        const twice = target.toSnapshot();
        expect(sortedContacts(twice)).toEqual(sortedContacts(once));
        expect(twice.blacklist).toEqual(once.blacklist);
        expect(second.restored).toBe(once.contacts.length);
        expect(first.skipped).toBe(0);
      }),
      { seed: SEED + 1, numRuns: 100 },
    );
  });
});
