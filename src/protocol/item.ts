/**
 * Signed items: the unit of storage. An item's key binds it to its publisher's
 * public key and its name; its signature covers a canonical, domain-separated
 * encoding of every other field (docs/protocol.md, "Signed items"), so no node
 * can forge, alter or re-home another publisher's value.
 */
import { sha512, sha512Concat } from '../crypto/hash.js';
import { Identity, PUBLIC_KEY_BYTES, verifySignature } from '../crypto/identity.js';
import { bytesEqual, compareBytes } from '../crypto/bytes.js';
import { ErrorCode, type ProtocolError, protocolError } from './errors.js';
import { SOFTWARE_VERSION } from './version.js';

/** Raw bytes, or the UTF-8 text of a JSON document (a JS string). */
export type ItemValue = Uint8Array | string;

export interface Item {
  readonly key: Uint8Array;
  readonly value: ItemValue;
  /** Publisher's clock, integer milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** Integer milliseconds since the Unix epoch after which the item is dead; 0 = never. */
  readonly expires: number;
  readonly createdWith: string;
  readonly publicKey: Uint8Array;
  readonly name: string;
  readonly meta: Readonly<Record<string, string>>;
  readonly signature: Uint8Array;
}

export type UnsignedItem = Omit<Item, 'signature'>;

export const ITEM_DOMAIN = 'drogulus/item/v1\0';
const ITEM_DOMAIN_BYTES = Buffer.from(ITEM_DOMAIN, 'utf8');

export const VALUE_KIND_BYTES = 0;
export const VALUE_KIND_JSON = 1;

/** key = SHA-512(SHA-512(public_key) ‖ SHA-512(name)); an empty name gives SHA-512(public_key). */
export const itemKey = (publicKey: Uint8Array, name: string): Buffer => {
  if (name.length === 0) return sha512(publicKey);
  return sha512Concat([sha512(publicKey), sha512(Buffer.from(name, 'utf8'))]);
};

/** Values are raw bytes or JSON text; this gives the kind tag and the bytes signed. */
export const valueBytes = (value: ItemValue): { kind: number; bytes: Buffer } =>
  typeof value === 'string'
    ? { kind: VALUE_KIND_JSON, bytes: Buffer.from(value, 'utf8') }
    : { kind: VALUE_KIND_BYTES, bytes: Buffer.from(value.buffer, value.byteOffset, value.length) };

/** Byte length of a value as it travels and is counted against size limits. */
export const valueLength = (value: ItemValue): number =>
  typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;

/**
 * The exact bytes an item's signature covers: the domain string, then every
 * field but the signature in a fixed order, each length-prefixed, integers
 * big-endian, meta sorted by the UTF-8 bytes of its keys.
 */
export const itemSigningBytes = (item: UnsignedItem): Buffer => {
  // Sized first, then written into one buffer: every Store a node receives builds these bytes to verify the item.
  const value = item.value;
  const valueSize = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
  const nameSize = Buffer.byteLength(item.name, 'utf8');
  const createdWithSize = Buffer.byteLength(item.createdWith, 'utf8');
  const metaEntries = sortedMeta(item.meta);
  let metaSize = 0;
  for (const [k, v] of metaEntries) metaSize += 8 + k.length + v.length;
  const size =
    ITEM_DOMAIN_BYTES.length + 1 + 4 + valueSize + 8 + 8 + 4 + nameSize + 4 + metaSize + 4 + createdWithSize + item.publicKey.length + item.key.length;
  const out = Buffer.allocUnsafe(size);
  let at = ITEM_DOMAIN_BYTES.copy(out, 0);
  out[at++] = typeof value === 'string' ? VALUE_KIND_JSON : VALUE_KIND_BYTES;
  at = out.writeUInt32BE(valueSize, at);
  at += typeof value === 'string' ? out.write(value, at, 'utf8') : (out.set(value, at), valueSize);
  at = writeU64(out, item.timestamp, at);
  at = writeU64(out, item.expires, at);
  at = out.writeUInt32BE(nameSize, at);
  at += out.write(item.name, at, 'utf8');
  at = out.writeUInt32BE(metaEntries.length, at);
  for (const [k, v] of metaEntries) {
    at = out.writeUInt32BE(k.length, at);
    at += k.copy(out, at);
    at = out.writeUInt32BE(v.length, at);
    at += v.copy(out, at);
  }
  at = out.writeUInt32BE(createdWithSize, at);
  at += out.write(item.createdWith, at, 'utf8');
  out.set(item.publicKey, at);
  at += item.publicKey.length;
  out.set(item.key, at);
  return out;
};

export interface NewItem {
  readonly name: string;
  readonly value: ItemValue;
  readonly timestamp: number;
  /** Absolute expiry in ms since the epoch; 0 or omitted = never. */
  readonly expires?: number;
  readonly meta?: Readonly<Record<string, string>>;
  readonly createdWith?: string;
}

/** Makes and signs an item under `identity`'s public key. */
export const createItem = (identity: Identity, fields: NewItem, limits: ItemLimits = DEFAULT_ITEM_LIMITS): Item => {
  const unsigned: UnsignedItem = {
    key: itemKey(identity.publicKey, fields.name),
    value: fields.value,
    timestamp: fields.timestamp,
    expires: fields.expires ?? 0,
    createdWith: fields.createdWith ?? SOFTWARE_VERSION,
    publicKey: identity.publicKey,
    name: fields.name,
    meta: { ...(fields.meta ?? {}) },
  };
  const problem = checkItemShape(unsigned, limits);
  if (problem) throw new RangeError(problem.message);
  return { ...unsigned, signature: identity.sign(itemSigningBytes(unsigned)) };
};

export const isExpired = (item: Pick<Item, 'expires'>, nowMs: number): boolean => item.expires > 0 && item.expires <= nowMs;

/**
 * The checks every node makes before storing or returning an item: the
 * limits (1 or 4), then the reference order: signature (6), key (7), expiry
 * (refused as a bad request).
 */
export const checkItem = (item: Item, nowMs: number, limits: ItemLimits = DEFAULT_ITEM_LIMITS): ProtocolError | undefined => {
  // The limits come first (docs/protocol.md, "Checking an item"): the signing
  // bytes are only defined for fields within them, and an oversized item is
  // refused with its own code rather than blamed on its sender as a forgery.
  const shape = checkItemShape(item, limits);
  if (shape) return shape;
  if (!verifySignature(item.publicKey, itemSigningBytes(item), item.signature)) {
    return protocolError(ErrorCode.UnverifiableProvenance, 'the item signature does not verify with its public key');
  }
  if (!bytesEqual(item.key, itemKey(item.publicKey, item.name))) {
    return protocolError(ErrorCode.KeyMismatch, 'the item key is not the hash of its public key and name');
  }
  if (isExpired(item, nowMs)) {
    return protocolError(ErrorCode.BadRequest, `the item expired at ${new Date(item.expires).toISOString()}`);
  }
  return undefined;
};

/**
 * Orders two versions of the same key: newer timestamp wins; equal timestamps
 * are broken by the greater signature bytes, so every node picks the same
 * winner. Returns > 0 when `a` supersedes `b`, 0 when they are the same item.
 */
export const compareItemVersions = (a: Item, b: Item): number => {
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp ? 1 : -1;
  return compareBytes(a.signature, b.signature);
};

export interface ItemLimits {
  readonly maxValueBytes: number;
  readonly maxNameBytes: number;
  readonly maxMetaEntries: number;
  readonly maxMetaEntryBytes: number;
  readonly maxCreatedWithBytes: number;
}

export const DEFAULT_ITEM_LIMITS: ItemLimits = Object.freeze({
  maxValueBytes: 64 * 1024,
  maxNameBytes: 1024,
  maxMetaEntries: 16,
  maxMetaEntryBytes: 1024,
  maxCreatedWithBytes: 128,
});

/**
 * An upper bound on an encoded item within `limits` (fields at their limits
 * plus msgpack framing), so message size limits always admit a valid item.
 */
export const maxEncodedItemBytes = (limits: ItemLimits): number =>
  limits.maxValueBytes + limits.maxNameBytes + limits.maxCreatedWithBytes + limits.maxMetaEntries * (limits.maxMetaEntryBytes + 16) + 512;

const MAX_TIME_MS = Number.MAX_SAFE_INTEGER;

/** Field-level checks that need no cryptography: sizes, ranges, JSON validity. */
export const checkItemShape = (item: UnsignedItem, limits: ItemLimits): ProtocolError | undefined => {
  const bad = (message: string): ProtocolError => protocolError(ErrorCode.BadRequest, message);
  if (item.key.length !== 64) return bad('item key must be 64 bytes');
  if (item.publicKey.length !== PUBLIC_KEY_BYTES) return bad(`item public_key must be ${PUBLIC_KEY_BYTES} bytes`);
  if (!isTime(item.timestamp)) return bad('item timestamp must be an integer number of ms in [0, 2^53)');
  if (!isTime(item.expires)) return bad('item expires must be an integer number of ms in [0, 2^53), 0 for never');
  if (Buffer.byteLength(item.name, 'utf8') > limits.maxNameBytes) return bad(`item name is longer than ${limits.maxNameBytes} bytes`);
  if (Buffer.byteLength(item.createdWith, 'utf8') > limits.maxCreatedWithBytes) {
    return bad(`item created_with is longer than ${limits.maxCreatedWithBytes} bytes`);
  }
  const size = valueLength(item.value);
  if (size > limits.maxValueBytes) {
    return protocolError(ErrorCode.RequestTooBig, `item value is ${size} bytes, more than the limit of ${limits.maxValueBytes}`);
  }
  if (typeof item.value === 'string' && !isJson(item.value)) return bad('item value is a string but not valid JSON text (a string value is JSON: pass bytes for plain text, or JSON.stringify it)');
  const entries = Object.entries(item.meta);
  if (entries.length > limits.maxMetaEntries) return bad(`item meta has more than ${limits.maxMetaEntries} entries`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') return bad(`item meta value for "${k}" must be a string`);
    // JavaScript decoders cannot keep this key in a plain object (msgpackr renames it), so the signature would break in transit.
    if (k === '__proto__') return bad('item meta key "__proto__" is reserved');
    if (Buffer.byteLength(k) + Buffer.byteLength(v) > limits.maxMetaEntryBytes) {
      return bad(`item meta entry "${k.slice(0, 32)}" is longer than ${limits.maxMetaEntryBytes} bytes`);
    }
  }
  return undefined;
};


const isTime = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_TIME_MS;

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const sortedMeta = (meta: Readonly<Record<string, string>>): Array<[Buffer, Buffer]> =>
  Object.entries(meta)
    .map(([k, v]): [Buffer, Buffer] => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')])
    .sort((a, b) => Buffer.compare(a[0], b[0]));

/** A u64 big-endian at `at`, for a time already checked to be an integer in [0, 2^53); returns the offset after it. */
const writeU64 = (out: Buffer, n: number, at: number): number => {
  // Anything else throws as writeBigUInt64BE(BigInt(n)) always did.
  if (!Number.isSafeInteger(n) || n < 0) return out.writeBigUInt64BE(BigInt(n), at);
  out.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at);
  return out.writeUInt32BE(n % 0x1_0000_0000, at + 4);
};

