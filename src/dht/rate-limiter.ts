/**
 * Token buckets per source (an IP address, or an address and port on a
 * shared host), on the injected clock: each source may send `burst` messages
 * at once and `perSecond` a second after that. Memory is bounded: at
 * `maxSources` the least recently seen source is forgotten, which only ever
 * gives it a full bucket back, as a new source would have.
 */
export interface RateLimiterOptions {
  readonly perSecond: number;
  readonly burst: number;
  readonly maxSources: number;
}

interface TokenBucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly options: RateLimiterOptions) {}

  get trackedSources(): number {
    return this.buckets.size;
  }

  /** Takes one token from `source`'s bucket; false when it is empty (the message is to be dropped). */
  take(source: string, nowMs: number): boolean {
    const { perSecond, burst, maxSources } = this.options;
    let bucket = this.buckets.get(source);
    if (bucket) {
      this.buckets.delete(source);
      bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, nowMs - bucket.updatedMs) * perSecond) / 1000);
      bucket.updatedMs = nowMs;
    } else {
      if (this.buckets.size >= maxSources) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: burst, updatedMs: nowMs };
    }
    // Re-inserted: the map's order is least recently seen first.
    this.buckets.set(source, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
