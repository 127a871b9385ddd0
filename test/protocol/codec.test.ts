import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import {
  decodeMessage,
  DEFAULT_CODEC_OPTIONS,
  encodeMessage,
  errorTitle,
  itemToWire,
  MAX_CONTACTS_PER_MESSAGE,
  SEAL_BYTES,
} from '../../src/protocol/codec.js';
import { ErrorCode, ERROR_TITLES, isErrorCode } from '../../src/protocol/errors.js';
import { createItem, DEFAULT_ITEM_LIMITS } from '../../src/protocol/item.js';
import type { Message, MessageBody } from '../../src/protocol/messages.js';
import { alice, bob, message, plain, sealRaw, T0_MS, wireOf } from './fixtures.js';

const item = createItem(alice, {
  name: 'greeting',
  value: '{"hello":"world"}',
  timestamp: T0_MS,
  expires: T0_MS + 3_600_000,
  meta: { zeta: 'z', alpha: 'a' },
});
const bytesItem = createItem(bob, { name: '', value: new Uint8Array([0, 1, 2, 255]), timestamp: T0_MS });

const BODIES: Record<Message['type'], MessageBody> = {
  ping: { type: 'ping' },
  pong: { type: 'pong' },
  store: { type: 'store', item },
  'find-node': { type: 'find-node', key: item.key },
  nodes: {
    type: 'nodes',
    nodes: [
      { publicKey: bob.publicKey, host: '192.0.2.1', port: 4000 },
      { publicKey: alice.publicKey, host: 'node.example.org', port: 65535 },
    ],
  },
  'find-value': { type: 'find-value', key: bytesItem.key },
  value: { type: 'value', item: bytesItem },
  error: { type: 'error', code: ErrorCode.SupersededValue, title: errorTitle(ErrorCode.SupersededValue), details: { timestamp: String(T0_MS) } },
};

/** The wire map of a valid message of `type`, for tests that break one field of it. */
const wireFields = (type: Message['type']): Record<string, unknown> => wireOf(encodeMessage(message(BODIES[type]), alice));

const decodeFailure = (bytes: Uint8Array) => {
  const result = decodeMessage(bytes);
  if (result.ok) throw new Error(`expected a refusal, got a ${result.value.message.type}`);
  return result.error;
};

describe('encodeMessage and decodeMessage', () => {
  it.each(Object.keys(BODIES) as Array<Message['type']>)('round-trip a %s message', (type) => {
    const original = message(BODIES[type]);
    const result = decodeMessage(encodeMessage(original, alice));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(plain(result.value.message)).toEqual(plain(original));
    expect(toHex(result.value.senderId)).toBe(toHex(alice.nodeId));
  });

  it('end every encoding with a 64-byte seal', () => {
    const bytes = encodeMessage(message(BODIES.ping), alice);
    const seal = bytes.subarray(bytes.length - SEAL_BYTES);
    expect(seal).toHaveLength(64);
  });

  it('refuse to seal a message that names another sender', () => {
    expect(() => encodeMessage(message(BODIES.ping, bob), alice)).toThrow(/sender/);
  });

  it('accept a Ping with an empty recipient id, for an address whose key is unknown', () => {
    const result = decodeMessage(encodeMessage(message(BODIES.ping, alice, { recipientId: new Uint8Array(0) }), alice));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.message.recipientId).toHaveLength(0);
  });

  it.each(['pong', 'store', 'find-node', 'nodes', 'find-value', 'value', 'error'] as const)(
    'refuse a %s with an empty recipient id',
    (type) => {
      const error = decodeFailure(encodeMessage(message(BODIES[type], alice, { recipientId: new Uint8Array(0) }), alice));
      expect(error.code).toBe(ErrorCode.BadRequest);
      expect(error.message).toMatch(/field "to"/);
    },
  );

  it('ignore fields they do not know', () => {
    const result = decodeMessage(sealRaw({ ...wireFields('find-node'), extra: 'ignored', nested: { a: 1 } }));
    expect(result.ok).toBe(true);
    if (result.ok) expect(plain(result.value.message)).toEqual(plain(message(BODIES['find-node'])));
  });

  it('check the shape of a carried item but leave its signature to the receiver', () => {
    const forged = { ...item, value: '"forged"' };
    const result = decodeMessage(encodeMessage(message({ type: 'store', item: forged }), alice));
    expect(result.ok).toBe(true);
  });
});

describe('decodeMessage refusals', () => {
  it('refuse a message over the size limit with code 4 before reading it', () => {
    const error = decodeFailure(new Uint8Array(DEFAULT_CODEC_OPTIONS.maxMessageBytes + 1));
    expect(error.code).toBe(ErrorCode.RequestTooBig);
    const small = { ...DEFAULT_CODEC_OPTIONS, maxMessageBytes: 100 };
    const bytes = encodeMessage(message(BODIES.ping), alice);
    expect(bytes.length).toBeGreaterThan(100);
    const result = decodeMessage(bytes, small);
    expect(result.ok ? undefined : result.error.code).toBe(ErrorCode.RequestTooBig);
  });

  it('refuse input too short to hold a body and a seal with code 1', () => {
    for (const length of [0, 1, SEAL_BYTES]) expect(decodeFailure(new Uint8Array(length)).code).toBe(ErrorCode.BadRequest);
  });

  it('refuse a body that is not msgpack, or not a map, with code 1', () => {
    const seal = new Uint8Array(SEAL_BYTES);
    const notMsgpack = decodeFailure(Buffer.concat([Buffer.from([0xc1]), seal]));
    expect(notMsgpack).toMatchObject({ code: ErrorCode.BadRequest, message: expect.stringMatching(/msgpack/) });
    const trailing = decodeFailure(Buffer.concat([Buffer.from([0x80, 0x80]), seal]));
    expect(trailing.code).toBe(ErrorCode.BadRequest);
    for (const notAMap of [[1, 2], 'text', 7, null]) {
      expect(decodeFailure(sealRaw(notAMap as unknown as Record<string, unknown>))).toMatchObject({
        code: ErrorCode.BadRequest,
        message: expect.stringMatching(/map/),
      });
    }
  });

  it('refuse another protocol version with code 5, before looking at the type', () => {
    expect(decodeFailure(sealRaw({ ...wireFields('ping'), v: 2 })).code).toBe(ErrorCode.UnsupportedProtocol);
    expect(decodeFailure(sealRaw({ ...wireFields('ping'), v: 0, t: 99 })).code).toBe(ErrorCode.UnsupportedProtocol);
  });

  it('refuse an unknown message type with code 2', () => {
    for (const t of [0, 9, 200]) {
      expect(decodeFailure(sealRaw({ ...wireFields('ping'), t })).code).toBe(ErrorCode.UnknownRequest);
    }
  });

  it('refuse a message whose seal does not verify with code 6', () => {
    const bytes = encodeMessage(message(BODIES.store), alice);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] ^= 1;
    expect(decodeFailure(flipped).code).toBe(ErrorCode.UnverifiableProvenance);
    expect(decodeFailure(sealRaw(wireFields('store'), bob)).code).toBe(ErrorCode.UnverifiableProvenance);
    const otherPort = sealRaw({ ...wireFields('store'), port: 4001 });
    const spliced = Buffer.concat([otherPort.subarray(0, otherPort.length - SEAL_BYTES), bytes.subarray(bytes.length - SEAL_BYTES)]);
    expect(decodeFailure(spliced).code).toBe(ErrorCode.UnverifiableProvenance);
  });

  it('check the fields before the seal, so a malformed message is a bad request even with a bad seal', () => {
    const bytes = sealRaw({ ...wireFields('find-node'), key: new Uint8Array(3) }, bob);
    expect(decodeFailure(bytes).code).toBe(ErrorCode.BadRequest);
  });

  it('return the readable envelope fields with a refusal, so the reply can say why', () => {
    const error = decodeFailure(sealRaw({ ...wireFields('ping'), t: 42 }));
    expect(toHex(error.requestId!)).toBe(toHex(Buffer.alloc(16, 0xab)));
    expect(toHex(error.senderPublicKey!)).toBe(toHex(alice.publicKey));
    expect(error.replyPort).toBe(4000);
    const withoutHints = decodeFailure(sealRaw({ ...wireFields('ping'), id: 'x', pk: 1, port: 0 }));
    expect(withoutHints).not.toHaveProperty('requestId');
    expect(withoutHints).not.toHaveProperty('senderPublicKey');
    expect(withoutHints).not.toHaveProperty('replyPort');
  });

  it('never throw on a truncated message, and refuse every prefix of it', () => {
    const bytes = encodeMessage(message(BODIES.store), alice);
    for (let length = 0; length < bytes.length; length++) {
      const prefix = bytes.subarray(0, length);
      let result: ReturnType<typeof decodeMessage> | undefined;
      expect(() => (result = decodeMessage(prefix))).not.toThrow();
      expect(result!.ok).toBe(false);
      if (!result!.ok) expect(isErrorCode(result!.error.code)).toBe(true);
    }
  });

  describe('a malformed field gives code 1 and a message naming it', () => {
    const itemFields = (change: Record<string, unknown>) => ({ ...wireFields('store'), item: { ...itemToWire(item), ...change } });
    const omit = (fields: Record<string, unknown>, name: string) => Object.fromEntries(Object.entries(fields).filter(([k]) => k !== name));
    const contact = (entry: unknown) => ({ ...wireFields('nodes'), nodes: [entry] });
    const goodContact = [bob.publicKey, '192.0.2.1', 4000];

    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a missing version', omit(wireFields('ping'), 'v'), /field "v"/],
      ['a version that is text', { ...wireFields('ping'), v: '1' }, /field "v"/],
      ['a negative version', { ...wireFields('ping'), v: -1 }, /field "v"/],
      ['a missing type', omit(wireFields('ping'), 't'), /field "t"/],
      ['a fractional type', { ...wireFields('ping'), t: 1.5 }, /field "t"/],
      ['a short request id', { ...wireFields('ping'), id: new Uint8Array(15) }, /field "id"/],
      ['a request id given as text', { ...wireFields('ping'), id: 'a'.repeat(16) }, /field "id"/],
      ['a long sender public key', { ...wireFields('ping'), pk: new Uint8Array(33) }, /field "pk"/],
      ['reply port 0', { ...wireFields('ping'), port: 0 }, /field "port"/],
      ['reply port 65536', { ...wireFields('ping'), port: 65536 }, /field "port"/],
      ['a reply port given as text', { ...wireFields('ping'), port: '4000' }, /field "port"/],
      ['a short recipient id', { ...wireFields('ping'), to: new Uint8Array(32) }, /field "to"/],
      ['a missing recipient id', omit(wireFields('pong'), 'to'), /field "to"/],
      ['a short FindNode key', { ...wireFields('find-node'), key: new Uint8Array(63) }, /field "key"/],
      ['a missing FindValue key', omit(wireFields('find-value'), 'key'), /field "key"/],
      ['an item that is not a map', { ...wireFields('store'), item: [1, 2] }, /field "item"/],
      ['a missing item', omit(wireFields('value'), 'item'), /field "item"/],
      ['a short item key', itemFields({ k: new Uint8Array(32) }), /item field "k"/],
      ['an item value that is a number', itemFields({ v: 5 }), /item field "v"/],
      ['an item value that is not JSON text', itemFields({ v: '{oops' }), /JSON/],
      ['an item timestamp that is text', itemFields({ ts: '1' }), /item field "ts"/],
      ['a negative item timestamp', itemFields({ ts: -5 }), /timestamp/],
      ['a fractional item timestamp', itemFields({ ts: 0.5 }), /timestamp/],
      ['a missing item expiry', { ...wireFields('store'), item: omit(itemToWire(item), 'exp') }, /item field "exp"/],
      ['an item created_with that is bytes', itemFields({ cw: new Uint8Array(2) }), /item field "cw"/],
      ['a short item public key', itemFields({ pk: new Uint8Array(31) }), /item field "pk"/],
      ['an item name that is a number', itemFields({ n: 3 }), /item field "n"/],
      ['item meta that is an array', itemFields({ m: ['a'] }), /item field "m"/],
      ['item meta with a number value', itemFields({ m: { a: 1 } }), /item field "m"/],
      ['item meta with too many entries', itemFields({ m: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, ''])) }), /item field "m"/],
      ['a short item signature', itemFields({ sig: new Uint8Array(63) }), /item field "sig"/],
      ['an item name over the limit', itemFields({ n: 'n'.repeat(DEFAULT_ITEM_LIMITS.maxNameBytes + 1) }), /name/],
      ['nodes that is not an array', { ...wireFields('nodes'), nodes: { a: 1 } }, /field "nodes"/],
      [
        'more contacts than allowed',
        { ...wireFields('nodes'), nodes: Array.from({ length: MAX_CONTACTS_PER_MESSAGE + 1 }, () => goodContact) },
        /field "nodes"/,
      ],
      ['a contact that is not a triple', contact([bob.publicKey, '192.0.2.1']), /nodes\[0\]/],
      ['a contact with a short public key', contact([new Uint8Array(31), '192.0.2.1', 4000]), /nodes\[0\] public key/],
      ['a contact with an empty host', contact([bob.publicKey, '', 4000]), /nodes\[0\] host/],
      ['a contact with a long host', contact([bob.publicKey, 'h'.repeat(65), 4000]), /nodes\[0\] host/],
      ['a contact with port 0', contact([bob.publicKey, '192.0.2.1', 0]), /nodes\[0\] port/],
      ['an error code of 0', { ...wireFields('error'), code: 0 }, /field "code"/],
      ['an error code of 9', { ...wireFields('error'), code: 9 }, /field "code"/],
      ['an error title that is not text', { ...wireFields('error'), title: 8 }, /field "title"/],
      ['an error title over 128 characters', { ...wireFields('error'), title: 't'.repeat(129) }, /field "title"/],
      ['error details that are not a map', { ...wireFields('error'), details: 'x' }, /field "details"/],
      ['error details with a number value', { ...wireFields('error'), details: { a: 1 } }, /field "details"/],
    ];

    it.each(cases)('%s', (_, fields, pattern) => {
      const error = decodeFailure(sealRaw(fields));
      expect(error.code).toBe(ErrorCode.BadRequest);
      expect(error.message).toMatch(pattern);
    });

    it('an item value over the size limit gives code 4 instead', () => {
      const error = decodeFailure(sealRaw(itemFields({ v: new Uint8Array(DEFAULT_ITEM_LIMITS.maxValueBytes + 1) })));
      expect(error.code).toBe(ErrorCode.RequestTooBig);
    });
  });
});

describe('errorTitle', () => {
  it('gives the standard title of every code', () => {
    for (let code = 1; code <= 8; code++) {
      if (isErrorCode(code)) expect(errorTitle(code)).toBe(ERROR_TITLES[code]);
    }
  });
});

describe('the wire envelope', () => {
  it('is a msgpack map whose first fields are v, t, id, pk, port and to', () => {
    const bytes = encodeMessage(message(BODIES.ping), alice);
    // 0x86: a map of six entries; 0xa1 0x76: "v"; 0x01: version 1; 0xa1 0x74: "t"; 0x01: Ping.
    expect(toHex(bytes.subarray(0, 7))).toBe('86a17601a17401');
  });
});
