/**
 * Byte-level mutations in the manner of libFuzzer's MutationDispatcher: bit
 * flips, random and interesting bytes, big-endian arithmetic (msgpack lengths
 * and integers are big-endian), insertions, deletions, duplicated ranges,
 * dictionary tokens, truncation and crossover with another corpus entry.
 * A mutation is a stack of one to eight of these.
 */
import type { Rng } from './rng.js';

/** Bytes that mean something to msgpack and to the message framing. */
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

export interface MutationContext {
  readonly rng: Rng;
  readonly maxLength: number;
  readonly dictionary: readonly Uint8Array[];
  /** Another corpus entry, for crossover. */
  readonly other: () => Uint8Array;
}

type Mutation = (data: Buffer, ctx: MutationContext) => Buffer;

const at = (data: Buffer, ctx: MutationContext): number => ctx.rng.below(data.length);

const MUTATIONS: readonly Mutation[] = [
  // Flip one bit.
  (data, ctx) => {
    if (data.length === 0) return data;
    const i = at(data, ctx);
    data[i] ^= 1 << ctx.rng.below(8);
    return data;
  },
  // Set a random byte.
  (data, ctx) => {
    if (data.length === 0) return data;
    data[at(data, ctx)] = ctx.rng.below(256);
    return data;
  },
  // Set an interesting byte.
  (data, ctx) => {
    if (data.length === 0) return data;
    data[at(data, ctx)] = ctx.rng.pick(INTERESTING_BYTES);
    return data;
  },
  // Add or subtract a small number to a big-endian 1, 2 or 4 byte integer.
  (data, ctx) => {
    const width = ctx.rng.pick([1, 2, 4]);
    if (data.length < width) return data;
    const i = ctx.rng.below(data.length - width + 1);
    const delta = ctx.rng.below(35) - 17;
    const value = data.readUIntBE(i, width);
    data.writeUIntBE((value + delta + 2 ** (8 * width)) % 2 ** (8 * width), i, width);
    return data;
  },
  // Write an edge value as a big-endian 2 or 4 byte integer.
  (data, ctx) => {
    const width = ctx.rng.pick([2, 4]);
    if (data.length < width) return data;
    const i = ctx.rng.below(data.length - width + 1);
    const edges = width === 2 ? [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff] : [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xffff];
    data.writeUIntBE(ctx.rng.pick(edges), i, width);
    return data;
  },
  // Insert random bytes.
  (data, ctx) => {
    const i = ctx.rng.below(data.length + 1);
    return Buffer.concat([data.subarray(0, i), ctx.rng.bytes(1 + ctx.rng.below(8)), data.subarray(i)]);
  },
  // Delete a range.
  (data, ctx) => {
    if (data.length === 0) return data;
    const i = at(data, ctx);
    const n = 1 + ctx.rng.below(Math.min(16, data.length - i));
    return Buffer.concat([data.subarray(0, i), data.subarray(i + n)]);
  },
  // Copy a range to another place (insert).
  (data, ctx) => {
    if (data.length === 0) return data;
    const from = at(data, ctx);
    const n = 1 + ctx.rng.below(Math.min(64, data.length - from));
    const to = ctx.rng.below(data.length + 1);
    return Buffer.concat([data.subarray(0, to), data.subarray(from, from + n), data.subarray(to)]);
  },
  // Overwrite with a dictionary token.
  (data, ctx) => {
    if (ctx.dictionary.length === 0 || data.length === 0) return data;
    const token = ctx.rng.pick(ctx.dictionary);
    const i = ctx.rng.below(data.length);
    const out = Buffer.from(data);
    Buffer.from(token).copy(out, i, 0, Math.min(token.length, out.length - i));
    return out;
  },
  // Insert a dictionary token.
  (data, ctx) => {
    if (ctx.dictionary.length === 0) return data;
    const i = ctx.rng.below(data.length + 1);
    return Buffer.concat([data.subarray(0, i), Buffer.from(ctx.rng.pick(ctx.dictionary)), data.subarray(i)]);
  },
  // Truncate.
  (data, ctx) => data.subarray(0, ctx.rng.below(data.length + 1)),
  // Crossover: a prefix of this input and a suffix of another.
  (data, ctx) => {
    const other = ctx.other();
    const cut = ctx.rng.below(data.length + 1);
    const from = ctx.rng.below(other.length + 1);
    return Buffer.concat([data.subarray(0, cut), other.subarray(from)]);
  },
  // Overwrite a range with the same range of another input (keeps offsets aligned).
  (data, ctx) => {
    const other = ctx.other();
    if (data.length === 0 || other.length === 0) return data;
    const i = ctx.rng.below(Math.min(data.length, other.length));
    const n = 1 + ctx.rng.below(Math.min(32, other.length - i));
    const out = Buffer.from(data);
    Buffer.from(other).copy(out, i, i, Math.min(i + n, out.length));
    return out;
  },
];

/** One to eight stacked byte mutations of a copy of `input`, cut to the maximum length. */
export const mutateBytes = (input: Uint8Array, ctx: MutationContext): Buffer => {
  let data = Buffer.from(input);
  const steps = 1 + (ctx.rng.chance(2) ? 0 : ctx.rng.below(8));
  for (let i = 0; i < steps; i++) data = Buffer.from(ctx.rng.pick(MUTATIONS)(data, ctx));
  return data.length > ctx.maxLength ? data.subarray(0, ctx.maxLength) : data;
};
