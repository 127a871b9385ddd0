/**
 * Items to JSON and back: exact for both value kinds, so a rebuilt item
 * verifies with its original signature; malformed fields are refused with
 * messages that name the field.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { decodeBase64, itemFromJson, itemToJson, parseKey, putValue } from '../../src/api/item-json.js';
import { Identity } from '../../src/crypto/identity.js';
import { checkItem, createItem, DEFAULT_ITEM_LIMITS, type Item } from '../../src/protocol/item.js';

const publisher = Identity.fromSeed(Buffer.alloc(32, 7));
const T0_MS = Date.UTC(2026, 0, 1);

const make = (value: Item['value'], extra: { name?: string; meta?: Record<string, string> } = {}): Item =>
  createItem(publisher, { name: extra.name ?? 'greeting', value, timestamp: T0_MS, expires: T0_MS + 60_000, meta: extra.meta });

const refusal = (work: () => unknown): ApiError => {
  try {
    work();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
};

describe('item JSON', () => {
  it('shows a JSON value as its exact signed text, with the parsed value alongside', () => {
    const text = '{"b": 1.50, "a": [true, null]}';
    const json = itemToJson(make(text));
    expect(json.value_type).toBe('json');
    expect(json.value).toBe(text);
    expect(json.json).toEqual({ b: 1.5, a: [true, null] });
    expect(json.text).toBeUndefined();
  });

  it('shows bytes as base64, with a text field only when they are valid UTF-8', () => {
    const utf8 = itemToJson(make(Buffer.from('line ✓\n', 'utf8')));
    expect(utf8).toMatchObject({ value_type: 'bytes', value: Buffer.from('line ✓\n').toString('base64'), text: 'line ✓\n' });
    const binary = itemToJson(make(Buffer.from([0xff, 0xfe, 0x00])));
    expect(binary.value).toBe('//4A');
    expect(binary).not.toHaveProperty('text');
  });

  it('writes hex for the key, public key and signature and keeps every other field', () => {
    const item = make('1', { meta: { lang: 'en' } });
    expect(itemToJson(item)).toMatchObject({
      key: Buffer.from(item.key).toString('hex'),
      public_key: publisher.publicKey.toString('hex'),
      signature: Buffer.from(item.signature).toString('hex'),
      timestamp: T0_MS,
      expires: T0_MS + 60_000,
      created_with: item.createdWith,
      name: 'greeting',
      meta: { lang: 'en' },
    });
  });

  it('rebuilds an item that still verifies, for both kinds of value', () => {
    for (const item of [make('{"x":"ü"}', { meta: { a: 'b' } }), make(Buffer.from([0, 1, 2, 250])), make(Buffer.alloc(0), { name: '' })]) {
      const rebuilt = itemFromJson(itemToJson(item), DEFAULT_ITEM_LIMITS);
      expect(rebuilt).toEqual({ ...item, key: Buffer.from(item.key), value: typeof item.value === 'string' ? item.value : Buffer.from(item.value) });
      expect(checkItem(rebuilt, T0_MS)).toBeUndefined();
    }
  });

  it('refuses hex fields of the wrong length or alphabet, naming the field and what it expects', () => {
    const json = itemToJson(make('1'));
    expect(refusal(() => itemFromJson({ ...json, key: json.key.slice(2) }, DEFAULT_ITEM_LIMITS)).message).toMatch(/^body\/key must be 128 hex characters \(a 64-byte item key\)/);
    expect(refusal(() => itemFromJson({ ...json, public_key: `${json.public_key.slice(1)}g` }, DEFAULT_ITEM_LIMITS)).message).toMatch(/^body\/public_key must be 64 hex characters/);
    expect(refusal(() => itemFromJson({ ...json, signature: 'zz' }, DEFAULT_ITEM_LIMITS)).message).toMatch(/^body\/signature must be 128 hex characters/);
    expect(refusal(() => parseKey('', 'key')).message).toBe('key must be 128 hex characters (a 64-byte item key), got an empty string');
  });

  it('refuses JSON text that is not JSON, as the protocol refuses it', () => {
    const json = itemToJson(make('1'));
    const error = refusal(() => itemFromJson({ ...json, value: 'not json' }, DEFAULT_ITEM_LIMITS));
    expect(error).toMatchObject({ status: 422, code: 'invalid_item', protocolCode: 1 });
  });

  it('refuses a value over the size limit as too large, with protocol code 4', () => {
    const json = itemToJson(make(Buffer.alloc(100)));
    const error = refusal(() => itemFromJson(json, { ...DEFAULT_ITEM_LIMITS, maxValueBytes: 99 }));
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large', protocolCode: 4 });
  });

  it('takes only standard padded base64', () => {
    expect(decodeBase64('aGk=', 'v')).toEqual(Buffer.from('hi'));
    expect(decodeBase64('', 'v')).toEqual(Buffer.alloc(0));
    for (const bad of ['aGk', 'aG k=', 'aGk-', '_w==', '=aGk', 'aGk==']) {
      expect(refusal(() => decodeBase64(bad, 'body/value')).message).toMatch(/^body\/value must be standard base64/);
    }
  });

  it('stores a PUT value as JSON text, as UTF-8 bytes, or as decoded base64', () => {
    expect(putValue({ a: [1, 'é'] }, 'json')).toBe('{"a":[1,"é"]}');
    expect(putValue('plain', 'json')).toBe('"plain"');
    expect(putValue('tab\tand ✓\n', 'text')).toEqual(Buffer.from('tab\tand ✓\n', 'utf8'));
    expect(putValue('AAEC', 'bytes')).toEqual(Buffer.from([0, 1, 2]));
  });

  it('refuses a PUT text value that is not a string or not well-formed Unicode', () => {
    expect(refusal(() => putValue(5, 'text')).message).toBe("body/value must be a string when value_type is 'text', got a number");
    expect(refusal(() => putValue(['AA=='], 'bytes')).message).toBe("body/value must be a base64 string when value_type is 'bytes', got an array");
    expect(refusal(() => putValue('half \ud800 pair', 'text')).message).toMatch(/lone surrogate/);
  });
});
