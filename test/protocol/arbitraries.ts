/**
 * fast-check arbitraries for protocol messages, shared by the codec's property tests.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { Identity } from '../../src/crypto/identity.js';
import { MAX_CONTACTS_PER_MESSAGE } from '../../src/protocol/codec.js';
import type { ErrorCode } from '../../src/protocol/errors.js';
import { decodeIp } from '../../src/protocol/ip-address.js';
import { createItem, type Item } from '../../src/protocol/item.js';
import type { Message, MessageBody, WireContact } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';

export const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
export const identity = bytes(32).map((seed) => Identity.fromSeed(seed));
// Whole code points only: a lone surrogate has no UTF-8 form, so it cannot travel unchanged.
export const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
// Item meta may not use the key "__proto__" (docs/protocol.md, "Item limits"): the decoder refuses it.
export const mapKey = text(12).filter((k) => k !== '__proto__');
export const timeMs = fc.nat({ max: Number.MAX_SAFE_INTEGER });

export const item: fc.Arbitrary<Item> = fc
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
export const ipBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  bytes(4),
  bytes(16),
  fc.array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }).map((groups) => {
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
    return out;
  }),
);
/** A random IPv4 or IPv6 address in canonical text form, the form a decoded contact has. */
export const ipHost = ipBytes.map((b) => decodeIp(b)!);

export const contact: fc.Arbitrary<WireContact> = fc.record({
  publicKey: bytes(32),
  host: ipHost,
  port: fc.integer({ min: 1, max: 65535 }),
});

/** A host that is not an IP address, so the encoder leaves its contact out. */
export const nameHost = fc.oneof(fc.domain(), fc.constantFrom('', 'localhost', '1.2.3', '256.1.1.1', '1::2::3', 'fe80::1%eth0')).filter((host) => isIP(host) === 0);

export const body: fc.Arbitrary<MessageBody> = fc.oneof(
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
export const sealed = fc
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

