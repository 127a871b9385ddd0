/**
 * Items to and from the API's JSON (docs/api.md, "Items"). Conversion is
 * exact both ways: a JSON value keeps its signed text, bytes travel as base64,
 * so an item rebuilt from its JSON verifies with the same signature.
 */
import { fromHex, toHex } from '../crypto/bytes.js';
import { checkItemShape, type Item, type ItemLimits, type ItemValue } from '../protocol/item.js';
import { badRequest, fromProtocolError } from './errors.js';
import type { ItemJson, PutValueType } from './types.js';

export const KEY_HEX_CHARS = 128;
export const PUBLIC_KEY_HEX_CHARS = 64;
export const SIGNATURE_HEX_CHARS = 128;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as text when they are valid UTF-8, else undefined. */
const asText = (bytes: Uint8Array): string | undefined => {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
};

const valueToJson = (value: ItemValue): Pick<ItemJson, 'value_type' | 'value' | 'json' | 'text'> => {
  if (typeof value === 'string') return { value_type: 'json', value, json: JSON.parse(value) as unknown };
  const text = asText(value);
  return { value_type: 'bytes', value: Buffer.from(value).toString('base64'), ...(text === undefined ? {} : { text }) };
};

export const itemToJson = (item: Item): ItemJson => {
  const value = valueToJson(item.value);
  return {
    key: toHex(item.key),
    ...value,
    timestamp: item.timestamp,
    expires: item.expires,
    created_with: item.createdWith,
    public_key: toHex(item.publicKey),
    name: item.name,
    meta: { ...item.meta },
    signature: toHex(item.signature),
  };
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding (RFC 4648 section 4); anything else is refused, not skipped over. */
export const decodeBase64 = (text: string, field: string): Buffer => {
  if (!BASE64.test(text)) throw badRequest(`${field} must be standard base64 with padding (RFC 4648 section 4)`);
  return Buffer.from(text, 'base64');
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strings are signed as UTF-8, which cannot carry a lone surrogate: it would be replaced and break the signature. */
export const requireWellFormed = (text: string, field: string): void => {
  if (LONE_SURROGATE.test(text)) throw badRequest(`${field} is not well-formed Unicode (it has a lone surrogate)`);
};

/** Hex of an exact length, or a 400 that names the parameter and what it expects. */
export const parseHex = (text: string, field: string, hexChars: number, what: string): Buffer => {
  const bytes = fromHex(text, hexChars / 2);
  if (!bytes) throw badRequest(`${field} must be ${hexChars} hex characters (${what}), got ${describe(text)}`);
  return bytes;
};

export const parseKey = (text: string, field: string): Buffer => parseHex(text, field, KEY_HEX_CHARS, 'a 64-byte item key');
export const parsePublicKey = (text: string, field: string): Buffer => parseHex(text, field, PUBLIC_KEY_HEX_CHARS, 'a 32-byte Ed25519 public key');

const describe = (text: string): string => {
  if (text.length === 0) return 'an empty string';
  return /^[0-9a-f]*$/i.test(text) ? `${text.length} characters` : `"${text.length > 16 ? `${text.slice(0, 16)}…` : text}"`;
};

/** The stored value for a PUT body's value and value_type. */
export const putValue = (value: unknown, valueType: PutValueType): ItemValue => {
  switch (valueType) {
    case 'json':
      // Any JSON the body parser produced serialises; lone surrogates come out escaped.
      return JSON.stringify(value);
    case 'text':
      if (typeof value !== 'string') throw badRequest(`body/value must be a string when value_type is 'text', got ${jsonType(value)}`);
      requireWellFormed(value, 'body/value');
      return Buffer.from(value, 'utf8');
    case 'bytes':
      if (typeof value !== 'string') throw badRequest(`body/value must be a base64 string when value_type is 'bytes', got ${jsonType(value)}`);
      return decodeBase64(value, 'body/value');
  }
};

const jsonType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

/** The fields of an item as POSTed; `json` and `text` may be present and are ignored. */
export interface ItemJsonInput {
  readonly key: string;
  readonly value_type: 'bytes' | 'json';
  readonly value: string;
  readonly timestamp: number;
  readonly expires: number;
  readonly created_with: string;
  readonly public_key: string;
  readonly name: string;
  readonly meta: Readonly<Record<string, string>>;
  readonly signature: string;
}

/**
 * Rebuilds the exact Item an ItemJson describes, checking the fields the
 * signature cannot (hex lengths, base64, JSON text, sizes). It does not check
 * the signature: the caller does, with the node's clock.
 */
export const itemFromJson = (json: ItemJsonInput, limits: ItemLimits): Item => {
  for (const [field, text] of [['name', json.name], ['created_with', json.created_with]] as const) requireWellFormed(text, `body/${field}`);
  for (const [k, v] of Object.entries(json.meta)) {
    requireWellFormed(k, 'body/meta key');
    requireWellFormed(v, `body/meta/${k}`);
  }
  let value: ItemValue;
  if (json.value_type === 'bytes') value = decodeBase64(json.value, 'body/value');
  else {
    requireWellFormed(json.value, 'body/value');
    value = json.value;
  }
  const item: Item = {
    key: parseKey(json.key, 'body/key'),
    value,
    timestamp: json.timestamp,
    expires: json.expires,
    createdWith: json.created_with,
    publicKey: parsePublicKey(json.public_key, 'body/public_key'),
    name: json.name,
    meta: { ...json.meta },
    signature: parseHex(json.signature, 'body/signature', SIGNATURE_HEX_CHARS, 'a 64-byte Ed25519 signature'),
  };
  const problem = checkItemShape(item, limits);
  if (problem) throw fromProtocolError(problem.code, problem.message);
  return item;
};
