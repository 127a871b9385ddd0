/**
 * The XOR metric on 512-bit ids (Kademlia section 2.1), without allocating:
 * lookups compare distances millions of times in the simulator.
 */
import type { Random } from '../runtime/random.js';

export const ID_BYTES = 64;
export const ID_BITS = ID_BYTES * 8;

/** < 0 when `a` is closer to `target` than `b`, > 0 when farther, 0 when a = b. */
export const compareDistance = (a: Uint8Array, b: Uint8Array, target: Uint8Array): number => {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
};

/** The number of leading bits `a` and `b` share (512 when equal). */
export const commonPrefixLength = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
};

export const xorDistance = (a: Uint8Array, b: Uint8Array): Buffer => {
  const out = Buffer.allocUnsafe(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i] ^ b[i];
  return out;
};

/**
 * A random id that shares exactly `prefixBits` leading bits with `ownId` (its
 * next bit differs), or at least `prefixBits` when `atLeast` is set: the range
 * of bucket `prefixBits`, for refreshing it.
 */
export const randomIdWithPrefix = (ownId: Uint8Array, prefixBits: number, random: Random, atLeast = false): Buffer => {
  const id = Buffer.from(random.bytes(ID_BYTES));
  const fullBytes = prefixBits >> 3;
  for (let i = 0; i < fullBytes; i++) id[i] = ownId[i];
  const restBits = prefixBits & 7;
  if (fullBytes < ID_BYTES) {
    const keepMask = (0xff00 >> restBits) & 0xff;
    id[fullBytes] = (ownId[fullBytes] & keepMask) | (id[fullBytes] & ~keepMask & 0xff);
    if (!atLeast) {
      const bit = 0x80 >> restBits;
      id[fullBytes] = (id[fullBytes] & ~bit & 0xff) | (~ownId[fullBytes] & bit);
    }
  }
  return id;
};
