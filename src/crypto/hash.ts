/**
 * SHA-512, the one hash of the protocol: node ids, item keys (docs/protocol.md).
 */
import sodium from 'sodium-native';
import { asBuffer } from './bytes.js';

// The multi-part SHA-512 calls exist in sodium-native but not in its type package.
const streaming = sodium as unknown as {
  crypto_hash_sha512_STATEBYTES: number;
  crypto_hash_sha512_init(state: Buffer): void;
  crypto_hash_sha512_update(state: Buffer, data: Buffer): void;
  crypto_hash_sha512_final(state: Buffer, out: Buffer): void;
};

export const HASH_BYTES = 64;

export const sha512 = (data: Uint8Array): Buffer => {
  const out = Buffer.allocUnsafe(HASH_BYTES);
  sodium.crypto_hash_sha512(out, asBuffer(data));
  return out;
};

/** SHA-512 of the concatenation of `parts`, without copying them together. */
export const sha512Concat = (parts: readonly Uint8Array[]): Buffer => {
  const state = Buffer.alloc(streaming.crypto_hash_sha512_STATEBYTES);
  streaming.crypto_hash_sha512_init(state);
  for (const part of parts) streaming.crypto_hash_sha512_update(state, asBuffer(part));
  const out = Buffer.allocUnsafe(HASH_BYTES);
  streaming.crypto_hash_sha512_final(state, out);
  return out;
};
