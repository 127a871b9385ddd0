/// <reference lib="dom" />
/**
 * Checks an item's provenance in the browser, trusting nothing the node says
 * (docs/protocol.md, "Signed items"): the key must be SHA-512 of the public key
 * and name, and the Ed25519 signature must verify over the signing bytes. Uses
 * only Web Crypto, so it runs in browsers and in Node alike.
 */
import type { ItemJson } from '../types.js';

export interface Provenance {
  /** The key is the one the public key and name make. */
  readonly keyMatches: boolean;
  /** 'unsupported' when this browser's Web Crypto has no Ed25519. */
  readonly signature: 'valid' | 'invalid' | 'unsupported';
  /** True only when both checks passed here. */
  readonly verified: boolean;
}

const ITEM_DOMAIN = 'drogulus/item/v1\0';
const encoder = new TextEncoder();

export const hexToBytes = (hex: string): Uint8Array => {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error('not hex');
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
};

export const bytesToHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export const base64ToBytes = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

const sha512 = async (bytes: Uint8Array): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.digest('SHA-512', bytes as BufferSource));

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** The item key for a public key (hex) and name, as hex: the target of a lookup by name. */
export const itemKeyHex = async (publicKeyHex: string, name: string): Promise<string> => {
  const publicKey = hexToBytes(publicKeyHex);
  if (name.length === 0) return bytesToHex(await sha512(publicKey));
  return bytesToHex(await sha512(concat([await sha512(publicKey), await sha512(encoder.encode(name))])));
};

/** Leading bits two ids (hex) share: the closer an id to a target, the more. */
export const sharedPrefixBits = (aHex: string, bHex: string): number => {
  const a = hexToBytes(aHex);
  const b = hexToBytes(bHex);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return n * 8;
};

const u32 = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
};

const u64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
};

const lengthPrefixed = (bytes: Uint8Array): Uint8Array => concat([u32(bytes.length), bytes]);

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};

/** The bytes the publisher signed (docs/protocol.md, "The signing bytes"). */
export const signingBytes = (item: ItemJson): Uint8Array => {
  const json = item.value_type === 'json';
  const value = json ? encoder.encode(item.value) : base64ToBytes(item.value);
  // Meta is sorted by the UTF-8 bytes of its keys, not by JavaScript's string order.
  const meta = Object.entries(item.meta)
    .map(([k, v]) => [encoder.encode(k), encoder.encode(v)] as const)
    .sort(([a], [b]) => compareBytes(a, b));
  return concat([
    encoder.encode(ITEM_DOMAIN),
    Uint8Array.of(json ? 1 : 0),
    lengthPrefixed(value),
    u64(item.timestamp),
    u64(item.expires),
    lengthPrefixed(encoder.encode(item.name)),
    u32(meta.length),
    ...meta.flatMap(([k, v]) => [lengthPrefixed(k), lengthPrefixed(v)]),
    lengthPrefixed(encoder.encode(item.created_with)),
    hexToBytes(item.public_key),
    hexToBytes(item.key),
  ]);
};

const verifySignature = async (item: ItemJson): Promise<Provenance['signature']> => {
  let publicKey: CryptoKey;
  try {
    publicKey = await crypto.subtle.importKey('raw', hexToBytes(item.public_key) as BufferSource, { name: 'Ed25519' }, false, ['verify']);
  } catch (error) {
    // A browser without Ed25519 fails with NotSupportedError; a malformed key is simply not valid.
    return (error as Error).name === 'NotSupportedError' ? 'unsupported' : 'invalid';
  }
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, hexToBytes(item.signature) as BufferSource, signingBytes(item) as BufferSource);
  return ok ? 'valid' : 'invalid';
};

export const verifyItem = async (item: ItemJson): Promise<Provenance> => {
  try {
    const keyMatches = (await itemKeyHex(item.public_key, item.name)) === item.key.toLowerCase();
    const signature = await verifySignature(item);
    return { keyMatches, signature, verified: keyMatches && signature === 'valid' };
  } catch {
    return { keyMatches: false, signature: 'invalid', verified: false };
  }
};
