/**
 * Randomness the DHT core is given: request ids, refresh targets, key seeds.
 * SeededRandom (xoshiro128**) makes tests and simulations reproducible from a
 * seed; SystemRandom draws from libsodium's CSPRNG for real nodes.
 */
import sodium from 'sodium-native';

export interface Random {
  /** `length` uniformly random bytes. */
  bytes(length: number): Uint8Array;
  /** A uniformly random integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** A uniformly random float in [0, 1). */
  float(): number;
}

/** Bytes drawn from the CSPRNG at a time: a call into libsodium costs more than the bytes of a request id. */
const POOL_BYTES = 4096;

export class SystemRandom implements Random {
  private readonly pool = Buffer.alloc(POOL_BYTES);
  private used = POOL_BYTES;

  bytes(length: number): Uint8Array {
    if (length > POOL_BYTES / 8) {
      const out = Buffer.alloc(length);
      sodium.randombytes_buf(out);
      return out;
    }
    if (this.used + length > POOL_BYTES) {
      sodium.randombytes_buf(this.pool);
      this.used = 0;
    }
    const out = Buffer.from(this.pool.subarray(this.used, this.used + length));
    // Each byte is handed out once, and not kept.
    this.pool.fill(0, this.used, this.used + length);
    this.used += length;
    return out;
  }

  int(maxExclusive: number): number {
    if (maxExclusive <= 0xffff_ffff) return sodium.randombytes_uniform(maxExclusive);
    return Math.floor(this.float() * maxExclusive);
  }

  float(): number {
    const b = this.bytes(8);
    const hi = ((b[0] << 13) | (b[1] << 5) | (b[2] >>> 3)) >>> 0; // 21 bits
    const lo = ((b[3] << 24) | (b[4] << 16) | (b[5] << 8) | b[6]) >>> 0; // 32 bits
    return (hi * 0x1_0000_0000 + lo) / 2 ** 53;
  }
}

export class SeededRandom implements Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the 128-bit state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A new independent stream, so adding a consumer does not shift the others. */
  fork(): SeededRandom {
    return new SeededRandom(this.next32());
  }

  next32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  bytes(length: number): Uint8Array {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += 4) {
      const word = this.next32();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
    }
    return out;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.float() * maxExclusive);
  }

  float(): number {
    const hi = this.next32() >>> 11; // 21 bits
    const lo = this.next32(); // 32 bits
    return (hi * 0x1_0000_0000 + lo) / 2 ** 53;
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Fisher–Yates shuffle of a copy, driven by the injected random source. */
export const shuffled = <T>(items: readonly T[], random: Random): T[] => {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};
