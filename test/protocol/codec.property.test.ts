import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { type DecodeResult, decodeMessage, encodeMessage, MAX_CONTACTS_PER_MESSAGE } from '../../src/protocol/codec.js';
import { type ErrorCode, isErrorCode } from '../../src/protocol/errors.js';
import { decodeIp, encodeIp } from '../../src/protocol/ip-address.js';
import { createItem, type Item } from '../../src/protocol/item.js';
import type { Message, MessageBody, WireContact } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { plain } from './fixtures.js';

const NUM_RUNS = 400;

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const identity = bytes(32).map((seed) => Identity.fromSeed(seed));
// Whole code points only: a lone surrogate has no UTF-8 form, so it cannot travel unchanged.
const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
// Item meta may not use the key "__proto__" (docs/protocol.md, "Item limits"): the decoder refuses it.
const mapKey = text(12).filter((k) => k !== '__proto__');
const timeMs = fc.nat({ max: Number.MAX_SAFE_INTEGER });

const item: fc.Arbitrary<Item> = fc
  .record({
    publisher: identity,
    name: text(40),
    value: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.json({ maxDepth: 3 })),
    timestamp: timeMs,
    expires: fc.oneof(fc.constant(0), timeMs),
    meta: fc.dictionary(mapKey, text(40), { maxKeys: 6 }),
    createdWith: text(30),
  })
  .map(({ publisher, ...fields }) => createItem(publisher, fields));

/** 4 or 16 random address bytes, some groups forced to zero so that "::" compression and IPv4-mapped forms come up. */
const ipBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  bytes(4),
  bytes(16),
  fc.array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }).map((groups) => {
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
    return out;
  }),
);
/** A random IPv4 or IPv6 address in canonical text form, the form a decoded contact has. */
const ipHost = ipBytes.map((b) => decodeIp(b)!);

const contact: fc.Arbitrary<WireContact> = fc.record({
  publicKey: bytes(32),
  host: ipHost,
  port: fc.integer({ min: 1, max: 65535 }),
});

/** A host that is not an IP address, so the encoder leaves its contact out. */
const nameHost = fc.oneof(fc.domain(), fc.constantFrom('', 'localhost', '1.2.3', '256.1.1.1', '1::2::3', 'fe80::1%eth0')).filter((host) => isIP(host) === 0);

const body: fc.Arbitrary<MessageBody> = fc.oneof(
  fc.constant({ type: 'ping' as const }),
  fc.constant({ type: 'pong' as const }),
  item.map((i) => ({ type: 'store' as const, item: i })),
  bytes(64).map((key) => ({ type: 'find-node' as const, key })),
  fc.array(contact, { maxLength: MAX_CONTACTS_PER_MESSAGE }).map((nodes) => ({ type: 'nodes' as const, nodes })),
  bytes(64).map((key) => ({ type: 'find-value' as const, key })),
  item.map((i) => ({ type: 'value' as const, item: i })),
  fc.record({
    type: fc.constant('error' as const),
    code: fc.integer({ min: 1, max: 8 }).map((n) => n as ErrorCode),
    title: text(60),
    details: fc.dictionary(mapKey, text(100), { maxKeys: 16 }),
  }),
);

/** A random message and the identity that seals it. */
const sealed = fc
  .record({
    sender: identity,
    body,
    requestId: bytes(16),
    replyPort: fc.integer({ min: 1, max: 65535 }),
    recipientId: bytes(64),
    emptyRecipient: fc.boolean(),
  })
  .map(({ sender, body, requestId, replyPort, recipientId, emptyRecipient }) => {
    const to = body.type === 'ping' && emptyRecipient ? new Uint8Array(0) : recipientId;
    const message = { ...body, requestId, senderPublicKey: sender.publicKey, replyPort, version: PROTOCOL_VERSION, recipientId: to } as Message;
    return { message, sender };
  });

const encoded = sealed.map(({ message, sender }) => encodeMessage(message, sender));

/** Decodes without letting an exception escape the assertion, and returns the result. */
const decodeSafely = (input: Uint8Array): DecodeResult => {
  let result: DecodeResult | undefined;
  expect(() => (result = decodeMessage(input))).not.toThrow();
  return result!;
};

const expectRefused = (result: DecodeResult): void => {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(isErrorCode(result.error.code)).toBe(true);
};

const nodesEnvelope = { requestId: new Uint8Array(16), replyPort: 4000, version: PROTOCOL_VERSION, recipientId: new Uint8Array(64) };

describe('contacts, on random input', () => {
  const sender = Identity.fromSeed(new Uint8Array(32).fill(7));
  const decodeNodes = (nodes: WireContact[]): readonly WireContact[] => {
    const result = decodeSafely(encodeMessage({ type: 'nodes', ...nodesEnvelope, senderPublicKey: sender.publicKey, nodes } as Message, sender));
    expect(result.ok).toBe(true);
    if (!result.ok || result.value.message.type !== 'nodes') throw new Error('expected a Nodes message');
    return result.value.message.nodes;
  };

  it('give every IP address back as valid canonical text that encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.array(contact, { minLength: 1, maxLength: MAX_CONTACTS_PER_MESSAGE }), (nodes) => {
        const decoded = decodeNodes(nodes);
        expect(decoded.map((c) => c.host)).toEqual(nodes.map((c) => c.host));
        for (const { host } of decoded) {
          expect(isIP(host)).not.toBe(0);
          expect(decodeIp(encodeIp(host)!)).toBe(host);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decode any text form of an address to the canonical form of its bytes', () => {
    // Every group written out in full, in capitals: the longest valid text, never canonical.
    const fullText = (b: Uint8Array) =>
      b.length === 4 ? Array.from(b).join('.') : Buffer.from(b).toString('hex').toUpperCase().match(/.{4}/g)!.join(':');
    fc.assert(
      fc.property(ipBytes, bytes(32), (ip, publicKey) => {
        const [only] = decodeNodes([{ publicKey, host: fullText(ip), port: 1 }]);
        expect(only.host).toBe(decodeIp(ip));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('leave out exactly the contacts whose host is not an IP address, keeping the order', () => {
    const mixed = fc.array(fc.oneof(contact, fc.record({ publicKey: bytes(32), host: nameHost, port: fc.integer({ min: 1, max: 65535 }) })), {
      maxLength: MAX_CONTACTS_PER_MESSAGE,
    });
    fc.assert(
      fc.property(mixed, (nodes) => {
        const decoded = decodeNodes(nodes);
        expect(plain(decoded)).toEqual(plain(nodes.filter((c) => isIP(c.host) !== 0)));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('the codec, on random input', () => {
  it('decodes every encoded message back to an equal message from the same sender', () => {
    fc.assert(
      fc.property(sealed, ({ message, sender }) => {
        const result = decodeSafely(encodeMessage(message, sender));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(plain(result.value.message)).toEqual(plain(message));
        expect(plain(result.value.senderId)).toEqual(plain(sender.nodeId));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses random bytes with a protocol error code and never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (input) => expectRefused(decodeSafely(input))),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding with any one bit flipped', () => {
    fc.assert(
      fc.property(encoded, fc.nat(), fc.integer({ min: 0, max: 7 }), (input, at, bit) => {
        const flipped = Buffer.from(input);
        flipped[at % flipped.length] ^= 1 << bit;
        expectRefused(decodeSafely(flipped));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding cut short anywhere', () => {
    fc.assert(
      fc.property(encoded, fc.nat(), (input, cut) => expectRefused(decodeSafely(input.subarray(0, cut % input.length)))),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding with bytes appended', () => {
    fc.assert(
      fc.property(encoded, fc.uint8Array({ minLength: 1, maxLength: 80 }), (input, extra) =>
        expectRefused(decodeSafely(Buffer.concat([input, extra]))),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding with random bytes overwritten in its body', () => {
    fc.assert(
      fc.property(encoded, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (input, at, patch) => {
        const changed = Buffer.from(input);
        const start = at % Math.max(1, changed.length - 64 - patch.length);
        const before = Buffer.from(changed.subarray(start, start + patch.length));
        changed.set(patch, start);
        fc.pre(!before.equals(changed.subarray(start, start + patch.length)));
        expectRefused(decodeSafely(changed));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
