/**
 * The static crypto puzzle of S/Kademlia (Baumgart and Mies 2007, section
 * 4.1) that makes node ids cost work: a key is admissible at difficulty D
 * when SHA-512 of its node id starts with at least D zero bits. Checking
 * costs one hash; finding such a key costs 2^D key pairs on average. The
 * network's D travels in every message (docs/protocol.md, "Sybil puzzle").
 */
import sodium from 'sodium-native';
import { asBuffer } from './bytes.js';
import { Identity, nodeIdOf, PUBLIC_KEY_BYTES, SECRET_KEY_BYTES } from './identity.js';
import { sha512 } from './hash.js';

/** A difficulty above this would take longer to grind than anyone waits; the codec refuses to announce more. */
export const MAX_DIFFICULTY = 64;

/** Leading zero bits of SHA-512(node id): the difficulty this id meets. */
export const puzzleBits = (nodeId: Uint8Array): number => {
  const h = sha512(nodeId);
  for (let i = 0; i < h.length; i++) {
    if (h[i] !== 0) return i * 8 + Math.clz32(h[i]) - 24;
  }
  return h.length * 8;
};

export const meetsDifficulty = (nodeId: Uint8Array, difficulty: number): boolean => difficulty <= 0 || puzzleBits(nodeId) >= difficulty;

export interface GrindResult {
  readonly identity: Identity;
  /** Key pairs derived, the last one included. */
  readonly attempts: number;
}

/**
 * Draws seeds from `nextSeed` until the node id of the key pair a seed gives
 * passes `accept`; returns that seed and how many were tried. Only the
 * winner becomes an Identity: the others' secret keys live in one scratch
 * buffer, wiped at the end, instead of a guarded allocation each.
 */
export const grindSeed = (accept: (nodeId: Buffer) => boolean, nextSeed: () => Uint8Array, maxAttempts = Number.MAX_SAFE_INTEGER): { seed: Buffer; attempts: number } => {
  const publicKey = Buffer.alloc(PUBLIC_KEY_BYTES);
  const scratch = Buffer.alloc(SECRET_KEY_BYTES);
  try {
    for (let attempts = 1; attempts <= maxAttempts; attempts++) {
      const seed = Buffer.from(asBuffer(nextSeed()));
      sodium.crypto_sign_seed_keypair(publicKey, scratch, seed);
      if (accept(nodeIdOf(publicKey))) return { seed, attempts };
    }
  } finally {
    scratch.fill(0);
  }
  throw new Error(`no acceptable key in ${maxAttempts} attempts`);
};

/**
 * A key pair meeting `difficulty`: 2^difficulty tries on average. From the
 * seeds `nextSeed` gives (deterministic for a seeded source, as the
 * simulator's), or from libsodium's CSPRNG.
 */
export const grindIdentity = (difficulty: number, nextSeed?: () => Uint8Array, maxAttempts = Number.MAX_SAFE_INTEGER): GrindResult => {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) throw new RangeError(`difficulty must be an integer from 0 to ${MAX_DIFFICULTY}, got ${difficulty}`);
  const draw =
    nextSeed ??
    (() => {
      const seed = Buffer.alloc(32);
      sodium.randombytes_buf(seed);
      return seed;
    });
  try {
    const { seed, attempts } = grindSeed((id) => meetsDifficulty(id, difficulty), draw, maxAttempts);
    return { identity: Identity.fromSeed(seed), attempts };
  } catch {
    throw new Error(`no key meeting difficulty ${difficulty} in ${maxAttempts} attempts`);
  }
};
