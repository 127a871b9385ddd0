/**
 * The density check (src/dht/density.ts): the network size a node estimates
 * from its neighbourhood, and the anomalous clusters of ids next to a key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterSize, type DensityCheck, distanceFraction, estimateNetworkSize } from '../../src/dht/density.js';
import { compareDistance, ID_BYTES, randomIdWithPrefix } from '../../src/routing/distance.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { createTestnet } from '../../src/sim/testnet.js';

const randomIds = (count: number, random: SeededRandom): Buffer[] => Array.from({ length: count }, () => Buffer.from(random.bytes(ID_BYTES)));
const sortedFractions = (ids: readonly Uint8Array[], target: Uint8Array): number[] => ids.map((id) => distanceFraction(id, target)).sort((a, b) => a - b);
/** The `count` ids of `ids` closest to `target`, without `target` itself. */
const closestTo = (ids: readonly Buffer[], target: Buffer, count: number): Buffer[] =>
  ids.filter((id) => !id.equals(target)).sort((a, b) => compareDistance(a, b, target)).slice(0, count);
const check = (networkSize: number, more: Partial<DensityCheck> = {}): DensityCheck => ({ networkSize, factor: 4, minCluster: 6, maxCluster: 100, ...more });
const id64 = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES });

describe('distanceFraction', () => {
  it('is 0 for equal ids, and the leading bits of the XOR distance as a fraction of the space', () => {
    const a = Buffer.alloc(ID_BYTES);
    expect(distanceFraction(a, a)).toBe(0);
    const b = Buffer.alloc(ID_BYTES);
    b[0] = 0x80;
    expect(distanceFraction(a, b)).toBe(0.5);
    b[0] = 0x01;
    expect(distanceFraction(a, b)).toBe(1 / 256);
    const far = Buffer.alloc(ID_BYTES);
    far[ID_BYTES - 1] = 1;
    expect(distanceFraction(a, far)).toBe(2 ** -512);
    expect(distanceFraction(a, Buffer.alloc(ID_BYTES, 0xff))).toBeLessThan(1);
  });

  it('orders ids as the XOR metric does (never the other way round)', () => {
    fc.assert(
      fc.property(id64, id64, id64, (a, b, target) => {
        const order = compareDistance(a, b, target);
        const fa = distanceFraction(a, target);
        const fb = distanceFraction(b, target);
        if (order < 0) expect(fa).toBeLessThanOrEqual(fb);
        if (order > 0) expect(fa).toBeGreaterThanOrEqual(fb);
        if (order === 0) expect(fa).toBe(fb);
      }),
      { seed: 20261125, numRuns: 500 },
    );
  });
});

describe('estimateNetworkSize', () => {
  it('says nothing from fewer contacts than asked for', () => {
    const random = new SeededRandom(1);
    expect(estimateNetworkSize(randomIds(1, random)[0], randomIds(19, random), 20)).toBeUndefined();
    expect(estimateNetworkSize(randomIds(1, random)[0], [], 0)).toBeUndefined();
  });

  it('estimates N within a factor of 2 for at least 9 nodes in 10, from the 20 ids closest to their own', () => {
    for (const n of [100, 1000, 5000]) {
      const random = new SeededRandom(n);
      const ids = randomIds(n, random);
      const estimates = ids.slice(0, 60).map((own) => estimateNetworkSize(own, closestTo(ids, own, 20), 20)!);
      const within = estimates.filter((e) => e >= n / 2 && e <= 2 * n).length;
      expect(within, `N = ${n}: ${estimates.map(Math.round).join(' ')}`).toBeGreaterThanOrEqual(54);
      // And without a bias worth the name: the median is within 25% of N.
      const median = estimates.sort((x, y) => x - y)[30];
      expect(median).toBeGreaterThan(0.75 * n);
      expect(median).toBeLessThan(1.25 * n);
    }
  });

  it('never estimates fewer nodes than the contacts it was given', () => {
    fc.assert(
      fc.property(id64, fc.array(id64, { minLength: 1, maxLength: 30 }), (own, ids) => {
        const estimate = estimateNetworkSize(own, ids, 1);
        if (estimate !== undefined) expect(estimate).toBeGreaterThanOrEqual(ids.length + 1);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('clusterSize', () => {
  it('finds no cluster next to nearly every key among random ids (false alarms under 1%)', () => {
    const n = 2000;
    const random = new SeededRandom(42);
    const ids = randomIds(n, random);
    let alarms = 0;
    for (let key = 0; key < 400; key++) {
      const target = Buffer.from(random.bytes(ID_BYTES));
      if (clusterSize(sortedFractions(closestTo(ids, target, 120), target), check(n)) > 0) alarms++;
    }
    expect(alarms).toBeLessThanOrEqual(4);
  });

  it('finds 20 ids ground to share log2(N) + 2 leading bits with a key, and counts the honest ids among them in the cluster', () => {
    const n = 1000;
    const random = new SeededRandom(3);
    const honest = randomIds(n, random);
    for (let key = 0; key < 20; key++) {
      const target = Buffer.from(random.bytes(ID_BYTES));
      const sybils = Array.from({ length: 20 }, () => randomIdWithPrefix(target, 12, random, true));
      const all = closestTo([...honest, ...sybils], target, 120);
      const cluster = clusterSize(sortedFractions(all, target), check(n));
      expect(cluster).toBeGreaterThanOrEqual(20);
      // Every Sybil is inside the cluster, so the K closest beyond it are honest.
      const beyond = new Set(all.slice(cluster).map((id) => id.toString('hex')));
      expect(sybils.filter((s) => beyond.has(s.toString('hex')))).toEqual([]);
      // The cluster takes in the honest ids among the Sybils' ranks while the ranks stay too dense:
      // the j-th honest id beyond 20 Sybils, at about j/N, is flagged while j·factor < 20 + j, so about
      // 20/(factor − 1) ≈ 7 of them. It does not swallow the honest neighbourhood.
      expect(cluster).toBeLessThanOrEqual(40);
    }
  });

  it('is off for a check that cannot tell: no network size, or a factor of 0', () => {
    const distances = [1e-9, 2e-9, 3e-9, 4e-9, 5e-9, 6e-9, 7e-9];
    expect(clusterSize(distances, check(0))).toBe(0);
    expect(clusterSize(distances, check(1000, { factor: 0 }))).toBe(0);
    expect(clusterSize(distances, check(1000))).toBe(7);
    expect(clusterSize(distances, check(1000, { minCluster: 8 }))).toBe(0);
    expect(clusterSize(distances, check(1000, { maxCluster: 5 }))).toBe(0);
    expect(clusterSize(distances, check(1000, { maxCluster: 6 }))).toBe(6);
  });

  const distancesArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }).map((d) => d.sort((a, b) => a - b));
  const checkArb = fc.record({
    networkSize: fc.double({ min: 1, max: 1e9, noNaN: true }),
    factor: fc.double({ min: 1, max: 16, noNaN: true }),
    minCluster: fc.integer({ min: 1, max: 10 }),
    maxCluster: fc.integer({ min: 1, max: 80 }),
  });

  it('answers 0 or the largest rank in [minCluster, maxCluster] whose distance is below rank/(N̂·factor)', () => {
    fc.assert(
      fc.property(distancesArb, checkArb, (distances, c) => {
        const m = clusterSize(distances, c);
        const flagged = (r: number): boolean => distances[r - 1] * c.networkSize * c.factor < r;
        const limit = Math.min(distances.length, c.maxCluster);
        if (m === 0) {
          for (let r = c.minCluster; r <= limit; r++) expect(flagged(r)).toBe(false);
        } else {
          expect(m).toBeGreaterThanOrEqual(c.minCluster);
          expect(m).toBeLessThanOrEqual(limit);
          expect(flagged(m)).toBe(true);
          for (let r = m + 1; r <= limit; r++) expect(flagged(r)).toBe(false);
        }
      }),
      { seed: 11, numRuns: 1000 },
    );
  });

  it('always puts S Sybils denser than the factor allows inside the cluster, whatever honest ids lie among them', () => {
    fc.assert(
      fc.property(distancesArb, checkArb, fc.integer({ min: 1, max: 40 }), fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 40, maxLength: 40 }), (honest, c, s, spread) => {
        fc.pre(s >= c.minCluster && s + honest.length <= c.maxCluster);
        // S ids all nearer than S/(N̂·factor): the S-th of them then sits at a rank r ≥ S, below r/(N̂·factor).
        const sybils = spread.slice(0, s).map((x) => (x * s) / (c.networkSize * c.factor));
        const merged = [...honest, ...sybils].sort((a, b) => a - b);
        const m = clusterSize(merged, c);
        const lastSybil = Math.max(...sybils);
        expect(m).toBeGreaterThanOrEqual(merged.lastIndexOf(lastSybil) + 1);
      }),
      { seed: 13, numRuns: 1000 },
    );
  });
});

describe("a node's density check", () => {
  it('is off in a network too small to tell (fewer than K contacts), where sets and gets work as before', async () => {
    const net = await createTestnet(8, { seed: 31 });
    try {
      for (const node of net.nodes) expect(node.densityCheck()).toBeUndefined();
      const report = await net.run(net.nodes[0].set('tiny', Buffer.from('few nodes')));
      expect(report.attempted).toBe(8);
      expect(report.stored).toBe(8);
      const found = await net.run(net.nodes[5].retrieve(report.item.key, { fresh: true }));
      expect(found.item?.signature).toEqual(report.item.signature);
    } finally {
      await net.stop();
    }
  }, 60_000);

  it('estimates the size of the network it is part of, and leaves the store sets of honest keys at K', async () => {
    const net = await createTestnet(150, { seed: 32 });
    try {
      const estimates = net.nodes.map((n) => n.densityCheck()!.networkSize).sort((a, b) => a - b);
      expect(estimates[75]).toBeGreaterThan(150 / 1.5);
      expect(estimates[75]).toBeLessThan(150 * 1.5);
      let widened = 0;
      for (let i = 0; i < 20; i++) {
        const report = await net.run(net.nodes[(i * 7) % 150].set(`honest-${i}`, Buffer.from('value')));
        expect(report.attempted).toBeGreaterThanOrEqual(20);
        if (report.attempted > 20) widened++;
      }
      // A false alarm only widens a store set; among random ids it is rare.
      expect(widened).toBeLessThanOrEqual(2);
    } finally {
      await net.stop();
    }
  }, 120_000);
});
