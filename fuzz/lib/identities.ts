/**
 * The fixed identities the harnesses seal with, derived from fixed seeds, so
 * corpus files stay valid from run to run; and their pairwise session keys,
 * derived once (an X25519 agreement costs about 200 µs).
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';

export const fuzzIdentity = (label: string): Identity => Identity.fromSeed(createHash('sha256').update(`drogulus fuzz identity ${label}`).digest());

/** Senders and publishers the fuzz data chooses among. */
export const PEERS: readonly Identity[] = Array.from({ length: 8 }, (_, i) => fuzzIdentity(`peer ${i}`));

/** The receiving node of the codec and seal harnesses. */
export const RECEIVER = fuzzIdentity('receiver');

const byPublicKey = new Map<string, Identity>([...PEERS, RECEIVER].map((identity) => [toHex(identity.publicKey), identity]));

/** The identity holding this public key, if it is one of ours. */
export const identityOf = (publicKey: Uint8Array): Identity | undefined => byPublicKey.get(toHex(publicKey));

const sessionKeys = new Map<string, Buffer | null>();

/** The session key of `identity` and the holder of `peerPublicKey`, cached; undefined for an unusable key. */
export const sessionKeyBetween = (identity: Identity, peerPublicKey: Uint8Array): Buffer | undefined => {
  const cacheKey = `${toHex(identity.publicKey)}:${toHex(peerPublicKey)}`;
  let key = sessionKeys.get(cacheKey);
  if (key === undefined) {
    key = identity.agree(peerPublicKey) ?? null;
    if (sessionKeys.size > 4096) sessionKeys.clear();
    sessionKeys.set(cacheKey, key);
  }
  return key ?? undefined;
};
