/**
 * The static puzzle of S/Kademlia: puzzle bits are the leading zero bits of
 * SHA-512(node id), and grinding finds a key meeting a difficulty in about
 * 2^D tries, reproducibly from a seeded source.
 */
import { describe, expect, it } from 'vitest';
import { sha512 } from '../../src/crypto/hash.js';
import { grindIdentity, MAX_DIFFICULTY, meetsDifficulty, puzzleBits } from '../../src/crypto/puzzle.js';
import { SeededRandom } from '../../src/runtime/random.js';

describe('the Sybil puzzle', () => {
  it('counts the leading zero bits of SHA-512 of the node id', () => {
    const id = Buffer.alloc(64, 0x42);
    const h = sha512(id);
    const bits = h.toString('hex').split('').reduce((acc, c, i) => (acc === i * 4 ? acc + Math.clz32(parseInt(c, 16)) - 28 : acc), 0);
    expect(puzzleBits(id)).toBe(Math.min(bits, 512));
    expect(meetsDifficulty(id, 0)).toBe(true);
    expect(meetsDifficulty(id, puzzleBits(id))).toBe(true);
    expect(meetsDifficulty(id, puzzleBits(id) + 1)).toBe(false);
  });

  it('grinds a key meeting the difficulty, the same one for the same seed', () => {
    const grind = (seed: number) => {
      const random = new SeededRandom(seed);
      return grindIdentity(10, () => random.bytes(32));
    };
    const a = grind(5);
    expect(puzzleBits(a.identity.nodeId)).toBeGreaterThanOrEqual(10);
    expect(grind(5).identity.publicKey).toEqual(a.identity.publicKey);
    expect(grind(5).attempts).toBe(a.attempts);
  });

  it('takes about 2^D tries: the mean over 40 grinds at D = 6 is within a factor of two of 64 (seed 11)', () => {
    const random = new SeededRandom(11);
    const tries = Array.from({ length: 40 }, () => grindIdentity(6, () => random.bytes(32)).attempts);
    const mean = tries.reduce((a, b) => a + b, 0) / tries.length;
    expect(mean).toBeGreaterThan(32);
    expect(mean).toBeLessThan(128);
  });

  it('refuses a difficulty outside 0..64, and gives up after maxAttempts', () => {
    expect(() => grindIdentity(-1)).toThrow(RangeError);
    expect(() => grindIdentity(MAX_DIFFICULTY + 1)).toThrow(RangeError);
    const random = new SeededRandom(1);
    expect(() => grindIdentity(40, () => random.bytes(32), 10)).toThrow(/no key meeting difficulty 40 in 10 attempts/);
  });
});
