/**
 * Shared builders for the routing tests: pools of real identities (deriving a
 * key pair and its SHA-512 id is what these tests spend their time on, so each
 * file derives one pool from a seed, once) and BigInt models of the XOR metric
 * to check the byte-wise code against.
 */
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { commonPrefixLength, ID_BITS } from '../../src/routing/distance.js';
import { SeededRandom } from '../../src/runtime/random.js';

export interface PoolEntry {
  readonly identity: Identity;
  readonly publicKey: Buffer;
  readonly id: Buffer;
  readonly idHex: string;
}

export const T0_MS = Date.UTC(2026, 0, 1);

/** `count` identities derived from seeds drawn from `SeededRandom(seed)`. */
export const identityPool = (seed: number, count: number): PoolEntry[] => {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => {
    const identity = Identity.fromSeed(random.bytes(32));
    return { identity, publicKey: identity.publicKey, id: identity.nodeId, idHex: toHex(identity.nodeId) };
  });
};

/** The pool grouped by how many leading bits each id shares with `ownId`. */
export const byPrefixLength = (ownId: Uint8Array, pool: readonly PoolEntry[]): Map<number, PoolEntry[]> => {
  const groups = new Map<number, PoolEntry[]>();
  for (const entry of pool) {
    const cpl = commonPrefixLength(ownId, entry.id);
    const group = groups.get(cpl) ?? [];
    group.push(entry);
    groups.set(cpl, group);
  }
  return groups;
};

export const toBigInt = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`));

/** The 512-bit id whose value is `n`, big-endian. */
export const fromBigInt = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(ID_BITS / 4, '0'), 'hex');

/** Leading bits shared by two 512-bit ids, from the position of the highest set bit of their XOR. */
export const prefixLengthModel = (a: Uint8Array, b: Uint8Array): number => {
  const x = toBigInt(a) ^ toBigInt(b);
  return x === 0n ? ID_BITS : ID_BITS - x.toString(2).length;
};

/** The XOR distance from `target` as a number, for sorting by brute force. */
export const distanceModel = (id: Uint8Array, target: Uint8Array): bigint => toBigInt(id) ^ toBigInt(target);
