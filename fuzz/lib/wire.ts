/**
 * The message framing, written again from docs/protocol.md ("Wire format")
 * rather than taken from the codec, so the harnesses can take messages apart,
 * change their bodies and seal them again, and check the codec against an
 * independent reading of the spec.
 */
import sodium from 'sodium-native';
import type { Identity } from '../../src/crypto/identity.js';

export const MAC_MARKER = 0xc1;
const SEAL_DOMAIN = Buffer.from('drogulus/message/v1\0', 'utf8');
const MAC_DOMAIN = Buffer.from('drogulus/message-mac/v1\0', 'utf8');
export const SEAL_BYTES = 64;
export const MAC_BYTES = 32;

export interface Framed {
  readonly mac: boolean;
  readonly body: Buffer;
  readonly seal: Buffer;
}

/** Splits a message into its body and seal; undefined when it is too short for either form. */
export const unframe = (bytes: Uint8Array): Framed | undefined => {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const mac = buffer.length > 0 && buffer[0] === MAC_MARKER;
  const sealBytes = mac ? MAC_BYTES : SEAL_BYTES;
  const start = mac ? 1 : 0;
  if (buffer.length <= start + sealBytes) return undefined;
  return { mac, body: buffer.subarray(start, buffer.length - sealBytes), seal: buffer.subarray(buffer.length - sealBytes) };
};

/** BLAKE2b-256 keyed with the session key over the MAC domain and the body. */
export const macOf = (sessionKey: Uint8Array, body: Uint8Array): Buffer => {
  const out = Buffer.alloc(MAC_BYTES);
  sodium.crypto_generichash(out, Buffer.concat([MAC_DOMAIN, body]), Buffer.from(sessionKey));
  return out;
};

/** Seals `body` with a signature by `sender`, or with a MAC under `sessionKey` when one is given. */
export const frame = (body: Uint8Array, sender: Identity, sessionKey?: Uint8Array): Buffer =>
  sessionKey
    ? Buffer.concat([Buffer.from([MAC_MARKER]), body, macOf(sessionKey, body)])
    : Buffer.concat([body, sender.sign(Buffer.concat([SEAL_DOMAIN, body]))]);

/** Whether the seal is genuine: the signature verifies with `publicKey`, or the MAC under `sessionKey`. */
export const sealVerifies = (framed: Framed, publicKey: Uint8Array, sessionKey: Uint8Array | undefined): boolean => {
  if (framed.mac) return sessionKey !== undefined && macOf(sessionKey, framed.body).equals(framed.seal);
  if (publicKey.length !== 32) return false;
  return sodium.crypto_sign_verify_detached(framed.seal, Buffer.concat([SEAL_DOMAIN, framed.body]), Buffer.from(publicKey));
};
