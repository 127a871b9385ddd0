import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  checkItem,
  checkItemShape,
  compareItemVersions,
  createItem,
  DEFAULT_ITEM_LIMITS,
  isExpired,
  type Item,
  ITEM_DOMAIN,
  itemKey,
  itemSigningBytes,
  type NewItem,
  type UnsignedItem,
} from '../../src/protocol/item.js';
import { SOFTWARE_VERSION } from '../../src/protocol/version.js';
import { alice, bob, T0_MS } from './fixtures.js';

const sha512 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

const fields: NewItem = { name: 'greeting', value: '{"hello":"world"}', timestamp: T0_MS, meta: { lang: 'en' } };
const item = createItem(alice, fields);

describe('itemKey', () => {
  it('is SHA-512(SHA-512(public key) ‖ SHA-512(UTF-8 name))', () => {
    const expected = sha512(sha512(alice.publicKey), sha512(Buffer.from('naïve/名前', 'utf8')));
    expect(toHex(itemKey(alice.publicKey, 'naïve/名前'))).toBe(toHex(expected));
  });

  it('is SHA-512(public key), the publisher node id, for the empty name', () => {
    expect(toHex(itemKey(alice.publicKey, ''))).toBe(toHex(sha512(alice.publicKey)));
    expect(toHex(itemKey(alice.publicKey, ''))).toBe(toHex(alice.nodeId));
  });

  it('differs between names and between publishers', () => {
    expect(toHex(itemKey(alice.publicKey, 'a'))).not.toBe(toHex(itemKey(alice.publicKey, 'b')));
    expect(toHex(itemKey(alice.publicKey, 'a'))).not.toBe(toHex(itemKey(bob.publicKey, 'a')));
  });
});

describe('createItem', () => {
  it('makes an item that passes every check, keyed by the publisher key and the name', () => {
    expect(checkItem(item, T0_MS)).toBeUndefined();
    expect(toHex(item.key)).toBe(toHex(itemKey(alice.publicKey, 'greeting')));
    expect(toHex(item.publicKey)).toBe(toHex(alice.publicKey));
  });

  it('defaults to never expiring, this software as created_with, and no meta', () => {
    const plain = createItem(alice, { name: 'n', value: new Uint8Array([1]), timestamp: T0_MS });
    expect(plain.expires).toBe(0);
    expect(plain.createdWith).toBe(SOFTWARE_VERSION);
    expect(plain.meta).toEqual({});
  });

  it('copies the meta it is given, so later changes to the caller object do not break the signature', () => {
    const meta: Record<string, string> = { a: '1' };
    const made = createItem(alice, { ...fields, meta });
    meta.a = '2';
    expect(made.meta).toEqual({ a: '1' });
    expect(checkItem(made, T0_MS)).toBeUndefined();
  });

  it('refuses to sign an item that breaks the shape limits', () => {
    const tooBig = new Uint8Array(DEFAULT_ITEM_LIMITS.maxValueBytes + 1);
    expect(() => createItem(alice, { name: 'big', value: tooBig, timestamp: T0_MS })).toThrow(RangeError);
    expect(() => createItem(alice, { name: 'json', value: '{not json', timestamp: T0_MS })).toThrow(/JSON/);
    expect(() => createItem(alice, { name: 'time', value: '1', timestamp: -1 })).toThrow(/timestamp/);
  });
});

describe('itemSigningBytes', () => {
  it('starts with the domain string and the value kind, then the length-prefixed value', () => {
    const bytes = itemSigningBytes(item);
    const domain = Buffer.from(ITEM_DOMAIN, 'utf8');
    expect(bytes.subarray(0, domain.length).toString('utf8')).toBe('drogulus/item/v1\0');
    expect(bytes[domain.length]).toBe(1);
    expect(bytes.readUInt32BE(domain.length + 1)).toBe(Buffer.byteLength(fields.value as string));
  });

  it('does not depend on the insertion order of meta entries', () => {
    const unsigned: UnsignedItem = { ...item, meta: { b: '2', a: '1', 'é': '3' } };
    const reordered: UnsignedItem = { ...item, meta: { 'é': '3', a: '1', b: '2' } };
    expect(toHex(itemSigningBytes(unsigned))).toBe(toHex(itemSigningBytes(reordered)));
  });

  it('distinguishes a bytes value from JSON text with the same bytes', () => {
    const asJson: UnsignedItem = { ...item, value: '{}' };
    const asBytes: UnsignedItem = { ...item, value: Buffer.from('{}', 'utf8') };
    expect(toHex(itemSigningBytes(asJson))).not.toBe(toHex(itemSigningBytes(asBytes)));
  });

  it('changes when any signed field changes', () => {
    const base = toHex(itemSigningBytes(item));
    const variants: UnsignedItem[] = [
      { ...item, value: '{"hello":"there"}' },
      { ...item, timestamp: item.timestamp + 1 },
      { ...item, expires: 1 },
      { ...item, name: 'greeting2' },
      { ...item, meta: { lang: 'fr' } },
      { ...item, meta: { lang: 'en', x: '' } },
      { ...item, createdWith: 'other/1' },
      { ...item, publicKey: bob.publicKey },
      { ...item, key: itemKey(bob.publicKey, 'greeting') },
    ];
    for (const variant of variants) expect(toHex(itemSigningBytes(variant))).not.toBe(base);
  });

  it('keeps fields apart with length prefixes, so moving bytes between name and created_with changes the bytes', () => {
    const a: UnsignedItem = { ...item, name: 'ab', createdWith: 'c' };
    const b: UnsignedItem = { ...item, name: 'a', createdWith: 'bc' };
    expect(toHex(itemSigningBytes(a))).not.toBe(toHex(itemSigningBytes(b)));
  });
});

describe('checkItem', () => {
  const tampered = (change: Partial<Item>): Item => ({ ...item, ...change });

  it('refuses a changed value, name, timestamp or meta with code 6, since the signature covers them', () => {
    const changes: Array<Partial<Item>> = [
      { value: '{"hello":"mallory"}' },
      { name: 'greetinG' },
      { timestamp: item.timestamp + 1 },
      { expires: T0_MS + 10_000 },
      { meta: {} },
      { createdWith: 'forged/1' },
    ];
    for (const change of changes) expect(checkItem(tampered(change), T0_MS)?.code).toBe(ErrorCode.UnverifiableProvenance);
  });

  it('refuses a changed signature with code 6', () => {
    const signature = Buffer.from(item.signature);
    signature[0] ^= 0x80;
    expect(checkItem(tampered({ signature }), T0_MS)?.code).toBe(ErrorCode.UnverifiableProvenance);
    expect(checkItem(tampered({ signature: new Uint8Array(63) }), T0_MS)?.code).toBe(ErrorCode.UnverifiableProvenance);
  });

  it('refuses an item re-homed under another public key with code 6', () => {
    expect(checkItem(tampered({ publicKey: bob.publicKey }), T0_MS)?.code).toBe(ErrorCode.UnverifiableProvenance);
  });

  it('refuses a changed key with code 6, because the signature covers the key and is checked first', () => {
    const key = itemKey(alice.publicKey, 'another name');
    expect(checkItem(tampered({ key }), T0_MS)?.code).toBe(ErrorCode.UnverifiableProvenance);
  });

  it('refuses with code 7 a validly signed item whose key is not the hash of its public key and name', () => {
    const unsigned: UnsignedItem = { ...item, key: itemKey(alice.publicKey, 'someone else’s name') };
    const signedWrongKey: Item = { ...unsigned, signature: alice.sign(itemSigningBytes(unsigned)) };
    const problem = checkItem(signedWrongKey, T0_MS);
    expect(problem?.code).toBe(ErrorCode.KeyMismatch);
    expect(problem?.message).toMatch(/key/);
  });

  it('refuses an expired item as a bad request, after the signature and key checks', () => {
    const expiring = createItem(alice, { ...fields, expires: T0_MS + 1000 });
    expect(checkItem(expiring, T0_MS + 999)).toBeUndefined();
    expect(checkItem(expiring, T0_MS + 1000)?.code).toBe(ErrorCode.BadRequest);
    expect(checkItem(expiring, T0_MS + 1000)?.message).toMatch(/expired/);
    expect(checkItem({ ...expiring, value: '1' }, T0_MS + 5000)?.code).toBe(ErrorCode.UnverifiableProvenance);
    const unsigned: UnsignedItem = { ...expiring, key: itemKey(bob.publicKey, 'x') };
    expect(checkItem({ ...unsigned, signature: alice.sign(itemSigningBytes(unsigned)) }, T0_MS + 5000)?.code).toBe(ErrorCode.KeyMismatch);
  });
});

describe('isExpired', () => {
  it('never expires an item whose expires is 0', () => {
    expect(isExpired({ expires: 0 }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('expires an item when expires is at or before now', () => {
    expect(isExpired({ expires: 100 }, 99)).toBe(false);
    expect(isExpired({ expires: 100 }, 100)).toBe(true);
    expect(isExpired({ expires: 100 }, 101)).toBe(true);
  });
});

describe('compareItemVersions', () => {
  const older = createItem(alice, { ...fields, timestamp: T0_MS });
  const newer = createItem(alice, { ...fields, value: '"older value, newer timestamp"', timestamp: T0_MS + 1 });

  it('lets the newer timestamp win, whatever the signatures', () => {
    expect(compareItemVersions(newer, older)).toBeGreaterThan(0);
    expect(compareItemVersions(older, newer)).toBeLessThan(0);
  });

  it('breaks a timestamp tie by the greater signature bytes, the same way on both sides', () => {
    const a = createItem(alice, { ...fields, value: '"a"' });
    const b = createItem(alice, { ...fields, value: '"b"' });
    const [high, low] = Buffer.compare(a.signature, b.signature) > 0 ? [a, b] : [b, a];
    expect(compareItemVersions(high, low)).toBeGreaterThan(0);
    expect(compareItemVersions(low, high)).toBeLessThan(0);
  });

  it('finds an item and its identical copy equal', () => {
    const copy: Item = { ...item, signature: Buffer.from(item.signature), key: Buffer.from(item.key) };
    expect(compareItemVersions(item, copy)).toBe(0);
  });
});

describe('checkItemShape', () => {
  const limits = DEFAULT_ITEM_LIMITS;
  const shape = (change: Partial<UnsignedItem>) => checkItemShape({ ...item, ...change }, limits);

  it('accepts an item at every limit', () => {
    const meta = Object.fromEntries(Array.from({ length: limits.maxMetaEntries }, (_, i) => [`k${i}`.padEnd(8, '_'), 'v'.repeat(limits.maxMetaEntryBytes - 8)]));
    expect(
      shape({
        value: new Uint8Array(limits.maxValueBytes),
        name: 'n'.repeat(limits.maxNameBytes),
        createdWith: 'c'.repeat(limits.maxCreatedWithBytes),
        meta,
        timestamp: Number.MAX_SAFE_INTEGER,
        expires: Number.MAX_SAFE_INTEGER,
      }),
    ).toBeUndefined();
  });

  it('refuses a value over the size limit with code 4, counting UTF-8 bytes for JSON text', () => {
    expect(shape({ value: new Uint8Array(limits.maxValueBytes + 1) })?.code).toBe(ErrorCode.RequestTooBig);
    const json = `"${'é'.repeat(limits.maxValueBytes / 2)}"`;
    expect(json.length).toBeLessThan(limits.maxValueBytes);
    expect(shape({ value: json })?.code).toBe(ErrorCode.RequestTooBig);
  });

  it('refuses a string value that is not JSON text with code 1', () => {
    for (const value of ['', '{', 'undefined', "{'a':1}"]) {
      expect(shape({ value })).toMatchObject({ code: ErrorCode.BadRequest, message: expect.stringMatching(/JSON/) });
    }
    expect(shape({ value: 'null' })).toBeUndefined();
  });

  it('refuses malformed fields with code 1 and a message naming the field', () => {
    const cases: Array<[Partial<UnsignedItem>, RegExp]> = [
      [{ key: new Uint8Array(63) }, /key/],
      [{ publicKey: new Uint8Array(31) }, /public_key/],
      [{ timestamp: -1 }, /timestamp/],
      [{ timestamp: 1.5 }, /timestamp/],
      [{ timestamp: 2 ** 53 }, /timestamp/],
      [{ expires: -1 }, /expires/],
      [{ expires: Number.NaN }, /expires/],
      [{ name: 'é'.repeat(limits.maxNameBytes / 2 + 1) }, /name/],
      [{ createdWith: 'c'.repeat(limits.maxCreatedWithBytes + 1) }, /created_with/],
      [{ meta: Object.fromEntries(Array.from({ length: limits.maxMetaEntries + 1 }, (_, i) => [`k${i}`, ''])) }, /meta/],
      [{ meta: { k: 'v'.repeat(limits.maxMetaEntryBytes) } }, /meta entry "k"/],
      [{ meta: { k: 1 as unknown as string } }, /meta value for "k"/],
      [{ meta: { ['__proto__']: 'x' } }, /meta key "__proto__"/],
    ];
    for (const [change, pattern] of cases) {
      const problem = shape(change);
      expect(problem?.code).toBe(ErrorCode.BadRequest);
      expect(problem?.message).toMatch(pattern);
    }
  });
});
