/**
 * Bugs the fuzz harnesses found, each as the smallest input that shows it
 * (the harness that found it and its failure are named above each test).
 * These tests fail until src/ is fixed; then they keep the bugs fixed.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { DEFAULT_CODEC_OPTIONS, decodeMessage, SEAL_DOMAIN } from '../../src/protocol/codec.js';
import { checkItem, createItem, type Item, itemSigningBytes } from '../../src/protocol/item.js';

const T0_MS = Date.UTC(2026, 0, 1);
const publisher = Identity.fromSeed(Buffer.alloc(32, 0x0f));
const sender = Identity.fromSeed(Buffer.alloc(32, 0x1f));
const genuine = createItem(publisher, { name: 'greeting', value: '"hello"', timestamp: T0_MS - 1000 });

describe('checkItem on an item outside the limits (fuzz harness "seal")', () => {
  // Harness failure: "TypeError ... thrown at ... (src/protocol/item.ts)" and "RangeError thrown at
  // BigInt": itemSigningBytes assumes the limits were checked and throws on these fields.
  // docs/protocol.md, "Checking an item": the limits come first, refused with code 1.
  const outside: ReadonlyArray<[string, Partial<Item>]> = [
    ['a fractional timestamp', { timestamp: 1.5 }],
    ['a negative timestamp', { timestamp: -1 }],
    ['a timestamp of 2^53', { timestamp: 2 ** 53 }],
    ['a NaN expiry', { expires: Number.NaN }],
    ['an infinite expiry', { expires: Number.POSITIVE_INFINITY }],
    ['a meta value that is not a string', { meta: { size: 42 as unknown as string } }],
  ];
  for (const [what, change] of outside) {
    it(`refuses an item with ${what} with code 1, without throwing`, () => {
      const item = { ...genuine, ...change } as Item;
      let answer: ReturnType<typeof checkItem>;
      expect(() => (answer = checkItem(item, T0_MS))).not.toThrow();
      expect(answer!).toMatchObject({ code: 1 });
    });
  }

  // Harness failure: "checkItem did not refuse an item outside the limits with the limit's code":
  // it answered 6 (and a node would blacklist the sender) where the spec says 1 or 4.
  it('answers the limit code before the signature code', () => {
    expect(checkItem({ ...genuine, createdWith: 'c'.repeat(129) }, T0_MS)?.code).toBe(1);
    expect(checkItem({ ...genuine, value: Buffer.alloc(65_537) }, T0_MS)?.code).toBe(4);
  });
});

describe('an item whose meta uses the reserved key "__proto__" (fuzz harness "codec")', () => {
  // Harness failure: "a message that must be refused was accepted". msgpackr renames the map key
  // "__proto__" to "__proto_" while decoding, so the item passes checkItemShape, and a Store of it
  // is refused later with 6 (its signature covers "__proto__"), blacklisting the sender, where
  // docs/protocol.md ("Item limits", "Decoding" step 7) requires code 1 at decoding.
  it('is refused by decodeMessage with code 1', () => {
    const meta: Record<string, string> = {};
    Object.defineProperty(meta, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
    const unsigned = { ...genuine, meta };
    const signature = publisher.sign(itemSigningBytes({ ...unsigned, meta: { __proto_: 'x' } }));
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const wireItem = { k: genuine.key, v: genuine.value, ts: genuine.timestamp, exp: 0, cw: genuine.createdWith, pk: genuine.publicKey, n: genuine.name, m: meta, sig: signature };
    const body = packr.pack({ v: 1, t: 3, id: Buffer.alloc(16, 1), pk: sender.publicKey, port: 1908, to: Buffer.alloc(64, 2), item: wireItem });
    expect(body.includes(Buffer.from('__proto__'))).toBe(true);
    const bytes = Buffer.concat([body, sender.sign(Buffer.concat([Buffer.from(SEAL_DOMAIN, 'utf8'), body]))]);
    const result = decodeMessage(bytes, DEFAULT_CODEC_OPTIONS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(1);
  });
});

describe('map keys at decoding: the byte search for "__proto__" (docs/security.md, bug 4)', () => {
  // Found reading the fix of the test above: it refused an item when the decoded meta had
  // "__proto_" and the body held the bytes a9 "__proto__" anywhere. docs/protocol.md, "msgpack
  // rules": map keys are msgpack str, never twice; "Item limits": the meta key "__proto__" is reserved.
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const seal = (body: Buffer): Buffer => Buffer.concat([body, sender.sign(Buffer.concat([Buffer.from(SEAL_DOMAIN, 'utf8'), body]))]);
  const envelope = { v: 1, t: 3, id: Buffer.alloc(16, 1), pk: sender.publicKey, port: 1908, to: Buffer.alloc(64, 2) };
  const wireItem = (item: Item, meta: unknown = item.meta): Record<string, unknown> => ({
    k: item.key, v: item.value, ts: item.timestamp, exp: item.expires, cw: item.createdWith, pk: item.publicKey, n: item.name, m: meta, sig: item.signature,
  });
  /** A Store of `genuine` whose meta is `meta` (a Map may hold any keys), packed, with `from` replaced by `to` once. */
  const store = (meta: unknown, from?: Buffer, to?: Buffer, top: Record<string, unknown> = {}): Buffer => {
    const body = packr.pack({ ...envelope, item: wireItem(genuine, meta), ...top });
    if (from === undefined || to === undefined) return seal(body);
    const at = body.indexOf(from);
    expect(at).toBeGreaterThan(0);
    expect(body.indexOf(from, at + 1)).toBe(-1);
    return seal(Buffer.concat([body.subarray(0, at), to, body.subarray(at + from.length)]));
  };
  const fixstr = (s: string): Buffer => Buffer.concat([Buffer.from([0xa0 + s.length]), Buffer.from(s, 'utf8')]);
  const refused = (bytes: Buffer, pattern: RegExp): void => {
    const result = decodeMessage(bytes, DEFAULT_CODEC_OPTIONS);
    expect(result.ok, 'the message was accepted').toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(1);
      expect(result.error.message).toMatch(pattern);
    }
  };

  it('refuses the meta key "__proto__" written as a str8 (d9 09) with code 1', () => {
    const bytes = store(new Map([['PROTOKEY9', 'x']]), fixstr('PROTOKEY9'), Buffer.concat([Buffer.from([0xd9, 9]), Buffer.from('__proto__')]));
    expect(bytes.includes(Buffer.from([0xa9, ...Buffer.from('__proto__')]))).toBe(false);
    refused(bytes, /"__proto__"/);
  });

  it('refuses the meta key "__proto__" written as a str16 (da 00 09) with code 1', () => {
    refused(store(new Map([['PROTOKEY9', 'x']]), fixstr('PROTOKEY9'), Buffer.concat([Buffer.from([0xda, 0, 9]), Buffer.from('__proto__')])), /"__proto__"/);
  });

  it('accepts the meta key "__proto_" next to the name "__proto__"', () => {
    const item = createItem(publisher, { name: '__proto__', value: '"hello"', timestamp: T0_MS - 1000, meta: { __proto_: 'x' } });
    const body = packr.pack({ ...envelope, item: wireItem(item) });
    expect(body.includes(Buffer.from([0xa9, ...Buffer.from('__proto__')]))).toBe(true);
    const result = decodeMessage(seal(body), DEFAULT_CODEC_OPTIONS);
    expect(result.ok ? 'accepted' : result.error.message).toBe('accepted');
    if (result.ok && result.value.message.type === 'store') {
      expect(result.value.message.item.name).toBe('__proto__');
      expect({ ...result.value.message.item.meta }).toEqual({ __proto_: 'x' });
      expect(checkItem(result.value.message.item, T0_MS)).toBeUndefined();
    }
  });

  it('refuses a meta key that appears twice with code 1', () => {
    refused(store(new Map([['aaaa', '1'], ['bbbb', '2']]), fixstr('bbbb'), fixstr('aaaa')), /item field "m".*twice|twice.*item field "m"/);
  });

  it('refuses an item field that appears twice with code 1', () => {
    // The item's name twice: the second, not the signed one, would have won.
    const body = packr.pack({ ...envelope, item: { ...wireItem(genuine), zz: 'other' } });
    const at = body.indexOf(fixstr('zz'));
    refused(seal(Buffer.concat([body.subarray(0, at), fixstr('n'), body.subarray(at + 3)])), /field "item".*twice/);
  });

  it('refuses an envelope field that appears twice with code 1', () => {
    // An unknown field renamed to a second "port".
    const bytes = store(genuine.meta, fixstr('zzzz'), fixstr('port'), { zzzz: 7 });
    refused(bytes, /twice/);
  });

  it('refuses a meta key that is not a string with code 1', () => {
    refused(store(new Map<unknown, string>([[7, 'x']])), /item field "m".*not a string|key.*not a string/);
  });

  it('refuses an envelope key that is not a string with code 1', () => {
    const body = packr.pack(new Map<unknown, unknown>([...Object.entries({ ...envelope, item: wireItem(genuine) }), [1, 'x']]));
    refused(seal(body), /not a string/);
  });

  it('refuses a details key that is not a string, or twice, in an Error with code 1', () => {
    const error = { ...envelope, t: 8, code: 8, title: 'Superseded value' };
    refused(seal(packr.pack({ ...error, details: new Map<unknown, string>([[1, 'x']]) })), /field "details"/);
    const twice = packr.pack({ ...error, details: { aaaa: '1', bbbb: '2' } });
    const at = twice.indexOf(fixstr('bbbb'));
    refused(seal(Buffer.concat([twice.subarray(0, at), fixstr('aaaa'), twice.subarray(at + 5)])), /field "details"/);
  });
});
