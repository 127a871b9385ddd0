/**
 * A seeded wide-area latency model for the in-memory network. Each host gets a
 * site on the globe (drawn from populated regions) and an access-link delay
 * (log-normal: most links are quick, a few are very slow). A pair's round trip
 * is the great-circle propagation in fibre, inflated for indirect routes, plus
 * both access delays; each packet takes half of it plus a small exponential
 * jitter. Loss is the network's lossRate, not this model's. Sites are drawn
 * the first time a host is seen, so the model is deterministic as long as the
 * packets are (they are, on a ManualClock).
 */
import type { Address } from '../routing/contact.js';
import { type Random, SeededRandom } from '../runtime/random.js';
import { sampleExponential, sampleLogNormal, sampleNormal } from './distributions.js';

export interface Region {
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
  /** Share of hosts in this region (weights need not sum to 1). */
  readonly weight: number;
  /** Standard deviation of a host's distance from the region's centre. */
  readonly spreadKm: number;
}

/** Where Internet users are, roughly: weights after regional shares of users, spreads after the regions' sizes. */
export const REGIONS: readonly Region[] = Object.freeze([
  { name: 'north-america-east', latitude: 40, longitude: -80, weight: 0.16, spreadKm: 900 },
  { name: 'north-america-west', latitude: 38, longitude: -118, weight: 0.08, spreadKm: 700 },
  { name: 'europe', latitude: 49, longitude: 9, weight: 0.3, spreadKm: 900 },
  { name: 'east-asia', latitude: 33, longitude: 122, weight: 0.24, spreadKm: 1200 },
  { name: 'south-asia', latitude: 20, longitude: 78, weight: 0.08, spreadKm: 900 },
  { name: 'south-america', latitude: -18, longitude: -50, weight: 0.07, spreadKm: 1200 },
  { name: 'oceania', latitude: -32, longitude: 148, weight: 0.03, spreadKm: 700 },
  { name: 'africa', latitude: 2, longitude: 22, weight: 0.04, spreadKm: 2000 },
]);

export interface WanLatencyOptions {
  readonly seed: number;
  readonly regions?: readonly Region[];
  /** Median of a host's access-link share of a round trip (ms). */
  readonly accessMedianMs?: number;
  /** Log-space standard deviation of the access delay: the length of the tail. */
  readonly accessSigma?: number;
  /** Path length over great-circle length: routes are not straight lines. */
  readonly routeInflation?: number;
  /** Mean of each packet's exponential queueing jitter (ms). */
  readonly jitterMeanMs?: number;
}

/**
 * Calibrated so that random pairs of hosts have a median round trip near
 * 100 ms with a long tail (seed 1, 10^5 pairs of 5,000 hosts: p50 103 ms, p95
 * 206 ms, p99 304 ms, max 2.4 s). Straight fibre paths (inflation 1) make up
 * for the hosts being spread over every continent; with real route inflation
 * (1.5–2) the same geography gives a median of 140–180 ms.
 */
export const WAN_DEFAULTS = Object.freeze({
  accessMedianMs: 6,
  accessSigma: 1.4,
  routeInflation: 1,
  jitterMeanMs: 1,
});

const EARTH_RADIUS_KM = 6371;
/** Light in fibre covers about 200 km per millisecond. */
const FIBRE_KM_PER_MS = 200;
const DEGREE_KM = (Math.PI * EARTH_RADIUS_KM) / 180;

export interface RttSummary {
  readonly pairs: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export class WanLatencyModel {
  private readonly regions: readonly Region[];
  private readonly totalWeight: number;
  private readonly accessMedianMs: number;
  private readonly accessSigma: number;
  private readonly routeInflation: number;
  private readonly jitterMeanMs: number;
  private readonly siteRandom: Random;
  private readonly jitterRandom: Random;
  private readonly siteOf = new Map<string, number>();
  // Unit vectors and access delays, by site index; typed arrays keep 10^5 sites small.
  private xs: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private ys: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private zs: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private access: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private sites = 0;

  constructor(options: WanLatencyOptions) {
    this.regions = options.regions ?? REGIONS;
    this.totalWeight = this.regions.reduce((sum, r) => sum + r.weight, 0);
    this.accessMedianMs = options.accessMedianMs ?? WAN_DEFAULTS.accessMedianMs;
    this.accessSigma = options.accessSigma ?? WAN_DEFAULTS.accessSigma;
    this.routeInflation = options.routeInflation ?? WAN_DEFAULTS.routeInflation;
    this.jitterMeanMs = options.jitterMeanMs ?? WAN_DEFAULTS.jitterMeanMs;
    // Separate streams: how many packets were sent must not move where the next host lives.
    const random = new SeededRandom(options.seed);
    this.siteRandom = random.fork();
    this.jitterRandom = random.fork();
  }

  get hostCount(): number {
    return this.sites;
  }

  /**
   * One packet's delay from `from` to `to`: half the pair's round trip plus
   * jitter, in whole milliseconds (a node's clock reads whole milliseconds,
   * and items are stamped with it). For MemoryNetwork's latencyMs.
   */
  readonly latencyMs = (from: Address, to: Address): number => {
    const base = this.siteRttMs(this.site(from.host), this.site(to.host)) / 2;
    return Math.round(this.jitterMeanMs > 0 ? base + sampleExponential(this.jitterRandom, this.jitterMeanMs) : base);
  };

  /** The round trip between two hosts without jitter (ms). */
  rttMs(a: Address, b: Address): number {
    return this.siteRttMs(this.site(a.host), this.site(b.host));
  }

  /** Round trips of `pairs` random pairs of distinct hosts seen so far: the check that the model is what it claims. */
  summarize(pairs: number, random: Random): RttSummary {
    if (this.sites < 2) return { pairs: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    const rtts = new Float64Array(pairs);
    for (let i = 0; i < pairs; i++) {
      const a = random.int(this.sites);
      let b = random.int(this.sites - 1);
      if (b >= a) b++;
      rtts[i] = this.siteRttMs(a, b);
    }
    rtts.sort();
    const at = (q: number): number => Math.round(rtts[Math.min(pairs - 1, Math.max(0, Math.ceil(q * pairs) - 1))]);
    return { pairs, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(rtts[pairs - 1]) };
  }

  private siteRttMs(a: number, b: number): number {
    if (a === b) return this.access[a];
    const dot = this.xs[a] * this.xs[b] + this.ys[a] * this.ys[b] + this.zs[a] * this.zs[b];
    const km = Math.acos(Math.max(-1, Math.min(1, dot))) * EARTH_RADIUS_KM;
    return (2 * km * this.routeInflation) / FIBRE_KM_PER_MS + this.access[a] + this.access[b];
  }

  private site(host: string): number {
    const known = this.siteOf.get(host);
    if (known !== undefined) return known;
    const index = this.sites++;
    if (index === this.xs.length) this.grow();
    const region = this.pickRegion();
    const spreadDegrees = region.spreadKm / DEGREE_KM;
    const latitude = clamp(region.latitude + sampleNormal(this.siteRandom) * spreadDegrees, -89.9, 89.9);
    const longitude = region.longitude + (sampleNormal(this.siteRandom) * spreadDegrees) / Math.cos((latitude * Math.PI) / 180);
    const phi = (latitude * Math.PI) / 180;
    const lambda = (longitude * Math.PI) / 180;
    this.xs[index] = Math.cos(phi) * Math.cos(lambda);
    this.ys[index] = Math.cos(phi) * Math.sin(lambda);
    this.zs[index] = Math.sin(phi);
    this.access[index] = sampleLogNormal(this.siteRandom, this.accessMedianMs, this.accessSigma);
    this.siteOf.set(host, index);
    return index;
  }

  private pickRegion(): Region {
    let x = this.siteRandom.float() * this.totalWeight;
    for (const region of this.regions) {
      x -= region.weight;
      if (x < 0) return region;
    }
    return this.regions[this.regions.length - 1];
  }

  private grow(): void {
    const extend = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.xs = extend(this.xs);
    this.ys = extend(this.ys);
    this.zs = extend(this.zs);
    this.access = extend(this.access);
  }
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
