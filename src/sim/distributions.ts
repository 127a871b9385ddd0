/**
 * Seeded samplers for the simulator's models: Weibull session lengths (and the
 * remaining life of a session already under way), log-normal access delays,
 * and the normal and gamma variates they are built from. Every sampler draws
 * only from the Random it is given, so a model is reproducible from its seed.
 */
import type { Random } from '../runtime/random.js';

/** A float in (0, 1): never 0, so logarithms stay finite. */
const open01 = (random: Random): number => {
  for (;;) {
    const u = random.float();
    if (u > 0) return u;
  }
};

/** A standard normal variate (Box–Muller; the second value is discarded to keep draws simple to count). */
export const sampleNormal = (random: Random): number => Math.sqrt(-2 * Math.log(open01(random))) * Math.cos(2 * Math.PI * random.float());

/** A log-normal variate with the given median and log-space standard deviation. */
export const sampleLogNormal = (random: Random, median: number, sigma: number): number => median * Math.exp(sigma * sampleNormal(random));

/** An exponential variate with the given mean. */
export const sampleExponential = (random: Random, mean: number): number => -mean * Math.log(open01(random));

/** A Gamma(shape, 1) variate (Marsaglia and Tsang 2000; shape < 1 through the boost Gamma(a) = Gamma(a + 1)·U^(1/a)). */
export const sampleGamma = (random: Random, shape: number): number => {
  if (shape < 1) return sampleGamma(random, shape + 1) * open01(random) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = open01(random);
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
};

/** Weibull session lengths given by shape k and median, as Stutzbach and Rejaie (2006) fit them. */
export interface WeibullParams {
  readonly shape: number;
  readonly medianMs: number;
}

/** The scale λ with median λ·(ln 2)^(1/k). */
export const weibullScale = ({ shape, medianMs }: WeibullParams): number => medianMs / Math.LN2 ** (1 / shape);

/** The mean session, λ·Γ(1 + 1/k). */
export const weibullMean = (params: WeibullParams): number => weibullScale(params) * gammaFunction(1 + 1 / params.shape);

/** A session length, by inversion: λ·(−ln U)^(1/k). */
export const sampleWeibull = (random: Random, params: WeibullParams): number => weibullScale(params) * (-Math.log(open01(random))) ** (1 / params.shape);

/**
 * The time left in a session that was already under way when observation
 * began (the renewal process's equilibrium residual life), so a simulation can
 * start in steady state instead of with every node at age zero. The session
 * is drawn length-biased, ((L/λ)^k ~ Gamma(1 + 1/k)), and the observer falls
 * uniformly inside it.
 */
export const sampleWeibullResidual = (random: Random, params: WeibullParams): number => {
  const scale = weibullScale(params);
  const lengthBiased = scale * sampleGamma(random, 1 + 1 / params.shape) ** (1 / params.shape);
  return random.float() * lengthBiased;
};

/** Γ(x) for x > 0 (Lanczos, g = 7), enough for means of session models. */
export const gammaFunction = (x: number): number => {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gammaFunction(1 - x));
  const g = 7;
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let a = c[0];
  const t = z + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i] / (z + i);
  return Math.sqrt(2 * Math.PI) * t ** (z + 0.5) * Math.exp(-t) * a;
};
