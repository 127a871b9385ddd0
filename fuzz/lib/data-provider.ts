/**
 * Turns fuzz bytes into typed values, as libFuzzer's FuzzedDataProvider does:
 * every consumer takes bytes from the front and never fails, returning zeros
 * (or empty values) once the input is exhausted, so any byte string is a valid
 * program for a structure-aware harness and a mutation of one byte changes
 * one decision.
 */

/** Values at the edges of the ranges the protocol checks (times, lengths, ports). */
const EDGE_NUMBERS: readonly number[] = [
  0, 1, -1, 2, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
  Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 63, -(2 ** 53), 0.5, 1.5, -0.5, Number.NaN,
  Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE, -0,
];

export class DataProvider {
  private offset = 0;

  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  byte(): number {
    return this.offset < this.data.length ? this.data[this.offset++] : 0;
  }

  bool(): boolean {
    return (this.byte() & 1) === 1;
  }

  /** True with probability about 1/n (for rare choices), using one byte; false once the input is exhausted. */
  oneIn(n: number): boolean {
    return this.byte() % n === n - 1;
  }

  /** An integer in [0, maxInclusive], from as few bytes as the range needs. */
  int(maxInclusive: number): number {
    if (maxInclusive <= 0) return 0;
    let value = 0;
    let range = 0;
    while (range < maxInclusive && range < 2 ** 48) {
      value = value * 256 + this.byte();
      range = range * 256 + 255;
    }
    return value % (maxInclusive + 1);
  }

  intInRange(min: number, max: number): number {
    return min + this.int(max - min);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length - 1)];
  }

  /** Exactly `length` bytes, zero-padded once the input runs out. */
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    const available = Math.min(length, this.remaining);
    out.set(this.data.subarray(this.offset, this.offset + available));
    this.offset += available;
    return out;
  }

  /** Up to `maxLength` bytes, the length chosen by the input. */
  bytesUpTo(maxLength: number): Buffer {
    return this.bytes(Math.min(this.int(maxLength), this.remaining));
  }

  /** Well-formed text (UTF-8 decoding replaces what is not), at most `maxBytes` input bytes. */
  text(maxBytes: number): string {
    return this.bytesUpTo(maxBytes).toString('utf8');
  }

  /** A time in ms: mostly valid integers near `aroundMs`, sometimes an edge value of any kind. */
  time(aroundMs: number): number {
    switch (this.byte() % 8) {
      case 0:
        return this.pick(EDGE_NUMBERS);
      case 1:
        return this.int(Number.MAX_SAFE_INTEGER);
      case 2:
        return 0;
      default:
        return Math.max(0, aroundMs + this.int(2 * 3_600_000) - 3_600_000);
    }
  }

  /** Any number: an edge value or an integer of up to 48 bits. */
  number(): number {
    return this.bool() ? this.pick(EDGE_NUMBERS) : this.int(2 ** 48 - 1);
  }

  /** Everything not consumed yet. */
  rest(): Buffer {
    const out = Buffer.from(this.data.subarray(this.offset));
    this.offset = this.data.length;
    return out;
  }
}
