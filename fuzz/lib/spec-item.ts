/**
 * Signed items as docs/protocol.md ("Signed items", "Item limits", "Checking
 * an item") describes them, written again with node:crypto and no code from
 * src/, so the harnesses can check src/protocol/item.ts against the spec: the
 * signing bytes byte for byte, the key, the limits, and the checks' order.
 */
import { createHash } from 'node:crypto';
import type { Item, UnsignedItem } from '../../src/protocol/item.js';

const sha512 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const lengthPrefixed = (bytes: Uint8Array): Buffer => Buffer.concat([u32(bytes.length), bytes]);

/** key = SHA-512(SHA-512(pk) ‖ SHA-512(utf8(name))), or SHA-512(pk) for the empty name. */
export const specKey = (publicKey: Uint8Array, name: string): Buffer =>
  name === '' ? sha512(publicKey) : sha512(sha512(publicKey), sha512(Buffer.from(name, 'utf8')));

/** The signing bytes, field by field from the spec's table; the item must be within the limits. */
export const specSigningBytes = (item: UnsignedItem): Buffer => {
  const json = typeof item.value === 'string';
  const value = json ? Buffer.from(item.value as string, 'utf8') : Buffer.from(item.value as Uint8Array);
  const meta = Object.entries(item.meta)
    .map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  return Buffer.concat([
    Buffer.from('64726f67756c75732f6974656d2f763100', 'hex'),
    Buffer.from([json ? 1 : 0]),
    lengthPrefixed(value),
    u64(item.timestamp),
    u64(item.expires),
    lengthPrefixed(Buffer.from(item.name, 'utf8')),
    u32(meta.length),
    ...meta.flatMap(([k, v]) => [lengthPrefixed(k), lengthPrefixed(v)]),
    lengthPrefixed(Buffer.from(item.createdWith, 'utf8')),
    Buffer.from(item.publicKey),
    Buffer.from(item.key),
  ]);
};

const isTime = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 2 ** 53 - 1;

const isJsonText = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/**
 * The limit codes an item breaks: 4 for an oversized value, 1 for anything
 * else; empty when the item is within every limit of the spec's table.
 */
export const specLimitBreaches = (item: UnsignedItem & { signature?: Uint8Array }): Set<1 | 4> => {
  const breaches = new Set<1 | 4>();
  const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');
  if (item.key.length !== 64 || item.publicKey.length !== 32) breaches.add(1);
  if (item.signature !== undefined && item.signature.length !== 64) breaches.add(1);
  if (!isTime(item.timestamp) || !isTime(item.expires)) breaches.add(1);
  const valueBytes = typeof item.value === 'string' ? utf8(item.value) : item.value.length;
  if (valueBytes > 65_536) breaches.add(4);
  if (typeof item.value === 'string' && !isJsonText(item.value)) breaches.add(1);
  if (utf8(item.name) > 1024 || utf8(item.createdWith) > 128) breaches.add(1);
  const meta = Object.entries(item.meta);
  if (meta.length > 16) breaches.add(1);
  for (const [k, v] of meta) {
    if (typeof v !== 'string' || k === '__proto__' || utf8(k) + utf8(v) > 1024) breaches.add(1);
  }
  return breaches;
};

/**
 * What "Checking an item" says a node must answer for an item within the
 * limits: 6 unless `publicKey` signed exactly these signing bytes, then 7 for
 * a wrong key, then 1 if expired at `nowMs`. `signedBy` tells whether the
 * signature is genuine (the caller knows what it signed).
 */
export const specCheck = (item: Item, nowMs: number, signatureGenuine: boolean): 1 | 6 | 7 | undefined => {
  if (!signatureGenuine) return 6;
  if (!specKey(item.publicKey, item.name).equals(Buffer.from(item.key))) return 7;
  if (item.expires !== 0 && item.expires <= nowMs) return 1;
  return undefined;
};
