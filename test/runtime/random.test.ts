import { describe, expect, it } from 'vitest';
import { SeededRandom, shuffled, SystemRandom } from '../../src/runtime/random.js';

const draws = (random: SeededRandom, n: number): number[] => Array.from({ length: n }, () => random.next32());

describe('SeededRandom', () => {
  it('produces the same sequence from the same seed', () => {
    expect(draws(new SeededRandom(42), 20)).toEqual(draws(new SeededRandom(42), 20));
    expect(Buffer.from(new SeededRandom(7).bytes(33))).toEqual(Buffer.from(new SeededRandom(7).bytes(33)));
  });

  it('produces different sequences from different seeds', () => {
    expect(draws(new SeededRandom(1), 8)).not.toEqual(draws(new SeededRandom(2), 8));
  });

  it('draws unsigned 32-bit words', () => {
    for (const word of draws(new SeededRandom(3), 1000)) {
      expect(Number.isInteger(word) && word >= 0 && word <= 0xffff_ffff).toBe(true);
    }
  });

  it('draws integers in [0, max) and reaches every value of a small range', () => {
    const random = new SeededRandom(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const n = random.int(7);
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
      seen.add(n);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('draws floats in [0, 1)', () => {
    const random = new SeededRandom(6);
    for (let i = 0; i < 1000; i++) {
      const x = random.float();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });

  it('gives exactly the number of bytes asked for', () => {
    const random = new SeededRandom(8);
    for (const length of [0, 1, 3, 4, 5, 16, 64]) expect(random.bytes(length)).toHaveLength(length);
  });

  it('forks reproducible streams that differ from the parent', () => {
    const a = new SeededRandom(9);
    const b = new SeededRandom(9);
    const forkA = a.fork();
    const forkB = b.fork();
    expect(draws(forkA, 10)).toEqual(draws(forkB, 10));
    expect(draws(a, 10)).toEqual(draws(b, 10));
    expect(draws(new SeededRandom(9).fork(), 10)).not.toEqual(draws(new SeededRandom(9), 10));
  });
});

describe('SystemRandom', () => {
  const random = new SystemRandom();

  it('draws integers in [0, max)', () => {
    for (let i = 0; i < 200; i++) {
      const n = random.int(10);
      expect(Number.isInteger(n) && n >= 0 && n < 10).toBe(true);
    }
  });

  it('draws from the whole range when max is 2^32 or more', () => {
    for (const max of [2 ** 32, 2 ** 40]) {
      const values = Array.from({ length: 16 }, () => random.int(max));
      for (const n of values) expect(Number.isInteger(n) && n >= 0 && n < max).toBe(true);
      expect(values.some((n) => n !== 0)).toBe(true);
    }
  });

  it('draws floats in [0, 1) and the number of bytes asked for', () => {
    for (let i = 0; i < 200; i++) {
      const x = random.float();
      expect(x >= 0 && x < 1).toBe(true);
    }
    expect(random.bytes(17)).toHaveLength(17);
  });
});

describe('shuffled', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);

  it('returns a permutation of its input and leaves the input alone', () => {
    const copy = items.slice();
    const out = shuffled(items, new SeededRandom(11));
    expect(items).toEqual(copy);
    expect(out).not.toBe(items);
    expect(out.slice().sort((a, b) => a - b)).toEqual(items);
    expect(out).not.toEqual(items);
  });

  it('shuffles the same way for the same seed', () => {
    expect(shuffled(items, new SeededRandom(12))).toEqual(shuffled(items, new SeededRandom(12)));
    expect(shuffled(items, new SeededRandom(12))).not.toEqual(shuffled(items, new SeededRandom(13)));
  });

  it('handles empty and single-element lists', () => {
    expect(shuffled([], new SeededRandom(1))).toEqual([]);
    expect(shuffled(['only'], new SeededRandom(1))).toEqual(['only']);
  });
});
