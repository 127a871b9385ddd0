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
