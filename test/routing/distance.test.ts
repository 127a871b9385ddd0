import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commonPrefixLength, compareDistance, ID_BITS, ID_BYTES, randomIdWithPrefix, xorDistance } from '../../src/routing/distance.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { distanceModel, fromBigInt, prefixLengthModel, toBigInt } from './fixtures.js';

const NUM_RUNS = 500;

const id = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES }).map((bytes) => Buffer.from(bytes));

/** An id sharing exactly `bits` leading bits with `base` (equal to it when bits = 512), the rest random. */
const idSharing = (base: Buffer, bits: number, tail: Buffer): Buffer => {
  if (bits === ID_BITS) return Buffer.from(base);
  const below = (1n << BigInt(ID_BITS - 1 - bits)) - 1n;
  const flip = (1n << BigInt(ID_BITS - 1 - bits)) | (toBigInt(tail) & below);
  return fromBigInt(toBigInt(base) ^ flip);
};

/** Pairs of ids that share every possible prefix length, not only the short ones random ids share. */
const pair = fc.oneof(
  fc.tuple(id, id),
  fc.tuple(id, fc.integer({ min: 0, max: ID_BITS }), id).map(([a, bits, tail]) => [a, idSharing(a, bits, tail)] as const),
);

describe('compareDistance', () => {
  it('orders two ids as their XOR distances to the target compare as 512-bit integers', () => {
    fc.assert(
      fc.property(pair, id, ([a, b], target) => {
        const model = distanceModel(a, target) - distanceModel(b, target);
        expect(Math.sign(compareDistance(a, b, target))).toBe(model === 0n ? 0 : model < 0n ? -1 : 1);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('orders ids near the target by the bits after their shared prefix', () => {
    fc.assert(
      fc.property(id, fc.integer({ min: 0, max: ID_BITS }), fc.integer({ min: 0, max: ID_BITS }), id, id, (target, bitsA, bitsB, tailA, tailB) => {
        const a = idSharing(target, bitsA, tailA);
        const b = idSharing(target, bitsB, tailB);
        const sign = Math.sign(compareDistance(a, b, target));
        // Sharing more leading bits with the target is being closer to it.
        if (bitsA > bitsB) expect(sign).toBe(-1);
        if (bitsA < bitsB) expect(sign).toBe(1);
        expect(sign + Math.sign(compareDistance(b, a, target))).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('is zero exactly when the two ids are equal', () => {
    fc.assert(
      fc.property(id, id, (a, target) => {
        expect(compareDistance(a, Buffer.from(a), target)).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});

describe('commonPrefixLength', () => {
  it('counts the leading zero bits of the XOR of the two ids', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(commonPrefixLength(a, b)).toBe(prefixLengthModel(a, b));
        expect(commonPrefixLength(b, a)).toBe(commonPrefixLength(a, b));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('finds a single differing bit at every position', () => {
    const base = Buffer.alloc(ID_BYTES, 0x5a);
    for (let bit = 0; bit < ID_BITS; bit++) {
      const other = Buffer.from(base);
      other[bit >> 3] ^= 0x80 >> (bit & 7);
      expect(commonPrefixLength(base, other)).toBe(bit);
    }
    expect(commonPrefixLength(base, Buffer.from(base))).toBe(ID_BITS);
  });
});

describe('xorDistance', () => {
  it('is the byte-wise XOR of the two ids', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(toBigInt(xorDistance(a, b))).toBe(distanceModel(a, b));
      }),
      { numRuns: 100 },
    );
  });
});

describe('randomIdWithPrefix', () => {
  const prefixBits = fc.integer({ min: 0, max: ID_BITS - 1 });
  const seed = fc.integer({ min: 0, max: 0xffff_ffff });

  it('shares exactly the requested number of leading bits with our id', () => {
    fc.assert(
      fc.property(id, prefixBits, seed, (ownId, bits, s) => {
        const out = randomIdWithPrefix(ownId, bits, new SeededRandom(s));
        expect(out).toHaveLength(ID_BYTES);
        expect(prefixLengthModel(ownId, out)).toBe(bits);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('shares at least the requested number of leading bits when asked for at least', () => {
    fc.assert(
      fc.property(id, prefixBits, seed, (ownId, bits, s) => {
        const out = randomIdWithPrefix(ownId, bits, new SeededRandom(s), true);
        expect(out).toHaveLength(ID_BYTES);
        expect(prefixLengthModel(ownId, out)).toBeGreaterThanOrEqual(bits);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('returns our own id for a 512-bit prefix, as a copy', () => {
    const ownId = Buffer.alloc(ID_BYTES, 0xc3);
    const out = randomIdWithPrefix(ownId, ID_BITS, new SeededRandom(1), true);
    expect(out.equals(ownId)).toBe(true);
    out[0] ^= 0xff;
    expect(ownId[0]).toBe(0xc3);
  });

  it('leaves the bits after the prefix random, so an at-least target can fall anywhere in the last bucket', () => {
    const ownId = Buffer.alloc(ID_BYTES, 0x0f);
    const random = new SeededRandom(2);
    const exactly = new Set<number>();
    const atLeast = new Set<number>();
    const outs = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const exact = randomIdWithPrefix(ownId, 10, random);
      exactly.add(prefixLengthModel(ownId, exact));
      outs.add(exact.toString('hex'));
      atLeast.add(prefixLengthModel(ownId, randomIdWithPrefix(ownId, 10, random, true)));
    }
    expect([...exactly]).toEqual([10]);
    expect(outs.size).toBe(200);
    expect(atLeast.has(10)).toBe(true);
    expect(atLeast.has(11)).toBe(true);
    expect(Math.min(...atLeast)).toBe(10);
  });

  it('draws the same id from the same seed', () => {
    const ownId = Buffer.alloc(ID_BYTES, 0x33);
    expect(randomIdWithPrefix(ownId, 77, new SeededRandom(9)).equals(randomIdWithPrefix(ownId, 77, new SeededRandom(9)))).toBe(true);
  });
});
