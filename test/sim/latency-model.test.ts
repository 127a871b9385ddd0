/**
 * The WAN latency model on a seeded sample of hosts: round trips with a
 * median near 100 ms and a long tail, deterministic from the seed, and
 * packets that take half a round trip in whole milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/runtime/random.js';
import { WanLatencyModel } from '../../src/sim/latency-model.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `127.0.${i >> 8}.${i & 255}`, port: 1908 }));

const modelWith = (seed: number, n: number): WanLatencyModel => {
  const model = new WanLatencyModel({ seed });
  for (const h of hosts(n)) model.rttMs(h, h);
  return model;
};

describe('the WAN latency model', () => {
  it('gives random pairs a median round trip near 100 ms with a long tail (seed 1, 2,000 hosts)', () => {
    const summary = modelWith(1, 2000).summarize(20_000, new SeededRandom(2));
    expect(summary.p50).toBeGreaterThanOrEqual(85);
    expect(summary.p50).toBeLessThanOrEqual(120);
    expect(summary.p95).toBeGreaterThan(1.6 * summary.p50);
    expect(summary.p99).toBeGreaterThanOrEqual(250);
    expect(summary.max).toBeGreaterThan(2 * summary.p99);
  });

  it('is the same model for the same seed and a different one for another seed', () => {
    const [a, b, c] = [modelWith(7, 300), modelWith(7, 300), modelWith(8, 300)];
    const [x, y] = hosts(2);
    expect(a.rttMs(x, y)).toBe(b.rttMs(x, y));
    expect(a.rttMs(x, y)).not.toBe(c.rttMs(x, y));
  });

  it('delays each packet by half the round trip plus a little jitter, in whole milliseconds', () => {
    const model = modelWith(3, 50);
    const [x, y] = hosts(2);
    const half = model.rttMs(x, y) / 2;
    const delays = Array.from({ length: 200 }, () => model.latencyMs(x, y));
    for (const d of delays) {
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(Math.round(half));
      expect(d).toBeLessThan(half + 15);
    }
    expect(new Set(delays).size).toBeGreaterThan(1);
    expect(model.rttMs(x, y)).toBe(model.rttMs(y, x));
  });
});
