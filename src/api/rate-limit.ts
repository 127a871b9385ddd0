/**
 * A token bucket per client address: `burst` requests at once, refilled at
 * `perSecond`. It reads time only from the clock it is given, so tests step
 * it. It tracks at most `maxAddresses` addresses, forgetting the least
 * recently seen first, so a flood of addresses cannot grow it without bound.
 */
import type { Clock } from '../runtime/clock.js';

export interface RateLimitSettings {
  /** Requests an address may make at once. */
  readonly burst: number;
  /** Requests per second an address earns back. */
  readonly perSecond: number;
  /** Addresses remembered at once. */
  readonly maxAddresses: number;
}

export const RATE_LIMIT_DEFAULTS: RateLimitSettings = Object.freeze({
  burst: 120,
  perSecond: 30,
  maxAddresses: 10_000,
});

export type RateDecision = { readonly ok: true } | { readonly ok: false; /** Whole seconds until one request is allowed again. */ readonly retryAfterS: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  readonly settings: RateLimitSettings;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    settings: Partial<RateLimitSettings> = {},
  ) {
    this.settings = {
      burst: settings.burst ?? RATE_LIMIT_DEFAULTS.burst,
      perSecond: settings.perSecond ?? RATE_LIMIT_DEFAULTS.perSecond,
      maxAddresses: settings.maxAddresses ?? RATE_LIMIT_DEFAULTS.maxAddresses,
    };
    const { burst, perSecond, maxAddresses } = this.settings;
    if (!(burst >= 1) || !(perSecond > 0) || !Number.isInteger(maxAddresses) || maxAddresses < 1) {
      throw new RangeError(`the rate limit needs burst >= 1, perSecond > 0 and maxAddresses >= 1, got ${JSON.stringify(this.settings)}`);
    }
  }

  /** Spends one request of `address`'s bucket, if it has one. */
  take(address: string): RateDecision {
    const now = this.clock.now();
    const bucket = this.refilled(address, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / this.settings.perSecond)) };
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(address: string, now: number): Bucket {
    let bucket = this.buckets.get(address);
    if (bucket) {
      // Re-inserted so the map's order is least recently seen first.
      this.buckets.delete(address);
      const elapsedS = Math.max(0, now - bucket.updatedMs) / 1000;
      bucket.tokens = Math.min(this.settings.burst, bucket.tokens + elapsedS * this.settings.perSecond);
      bucket.updatedMs = now;
    } else {
      bucket = { tokens: this.settings.burst, updatedMs: now };
      if (this.buckets.size >= this.settings.maxAddresses) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(address, bucket);
    return bucket;
  }
}
