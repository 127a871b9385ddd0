/**
 * Ed25519 identities (sodium-native). A node's id is SHA-512 of its raw 32-byte
 * public key, so an id cannot be claimed without the matching private key.
 */
import sodium from 'sodium-native';
import { asBuffer } from './bytes.js';
import { sha512 } from './hash.js';

export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 64;
export const SEED_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const NODE_ID_BYTES = 64;
const SESSION_DOMAIN = Buffer.from('drogulus/session/v1\0', 'utf8');

export const nodeIdOf = (publicKey: Uint8Array): Buffer => sha512(publicKey);

/**
 * Ed25519 public keys already converted to Curve25519 (null: not a valid
 * point), shared by every identity in the process. The conversion checks the
 * point is in the prime-order subgroup, a scalar multiplication that costs as
 * much as the X25519 agreement itself; it is a pure function of public bytes,
 * so nodes that share a process (a simulation, a devnet, the benchmark) need
 * not repeat it for the same peer. Bounded, oldest out.
 */
const curvePublicKeys = new Map<string, Buffer | null>();
const CURVE_KEY_CACHE = 8192;

const curvePublicKeyOf = (publicKey: Buffer): Buffer | null => {
  const mapKey = publicKey.toString('latin1');
  const cached = curvePublicKeys.get(mapKey);
  if (cached !== undefined) return cached;
  let converted: Buffer | null = Buffer.alloc(32);
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(converted, publicKey);
  } catch {
    converted = null;
  }
  if (curvePublicKeys.size >= CURVE_KEY_CACHE) curvePublicKeys.delete(curvePublicKeys.keys().next().value!);
  curvePublicKeys.set(mapKey, converted);
  return converted;
};

export class Identity {
  readonly publicKey: Buffer;
  readonly nodeId: Buffer;
  readonly #secretKey: Buffer;
  #curveSecretKey: Buffer | undefined;
  #sharedScratch: Buffer | undefined;

  private constructor(publicKey: Buffer, secretKey: Buffer) {
    this.publicKey = publicKey;
    this.#secretKey = secretKey;
    this.nodeId = nodeIdOf(publicKey);
  }

  /** A fresh key pair from libsodium's CSPRNG. */
  static generate(): Identity {
    const publicKey = Buffer.alloc(PUBLIC_KEY_BYTES);
    const secretKey = sodium.sodium_malloc(SECRET_KEY_BYTES);
    sodium.crypto_sign_keypair(publicKey, secretKey);
    return new Identity(publicKey, secretKey);
  }

  /** The key pair derived from a 32-byte seed (RFC 8032's private key). */
  static fromSeed(seed: Uint8Array): Identity {
    if (seed.length !== SEED_BYTES) throw new RangeError(`an Ed25519 seed is ${SEED_BYTES} bytes, got ${seed.length}`);
    const publicKey = Buffer.alloc(PUBLIC_KEY_BYTES);
    const secretKey = sodium.sodium_malloc(SECRET_KEY_BYTES);
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, Buffer.from(seed));
    return new Identity(publicKey, secretKey);
  }

  /** The 32-byte seed, for writing the key to a key file. */
  seed(): Buffer {
    return Buffer.from(this.#secretKey.subarray(0, SEED_BYTES));
  }

  /**
   * The X25519 shared secret with another Ed25519 key (both converted to
   * Curve25519), hashed with both public keys in a fixed order, so the two
   * peers derive the same 32-byte key. Undefined for a key that is not a
   * valid curve point or gives a degenerate secret.
   */
  agree(peerPublicKey: Uint8Array): Buffer | undefined {
    if (peerPublicKey.length !== PUBLIC_KEY_BYTES) return undefined;
    const peerX = curvePublicKeyOf(asBuffer(peerPublicKey));
    if (!peerX) return undefined;
    // One locked scratch buffer per identity: sodium_malloc per call maps guard pages and costs more than the agreement.
    this.#sharedScratch ??= sodium.sodium_malloc(32);
    const shared = this.#sharedScratch;
    try {
      if (!this.#curveSecretKey) {
        this.#curveSecretKey = sodium.sodium_malloc(32);
        sodium.crypto_sign_ed25519_sk_to_curve25519(this.#curveSecretKey, this.#secretKey);
      }
      sodium.crypto_scalarmult(shared, this.#curveSecretKey, peerX);
    } catch {
      return undefined;
    }
    if (shared.every((b) => b === 0)) return undefined;
    const [first, second] = Buffer.compare(this.publicKey, asBuffer(peerPublicKey)) <= 0 ? [this.publicKey, peerPublicKey] : [peerPublicKey, this.publicKey];
    const key = Buffer.alloc(32);
    const material = Buffer.concat([SESSION_DOMAIN, shared, asBuffer(first), asBuffer(second)]);
    sodium.crypto_generichash(key, material);
    material.fill(0);
    shared.fill(0);
    return key;
  }

  sign(message: Uint8Array): Buffer {
    const signature = Buffer.allocUnsafe(SIGNATURE_BYTES);
    sodium.crypto_sign_detached(signature, asBuffer(message), this.#secretKey);
    return signature;
  }
}

/** Checks an Ed25519 signature; malformed keys or signatures are simply invalid. */
export const verifySignature = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  return sodium.crypto_sign_verify_detached(asBuffer(signature), asBuffer(message), asBuffer(publicKey));
};
