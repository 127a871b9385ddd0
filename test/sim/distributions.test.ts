/**
 * The samplers behind the churn and latency models, checked on seeded samples
 * against their closed forms (medians, quartiles, survival functions).
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/runtime/random.js';
import { gammaFunction, sampleGamma, sampleLogNormal, sampleWeibull, sampleWeibullResidual, weibullMean, weibullScale } from '../../src/sim/distributions.js';
import { percentile } from '../../src/sim/measure.js';

const SAMPLES = 20_000;
const draw = (seed: number, sample: (random: SeededRandom) => number): number[] => {
  const random = new SeededRandom(seed);
  return Array.from({ length: SAMPLES }, () => sample(random));
};

describe('the Weibull session sampler', () => {
  const params = { shape: 0.5, medianMs: 30 * 60_000 };

  it('has the median it is given (seed 11)', () => {
    const median = percentile(draw(11, (r) => sampleWeibull(r, params)), 0.5);
    expect(median / params.medianMs).toBeGreaterThan(0.96);
    expect(median / params.medianMs).toBeLessThan(1.04);
  });

  it('has the shape it is given, estimated from its quartiles (seed 12)', () => {
    for (const shape of [0.4, 0.5, 0.6]) {
      const samples = draw(12, (r) => sampleWeibull(r, { shape, medianMs: 60_000 }));
      // Q3/Q1 = (ln 4 / ln(4/3))^(1/k) for any scale.
      const estimate = Math.log(Math.log(4) / Math.log(4 / 3)) / Math.log(percentile(samples, 0.75) / percentile(samples, 0.25));
      expect(Math.abs(estimate - shape) / shape).toBeLessThan(0.05);
    }
  });

  it('puts 1 − 1/e of sessions below its scale, and its mean at λΓ(1 + 1/k) (seed 13)', () => {
    const samples = draw(13, (r) => sampleWeibull(r, params));
    const scale = weibullScale(params);
    expect(samples.filter((x) => x < scale).length / SAMPLES).toBeCloseTo(1 - 1 / Math.E, 1);
    expect(weibullMean(params) / scale).toBeCloseTo(2, 6); // Γ(3) = 2
  });

  it('gives sessions under way a remaining life with the renewal survival function (seed 14)', () => {
    // For k = 1/2: P(R > t) = (1 + u)·e^(−u) with u = √(t/λ).
    const scale = weibullScale(params);
    const samples = draw(14, (r) => sampleWeibullResidual(r, params));
    for (const t of [0.25 * scale, scale, 4 * scale]) {
      const u = Math.sqrt(t / scale);
      const expected = (1 + u) * Math.exp(-u);
      expect(Math.abs(samples.filter((x) => x > t).length / SAMPLES - expected)).toBeLessThan(0.015);
    }
  });
});

describe('the other samplers', () => {
  it('draws log-normal delays around their median (seed 15)', () => {
    const median = percentile(draw(15, (r) => sampleLogNormal(r, 10, 1.4)), 0.5);
    expect(median).toBeGreaterThan(9.5);
    expect(median).toBeLessThan(10.5);
  });

  it('draws gamma variates with mean equal to the shape, below 1 too (seed 16)', () => {
    for (const shape of [0.5, 3]) {
      const samples = draw(16, (r) => sampleGamma(r, shape));
      expect(samples.reduce((a, b) => a + b, 0) / SAMPLES / shape).toBeCloseTo(1, 1);
    }
  });

  it('computes the gamma function', () => {
    expect(gammaFunction(5)).toBeCloseTo(24, 8);
    expect(gammaFunction(0.5)).toBeCloseTo(Math.sqrt(Math.PI), 8);
    expect(gammaFunction(3.5)).toBeCloseTo(3.32335097, 6);
  });
});
