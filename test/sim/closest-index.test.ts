/**
 * The ground truth for lookups: the trie walk over sorted ids returns what
 * sorting every id by distance returns (seeded random ids and targets).
 */
import { describe, expect, it } from 'vitest';
import { compareDistance } from '../../src/routing/distance.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { ClosestIndex } from '../../src/sim/closest-index.js';

const hex = (ids: Buffer[]): string[] => ids.map((id) => id.toString('hex'));

const bruteForce = (ids: Buffer[], target: Buffer, count: number, exclude?: Buffer): string[] =>
  hex(ids.filter((id) => !exclude || !id.equals(exclude)).sort((a, b) => compareDistance(a, b, target)).slice(0, count));

describe('the closest index', () => {
  it('finds the same closest ids as sorting all of them by distance (seed 5)', () => {
    const random = new SeededRandom(5);
    for (const n of [1, 7, 20, 21, 300]) {
      const ids = Array.from({ length: n }, () => Buffer.from(random.bytes(64)));
      // Ids sharing long prefixes put the trie walk through deep splits.
      for (let i = 0; i < 5; i++) {
        const twin = Buffer.from(ids[i % n]);
        twin[63] ^= 1 << i;
        ids.push(twin);
      }
      const index = new ClosestIndex(ids);
      for (let t = 0; t < 50; t++) {
        const target = t % 5 === 0 ? ids[t % ids.length] : Buffer.from(random.bytes(64));
        expect(hex(index.closest(target, 20))).toEqual(bruteForce(ids, target, 20));
        expect(hex(index.closest(target, 20, ids[0]))).toEqual(bruteForce(ids, target, 20, ids[0]));
      }
    }
  });

  it('returns every id when asked for more than it holds', () => {
    const ids = [Buffer.alloc(64, 1), Buffer.alloc(64, 2)];
    expect(hex(new ClosestIndex(ids).closest(Buffer.alloc(64, 3), 20))).toEqual(hex([ids[1], ids[0]]));
  });
});
