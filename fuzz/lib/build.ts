/**
 * Builds items and messages from fuzz data, each with what the spec says a
 * receiver must make of it: whether the item's signature is genuine (the
 * builder knows what it signed), which limits it breaks, and which refusal
 * code, if any, decoding the message must give. At most one envelope or body
 * field is broken on purpose per message, so the expected code is exact.
 */
import type { Identity } from '../../src/crypto/identity.js';
import type { ErrorCode } from '../../src/protocol/errors.js';
import type { Item, UnsignedItem } from '../../src/protocol/item.js';
import type { Message, MessageBody, MessageType, WireContact } from '../../src/protocol/messages.js';
import type { DataProvider } from './data-provider.js';
import { PEERS } from './identities.js';
import { specKey, specLimitBreaches, specSigningBytes } from './spec-item.js';

export const T0_MS = Date.UTC(2026, 0, 1);

const NAMES = ['', 'greeting', 'profile/zoë', '__proto__', 'constructor', 'a'.repeat(1024), 'é'.repeat(512), 'é'.repeat(513)];
const JSON_TEXTS = ['null', '0', '-1.5e300', '"text"', '{"hello":"world"}', '[1,[2,[3]]]', ' true ', '{"__proto__":{"polluted":1}}', '1e400', '', '{', 'undefined', 'NaN', "'single'", '"\\ud800"'];
const META_KEYS = ['', 'content-type', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '！', '😀', 'k'.repeat(1020)];
const CREATED_WITH = ['drogulus-ts/0.1.0', '', 'c'.repeat(128), 'c'.repeat(129)];

/** Text for the fields the fuzz data fills: short text from the input, or a value from a list of edge cases. */
const textFrom = (p: DataProvider, edges: readonly string[], maxBytes: number): string => (p.oneIn(4) ? p.pick(edges) : p.text(maxBytes));

export interface BuiltItem {
  readonly item: Item;
  /** The signature was made by the holder of `item.publicKey` over exactly these signing bytes. */
  readonly genuine: boolean;
  /** The limit codes the item breaks (empty: within every limit). */
  readonly breaches: ReadonlySet<1 | 4>;
}

const valueFrom = (p: DataProvider): Item['value'] => {
  switch (p.byte() % 8) {
    case 0:
      return p.pick(JSON_TEXTS);
    case 1:
      return JSON.stringify(p.text(32));
    case 2:
      return p.text(24);
    case 3:
      // Sizes around the 65,536-byte limit, as bytes or JSON text.
      return p.bool() ? Buffer.alloc(p.pick([65_535, 65_536, 65_537]), p.byte()) : `"${'x'.repeat(p.pick([65_534, 65_535]))}"`;
    default:
      return p.bytesUpTo(64);
  }
};

const metaFrom = (p: DataProvider): Record<string, string> => {
  const meta: Record<string, string> = {};
  const count = p.oneIn(32) ? 17 : p.int(3);
  for (let i = 0; i < count; i++) {
    const key = p.oneIn(32) ? `k${i}` : textFrom(p, META_KEYS, 8);
    const value = p.oneIn(64) ? 'v'.repeat(1024) : p.text(16);
    // defineProperty, so that a key "__proto__" is an own entry, as a decoder that keeps it would make it.
    Object.defineProperty(meta, key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (p.oneIn(64)) Object.defineProperty(meta, 'number', { value: 42, enumerable: true });
  return meta;
};

const expiresFrom = (p: DataProvider, nowMs: number): number => {
  switch (p.byte() % 4) {
    case 0:
    case 1:
      return 0;
    case 2:
      return nowMs + p.intInRange(-5_000, 3_600_000);
    default:
      return p.time(nowMs);
  }
};

/** Changes one field after signing, or none; the signature stays genuine only if the signed bytes are unchanged. */
const tamper = (p: DataProvider, item: Item): Item => {
  const flip = (bytes: Uint8Array): Buffer => {
    const out = Buffer.from(bytes);
    if (out.length > 0) out[p.int(out.length - 1)] ^= 1 << p.int(7);
    return out;
  };
  switch (p.byte() % 12) {
    case 0:
      return { ...item, signature: flip(item.signature) };
    case 1:
      return { ...item, key: flip(item.key) };
    case 2:
      return { ...item, timestamp: item.timestamp + 1 };
    case 3:
      return { ...item, expires: item.expires === 0 ? 1 : 0 };
    case 4:
      return { ...item, name: `${item.name}.` };
    case 5:
      return { ...item, value: typeof item.value === 'string' ? Buffer.from(item.value, 'utf8') : flip(item.value) };
    case 6: {
      // Meta order is not signed: reversed, the item is the same item.
      const entries = Object.entries(item.meta).reverse();
      return { ...item, meta: Object.fromEntries(entries) };
    }
    case 7:
      return { ...item, meta: { ...item.meta, extra: 'x' } };
    case 8:
      return { ...item, publicKey: p.pick(PEERS).publicKey };
    case 9:
      return { ...item, createdWith: `${item.createdWith}+` };
    default:
      return item;
  }
};

/** An item from fuzz data: usually genuine and within the limits, sometimes not, and the builder knows which. */
export const buildItem = (p: DataProvider, nowMs: number, publishers: readonly Identity[] = PEERS): BuiltItem => {
  const publisher = p.pick(publishers);
  const name = textFrom(p, NAMES, 24);
  const unsigned: UnsignedItem = {
    key: specKey(publisher.publicKey, name),
    value: valueFrom(p),
    timestamp: p.oneIn(8) ? p.time(nowMs) : nowMs - p.int(3_600_000),
    expires: expiresFrom(p, nowMs),
    createdWith: textFrom(p, CREATED_WITH, 16),
    publicKey: publisher.publicKey,
    name,
    meta: metaFrom(p),
  };
  switch (p.byte() % 16) {
    case 0:
      Object.assign(unsigned, { key: p.bytes(64) });
      break;
    case 1:
      Object.assign(unsigned, { key: p.bytes(p.pick([0, 32, 63, 65])) });
      break;
    case 2:
      Object.assign(unsigned, { publicKey: p.bytes(p.pick([0, 31, 33, 64])) });
      break;
    default:
      break;
  }
  const breaches = specLimitBreaches(unsigned);
  if (breaches.size > 0) {
    const signature = p.bytes(p.oneIn(8) ? p.pick([0, 63, 65]) : 64);
    return { item: { ...unsigned, signature }, genuine: false, breaches: specLimitBreaches({ ...unsigned, signature }) };
  }
  // Usually the publisher signs; sometimes another peer signs the publisher's item.
  const signer = p.oneIn(8) ? p.pick(PEERS) : publisher;
  const signed = specSigningBytes(unsigned);
  const signature = signer.sign(signed);
  const item = tamper(p, { ...unsigned, signature });
  const after = specLimitBreaches(item);
  // Ed25519 is deterministic: the signature is genuine only for these exact bytes and key.
  const genuine = after.size === 0 && signer.publicKey.equals(item.publicKey) && signature.equals(item.signature) && specSigningBytes(item).equals(signed);
  return { item, genuine, breaches: after };
};

/** IP hosts as an encoder may be given them, with the canonical text a decoder must give back (undefined: left out). */
const HOSTS: ReadonlyArray<readonly [string, string | undefined]> = [
  ['::1', '::1'],
  ['::', '::'],
  ['2001:db8::1', '2001:db8::1'],
  ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ['1:0:0:2::3', '1:0:0:2::3'],
  ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ['::ffff:192.0.2.7', '192.0.2.7'],
  ['::192.0.2.7', '::192.0.2.7'],
  ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ['fe80::1%eth0', undefined],
  ['localhost', undefined],
  ['1.2.3', undefined],
  ['256.1.1.1', undefined],
  ['', undefined],
  ['01.2.3.4', undefined],
];

export interface ExpectedContact extends WireContact {
  /** The host the decoder must give, or undefined when the encoder must leave the contact out. */
  readonly canonicalHost: string | undefined;
}

const contactFrom = (p: DataProvider): ExpectedContact => {
  const publicKey = p.oneIn(4) ? p.pick(PEERS).publicKey : p.bytes(32);
  const port = p.intInRange(1, 65535);
  if (p.oneIn(4)) {
    const [host, canonicalHost] = p.pick(HOSTS);
    return { publicKey, host, port, canonicalHost };
  }
  const ip = p.bytes(4);
  const host = `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  return { publicKey, host, port, canonicalHost: host };
};

export interface BuiltMessage {
  readonly message: Message;
  /** The message as the receiver must decode it (hosts canonical, left-out contacts gone). */
  readonly expected: Message;
  /** undefined: must decode; otherwise the codes a refusal may carry. */
  readonly refusal: ReadonlySet<ErrorCode> | undefined;
  readonly item?: BuiltItem;
}

const TYPES: readonly MessageType[] = ['ping', 'pong', 'store', 'find-node', 'nodes', 'find-value', 'value', 'error'];

interface EnvelopeTarget {
  readonly sender: Identity;
  readonly recipientId: Uint8Array;
  readonly nowMs: number;
  /** Types to choose among (all by default). */
  readonly types?: readonly MessageType[];
  /** Break at most one field on purpose (else every field is valid, items aside). */
  readonly breakFields: boolean;
  /** Publishers of built items. */
  readonly publishers?: readonly Identity[];
  /** A key to use for find-node and find-value, sometimes. */
  readonly keys?: readonly Uint8Array[];
}

/** A message of any type from fuzz data, with the decoding outcome the spec requires. */
export const buildMessage = (p: DataProvider, target: EnvelopeTarget): BuiltMessage => {
  const type = p.pick(target.types ?? TYPES);
  let refusal: Set<ErrorCode> | undefined;
  const refuse = (...codes: ErrorCode[]): void => {
    refusal ??= new Set();
    for (const c of codes) refusal.add(c);
  };
  const breaking = target.breakFields && p.oneIn(4) ? p.byte() : -1;
  const envelope = {
    requestId: p.bytes(16),
    senderPublicKey: target.sender.publicKey,
    replyPort: p.oneIn(8) ? p.pick([1, 65535]) : p.intInRange(1024, 65535),
    version: 1,
    recipientId: type === 'ping' && p.oneIn(4) ? Buffer.alloc(0) : target.recipientId,
  };
  let body: MessageBody;
  let expectedBody: MessageBody;
  let item: BuiltItem | undefined;
  switch (type) {
    case 'ping':
    case 'pong':
      body = expectedBody = { type };
      break;
    case 'find-node':
    case 'find-value': {
      const key = target.keys && target.keys.length > 0 && p.bool() ? Buffer.from(p.pick(target.keys)) : p.bytes(64);
      body = expectedBody = { type, key };
      break;
    }
    case 'store':
    case 'value': {
      item = buildItem(p, target.nowMs, target.publishers);
      body = expectedBody = { type, item: item.item };
      if (item.breaches.size > 0) refuse(...item.breaches);
      break;
    }
    case 'nodes': {
      const contacts = Array.from({ length: p.oneIn(16) ? 64 : p.int(8) }, () => contactFrom(p));
      body = { type, nodes: contacts.map(({ publicKey, host, port }) => ({ publicKey, host, port })) };
      const kept = contacts.filter((c) => c.canonicalHost !== undefined);
      expectedBody = { type, nodes: kept.map((c) => ({ publicKey: c.publicKey, host: c.canonicalHost!, port: c.port })) };
      break;
    }
    case 'error': {
      const details: Record<string, string> = {};
      for (let i = p.int(3); i > 0; i--) details[p.text(8)] = p.text(24);
      body = expectedBody = { type, code: p.intInRange(1, 8) as ErrorCode, title: p.text(48), details };
      break;
    }
  }
  const message = { ...envelope, ...body } as Record<string, unknown>;
  const expected = { ...envelope, ...expectedBody } as Record<string, unknown>;
  if (breaking >= 0) {
    // One field broken on purpose, in both the message sent and the one expected (it must not decode anyway).
    const set = (field: string, value: unknown, ...codes: ErrorCode[]): void => {
      message[field] = value;
      expected[field] = value;
      refuse(...codes);
    };
    switch (breaking % 10) {
      case 0:
        set('version', p.pick([0, 2, 255, 2 ** 32]), 5);
        break;
      case 1:
        set('version', p.pick([-1, 1.5]), 1);
        break;
      case 2:
        set('requestId', p.bytes(p.pick([0, 15, 17, 32])), 1);
        break;
      case 3:
        set('replyPort', p.pick([0, 65536, 1.5, -1, 2 ** 32]), 1);
        break;
      case 4:
        set('recipientId', p.bytes(p.pick([type === 'ping' ? 1 : 0, 32, 63, 65])), 1);
        break;
      case 5:
        if (type === 'find-node' || type === 'find-value') set('key', p.bytes(p.pick([0, 32, 63, 65])), 1);
        break;
      case 6:
        if (type === 'nodes') set('nodes', Array.from({ length: 65 }, () => ({ publicKey: Buffer.alloc(32), host: '10.0.0.1', port: 1 })), 1);
        if (type === 'error') set('code', p.pick([0, 9, 1.5, -1]), 1);
        break;
      case 7:
        if (type === 'error') set('title', 't'.repeat(129), 1);
        if (type === 'nodes' && (message.nodes as WireContact[]).length > 0) {
          const nodes = (message.nodes as WireContact[]).map((c, i) => (i === 0 ? { ...c, port: p.pick([0, 65536]) } : c));
          set('nodes', nodes, 1);
        }
        break;
      case 8:
        if (type === 'error') set('details', Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`d${i}`, 'x'])), 1);
        break;
      default:
        if (type === 'error') set('details', { long: 'x'.repeat(1021) }, 1);
        break;
    }
  }
  return { message: message as unknown as Message, expected: expected as unknown as Message, refusal, item };
};
