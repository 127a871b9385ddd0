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
      { publicKey: alice.publicKey, host: '2001:db8::7', port: 65535 },
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

  it('ignore a map inside an unknown field whatever its keys: numbers, "__proto__", a key twice', () => {
    const inner = Buffer.from([0x83, 0x07, 0xa1, 0x78, 0xa9, ...Buffer.from('__proto__'), 0x01, 0x07, 0x02]);
    const fields = sealRaw({ ...wireFields('find-node'), extra: 'PLACEHOLDER' }).subarray(0, -SEAL_BYTES);
    const at = fields.indexOf(Buffer.from([0xab, ...Buffer.from('PLACEHOLDER')]));
    const body = Buffer.concat([fields.subarray(0, at), inner, fields.subarray(at + 12)]);
    const result = decodeMessage(Buffer.concat([body, alice.sign(Buffer.concat([Buffer.from('drogulus/message/v1\0'), body]))]));
    expect(result.ok ? 'accepted' : result.error.message).toBe('accepted');
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

  it('refuse a body holding a msgpack extension the decoder does not read as plain msgpack, with code 1', () => {
    // msgpackr reads the value after an error (0x65) or set (0x73) extension as its contents.
    for (const ext of [0x65, 0x73, 0x72, 0x78]) {
      const fields = sealRaw({ ...wireFields('find-node'), extra: 7 }).subarray(0, -SEAL_BYTES);
      const body = Buffer.concat([fields.subarray(0, -1), Buffer.from([0xd4, ext, 0x00]), Buffer.from([0xa1, 0x7a, 0x91, 0xa1, 0x7a])]);
      body[0] += 1;
      const result = decodeMessage(Buffer.concat([body, alice.sign(Buffer.concat([Buffer.from('drogulus/message/v1\0'), body]))]));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe(ErrorCode.BadRequest);
    }
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
    const ipv4 = Buffer.from([192, 0, 2, 1]);
    const goodContact = [bob.publicKey, ipv4, 4000];

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
      ['a contact that is not a triple', contact([bob.publicKey, ipv4]), /nodes\[0\] must be \[public_key, ip, port\]/],
      ['a contact with a short public key', contact([new Uint8Array(31), ipv4, 4000]), /nodes\[0\] public key/],
      ...[0, 1, 3, 5, 6, 8, 15, 17, 32].map((length): [string, Record<string, unknown>, RegExp] => [
        `a contact with a ${length}-byte ip`,
        contact([bob.publicKey, new Uint8Array(length), 4000]),
        /nodes\[0\] ip must be 4 \(IPv4\) or 16 \(IPv6\) bytes/,
      ]),
      ['a contact with an ip given as text', contact([bob.publicKey, '192.0.2.1', 4000]), /nodes\[0\] ip/],
      ['a contact with an IPv6 ip given as text', contact([bob.publicKey, '2001:db8::1', 4000]), /nodes\[0\] ip/],
      ['a contact with an ip given as an array of numbers', contact([bob.publicKey, [192, 0, 2, 1], 4000]), /nodes\[0\] ip/],
      ['a contact with an ip given as a number', contact([bob.publicKey, 0xc0000201, 4000]), /nodes\[0\] ip/],
      ['a contact with a nil ip', contact([bob.publicKey, null, 4000]), /nodes\[0\] ip/],
      ['a later contact with a bad ip', { ...wireFields('nodes'), nodes: [goodContact, [bob.publicKey, new Uint8Array(5), 4000]] }, /nodes\[1\] ip/],
      ['a contact with port 0', contact([bob.publicKey, ipv4, 0]), /nodes\[0\] port/],
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

describe('contacts in a Nodes message', () => {
  const nodesMessage = (hosts: string[]) =>
    message({ type: 'nodes', nodes: hosts.map((host, i) => ({ publicKey: i % 2 === 0 ? alice.publicKey : bob.publicKey, host, port: 4000 + i })) });
  const wireContacts = (hosts: string[]) => wireOf(encodeMessage(nodesMessage(hosts), alice)).nodes as Array<[Uint8Array, Uint8Array, number]>;
  const decodedHosts = (bytes: Uint8Array) => {
    const result = decodeMessage(bytes);
    if (!result.ok) throw new Error(result.error.message);
    if (result.value.message.type !== 'nodes') throw new Error(`expected nodes, got ${result.value.message.type}`);
    return result.value.message.nodes.map((c) => c.host);
  };

  it('carry an IPv4 address as 4 bytes and an IPv6 address as 16, in network byte order', () => {
    const [v4, v6] = wireContacts(['192.0.2.1', '2001:db8::7']);
    expect(v4[1]).toBeInstanceOf(Uint8Array);
    expect(toHex(v4[1])).toBe('c0000201');
    expect(v4[2]).toBe(4000);
    expect(toHex(v6[1])).toBe('20010db8000000000000000000000007');
    expect(v6[2]).toBe(4001);
  });

  it('encode the ip as msgpack bin 8: c4 04 and c4 10', () => {
    const bytes = encodeMessage(nodesMessage(['192.0.2.1', '2001:db8::7']), alice);
    const body = toHex(bytes.subarray(0, bytes.length - SEAL_BYTES));
    expect(body).toContain(`93c420${toHex(alice.publicKey)}c404c0000201cd0fa0`);
    expect(body).toContain(`93c420${toHex(bob.publicKey)}c41020010db8000000000000000000000007cd0fa1`);
  });

  it('leave out a contact whose host is not an IP address, keeping the others in order', () => {
    const hosts = ['node.example.org', '192.0.2.1', '', 'localhost', '2001:db8::7', 'fe80::1%eth0', '1.2.3', '10.0.0.1'];
    expect(wireContacts(hosts).map(([, ip]) => toHex(ip))).toEqual(['c0000201', '20010db8000000000000000000000007', '0a000001']);
    expect(decodedHosts(encodeMessage(nodesMessage(hosts), alice))).toEqual(['192.0.2.1', '2001:db8::7', '10.0.0.1']);
    expect(wireContacts(['node.example.org'])).toEqual([]);
  });

  it('decode an address to its canonical text, whatever text it was encoded from', () => {
    const hosts = ['2001:DB8:0:0:0:0:0:7', '2001:0db8::0:7', '::FFFF:192.0.2.1', '0:0:0:0:0:0:0:1', '1:0:0:2:0:0:0:3'];
    expect(decodedHosts(encodeMessage(nodesMessage(hosts), alice))).toEqual(['2001:db8::7', '2001:db8::7', '192.0.2.1', '::1', '1:0:0:2::3']);
  });

  it('decode a 16-byte IPv4-mapped address as plain IPv4, as the transports report such a peer', () => {
    const mapped = Buffer.from('00000000000000000000ffffc0000201', 'hex');
    expect(toHex(wireContacts(['::ffff:192.0.2.1'])[0][1])).toBe(toHex(mapped));
    const bytes = sealRaw({ ...wireFields('nodes'), nodes: [[bob.publicKey, mapped, 4000]] });
    expect(decodedHosts(bytes)).toEqual(['192.0.2.1']);
  });

  it('accept exactly 4 and 16 bytes of any value', () => {
    const bytes = sealRaw({
      ...wireFields('nodes'),
      nodes: [
        [bob.publicKey, new Uint8Array(4), 1],
        [bob.publicKey, new Uint8Array(4).fill(255), 2],
        [bob.publicKey, new Uint8Array(16), 3],
        [bob.publicKey, new Uint8Array(16).fill(255), 4],
      ],
    });
    expect(decodedHosts(bytes)).toEqual(['0.0.0.0', '255.255.255.255', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']);
  });
});
