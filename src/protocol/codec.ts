/**
 * The binary codec: a message is a msgpack map (the body) followed by its seal
 * (docs/protocol.md, "Wire format"): either a 64-byte Ed25519 signature over
 * the domain string and the body, or, when the byte 0xC1 (never valid msgpack)
 * comes first, a 32-byte MAC under the pairwise session key of sender and
 * recipient. Decoding untrusted bytes never throws: it returns the message or
 * a protocol error code with a message naming the field at fault.
 */
import { Packr, Unpackr } from 'msgpackr';
import { bytesEqual } from '../crypto/bytes.js';
import { nodeIdOf, type Identity, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifySignature } from '../crypto/identity.js';
import { MAX_DIFFICULTY, meetsDifficulty } from '../crypto/puzzle.js';
import { computeMac, MAC_BYTES, macEquals } from '../crypto/session-keys.js';
import { ErrorCode, ERROR_TITLES, isErrorCode, type ProtocolError } from './errors.js';
import { checkItemShape, DEFAULT_ITEM_LIMITS, type Item, type ItemLimits, maxEncodedItemBytes } from './item.js';
import { decodeIp, encodeIp } from './ip-address.js';
import { writeBody } from './body-writer.js';
import { type DeclaredMapSizes, declaredMapSizes } from './msgpack-maps.js';
import { type Message, type MessageBody, REQUEST_ID_BYTES, TYPE_BY_CODE, TYPE_CODES, type WireContact, withEnvelope } from './messages.js';
import { PROTOCOL_VERSION } from './version.js';

export const SEAL_DOMAIN = 'drogulus/message/v1\0';
const SEAL_DOMAIN_BYTES = Buffer.from(SEAL_DOMAIN, 'utf8');
export const SEAL_BYTES = SIGNATURE_BYTES;
export const MAC_DOMAIN = 'drogulus/message-mac/v1\0';
const MAC_DOMAIN_BYTES = Buffer.from(MAC_DOMAIN, 'utf8');
/** First byte of a MAC-sealed message: 0xC1 is never used by msgpack, so it cannot start a signed one. */
export const MAC_MARKER = 0xc1;
export const NODE_ID_BYTES = 64;
export const MAX_CONTACTS_PER_MESSAGE = 64;
const MAX_TITLE_CHARS = 128;
const MAX_DETAILS = 16;
const MAX_DETAIL_CHARS = 1024;

/** The largest message that can carry an item within `limits`, with its envelope and seal. */
export function maxMessageBytesFor(limits: ItemLimits): number {
  return maxEncodedItemBytes(limits) + 512;
}

export interface CodecOptions {
  /** Whole messages larger than this are refused with code 4. */
  readonly maxMessageBytes: number;
  readonly itemLimits: ItemLimits;
  /** The session key shared with a sender, for MAC-sealed messages; without it they are refused (6). */
  readonly sessionKeyFor?: (senderPublicKey: Uint8Array) => Uint8Array | undefined;
  /**
   * The Sybil puzzle difficulty this node requires (default 0): a message
   * announcing a lower `d`, or from a key that does not meet it, is refused
   * with code 5 before its seal is checked.
   */
  readonly difficulty?: number;
}

export interface EncodeOptions {
  /**
   * Adds a `pad` field of zeros so that the sealed message is at least this
   * many bytes: a request to a peer that may not have verified our address
   * earns a reply that large (docs/protocol.md, "Reflection").
   */
  readonly padToBytes?: number;
}

export const DEFAULT_CODEC_OPTIONS: CodecOptions = Object.freeze({
  maxMessageBytes: maxMessageBytesFor(DEFAULT_ITEM_LIMITS),
  itemLimits: DEFAULT_ITEM_LIMITS,
});

export interface DecodedMessage {
  readonly message: Message;
  /** How it was sealed: an Ed25519 signature anyone can check, or a MAC only its recipient can. */
  readonly sealKind: 'signature' | 'mac';
  /** SHA-512 of the sender's public key, computed once here. */
  readonly senderId: Buffer;
}

/** Why bytes were refused, plus whatever of the envelope could be read, so a reply can say why. */
export interface DecodeFailure extends ProtocolError {
  readonly requestId?: Uint8Array;
  readonly senderPublicKey?: Uint8Array;
  readonly replyPort?: number;
}

export type DecodeResult = { readonly ok: true; readonly value: DecodedMessage } | { readonly ok: false; readonly error: DecodeFailure };

/** Where a received message's MAC is computed, to be compared at once: decoding is synchronous, so one buffer serves. */
const macScratch = Buffer.alloc(MAC_BYTES);

const packr = new Packr({ useRecords: false, variableMapSize: true });
// Decoded keys and signatures must not be views into a receive buffer that may be reused: decode
// copies the body once into memory of its own, and the bins are views of that copy (copyBuffers would
// give each bin an ArrayBuffer of its own: 40 for a Nodes message, most of a node's garbage).
// Maps decode as Map, which keeps every key as sent: as objects, msgpackr would rename "__proto__" to
// "__proto_", make a number key a string, and keep the last of a key sent twice, all without a trace.
// mapFields checks the keys of each map the decoder reads, then makes it a plain object.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' });

/**
 * Encodes and seals `message` with `identity`, which must be the sender's:
 * with the session key shared with its recipient when one is given (a MAC),
 * else with an Ed25519 signature.
 */
export const encodeMessage = (message: Message, identity: Identity, sessionKey?: Uint8Array, options: EncodeOptions = {}): Buffer => {
  if (!bytesEqual(message.senderPublicKey, identity.publicKey)) {
    throw new Error('encodeMessage: the message names a sender other than the sealing identity');
  }
  const mac = sessionKey !== undefined && message.recipientId.length === NODE_ID_BYTES;
  const sealOverhead = mac ? 1 + MAC_BYTES : SEAL_BYTES;
  let body = writeBody(message, wireIp) ?? packr.pack(toWire(message));
  const target = options.padToBytes ?? 0;
  if (body.length + sealOverhead < target) {
    // The field costs its key ("pad", 4 bytes) and a bin header (2 bytes up to 255, else 3) besides its bytes.
    const field = target - sealOverhead - body.length - 4;
    const padBytes = Math.max(0, field - 2 <= 255 ? field - 2 : Math.max(256, field - 3));
    body = writeBody(message, wireIp, padBytes) ?? packr.pack({ ...toWire(message), pad: Buffer.alloc(padBytes) });
  }
  // One allocation for the sealed message; the body is copied out of msgpackr's shared buffer once.
  if (mac) {
    const out = Buffer.allocUnsafe(1 + body.length + MAC_BYTES);
    out[0] = MAC_MARKER;
    body.copy(out, 1);
    computeMac(sessionKey, [MAC_DOMAIN_BYTES, body], out.subarray(1 + body.length));
    return out;
  }
  return Buffer.concat([body, identity.sign(Buffer.concat([SEAL_DOMAIN_BYTES, body]))]);
};

export const decodeMessage = (bytes: Uint8Array, options: CodecOptions = DEFAULT_CODEC_OPTIONS): DecodeResult => decode(bytes, options, true);

/**
 * Reads a message WITHOUT checking its seal: for logs, packet captures and
 * tests that watch traffic between other nodes. Never act on what it returns.
 */
export const inspectMessage = (bytes: Uint8Array, options: CodecOptions = DEFAULT_CODEC_OPTIONS): DecodeResult => decode(bytes, options, false);

// Module-level, not closures: decode runs for every message, and these are made only when it fails.
const failWith = (fields: Fields, code: ErrorCode, message: string): DecodeResult => ({ ok: false, error: { code, message, ...readEnvelopeHints(fields) } });
const badBody = (message: string): BodyResult => ({ ok: false, error: { code: ErrorCode.BadRequest, message } });
const badItem = (message: string): ItemResult => ({ ok: false, error: { code: ErrorCode.BadRequest, message } });
const decode = (bytes: Uint8Array, options: CodecOptions, checkSeal: boolean): DecodeResult => {
  if (bytes.length > options.maxMessageBytes) {
    return failure(ErrorCode.RequestTooBig, `message is ${bytes.length} bytes, more than the limit of ${options.maxMessageBytes}`);
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const sealKind = input.length > 0 && input[0] === MAC_MARKER ? 'mac' : 'signature';
  const sealBytes = sealKind === 'mac' ? MAC_BYTES : SEAL_BYTES;
  const bodyStart = sealKind === 'mac' ? 1 : 0;
  if (input.length <= bodyStart + sealBytes) return failure(ErrorCode.BadRequest, 'message is too short to hold a body and a seal');
  // Its own memory, not the pool's: a stored item's fields, views of it, pin this message and nothing else.
  const body = Buffer.allocUnsafeSlow(input.length - sealBytes - bodyStart);
  input.copy(body, 0, bodyStart, input.length - sealBytes);
  const seal = input.subarray(input.length - sealBytes);
  let decoded: unknown;
  try {
    decoded = unpackr.unpack(body);
  } catch (e) {
    return failure(ErrorCode.BadRequest, `message body is not valid msgpack (${(e as Error).message ?? 'parse error'})`);
  }
  if (!(decoded instanceof Map)) return failure(ErrorCode.BadRequest, 'message body must be a msgpack map');
  const sizes = declaredMapSizes(body);
  if (sizes === undefined) return failure(ErrorCode.BadRequest, 'message body holds a msgpack extension this decoder does not read');
  const raw = mapFields(decoded, sizes.envelope);
  if (typeof raw !== 'object') return failure(ErrorCode.BadRequest, `message body map ${raw}`);
  // The envelope hints are read only when the message is refused, to say why.
  const fields = raw;

  const version = raw.v;
  if (!isUint(version)) return failWith(fields, ErrorCode.BadRequest, 'field "v" (protocol version) must be a non-negative integer');
  if (version !== PROTOCOL_VERSION) {
    return failWith(fields, ErrorCode.UnsupportedProtocol, `protocol version ${version} is not supported (this node speaks ${PROTOCOL_VERSION})`);
  }
  const typeCode = raw.t;
  if (!isUint(typeCode)) return failWith(fields, ErrorCode.BadRequest, 'field "t" (message type) must be a non-negative integer');
  const type = TYPE_BY_CODE.get(typeCode);
  if (type === undefined) return failWith(fields, ErrorCode.UnknownRequest, `message type ${typeCode} is not known`);

  const requestId = raw.id;
  if (!isBytes(requestId, REQUEST_ID_BYTES)) return failWith(fields, ErrorCode.BadRequest, `field "id" (request id) must be ${REQUEST_ID_BYTES} bytes`);
  const senderPublicKey = raw.pk;
  if (!isBytes(senderPublicKey, PUBLIC_KEY_BYTES)) {
    return failWith(fields, ErrorCode.BadRequest, `field "pk" (sender public key) must be ${PUBLIC_KEY_BYTES} bytes`);
  }
  const replyPort = raw.port;
  if (!isPort(replyPort)) return failWith(fields, ErrorCode.BadRequest, 'field "port" (reply port) must be an integer in 1..65535');
  const recipientId = raw.to;
  const recipientOk = isBytes(recipientId, NODE_ID_BYTES) || (type === 'ping' && isBytes(recipientId, 0));
  if (!recipientOk) return failWith(fields, ErrorCode.BadRequest, `field "to" (recipient id) must be ${NODE_ID_BYTES} bytes`);

  const difficulty = raw.d ?? 0;
  if (!isUint(difficulty) || difficulty > MAX_DIFFICULTY) return failWith(fields, ErrorCode.BadRequest, `field "d" (difficulty) must be an integer in 0..${MAX_DIFFICULTY}`);
  if (raw.pad !== undefined && !(raw.pad instanceof Uint8Array)) return failWith(fields, ErrorCode.BadRequest, 'field "pad" must be bytes');
  const required = options.difficulty ?? 0;
  if (difficulty < required) {
    return failWith(fields, ErrorCode.UnsupportedProtocol, `the sender's network difficulty ${difficulty} is below this node's ${required}: version 1 with difficulty ${required} is required`);
  }
  // One hash, checked before the seal: a key that costs nothing is refused for next to nothing.
  if (required > 0 && !meetsDifficulty(nodeIdOf(senderPublicKey), required)) {
    return failWith(fields, ErrorCode.UnsupportedProtocol, `the sender's key does not meet difficulty ${required}: SHA-512 of its node id must start with ${required} zero bits`);
  }

  const parsed = readBody(type, raw, options, sizes);
  if (!parsed.ok) return failWith(fields, parsed.error.code, parsed.error.message);

  if (!checkSeal) {
    // inspectMessage: the caller asked not to verify.
  } else if (sealKind === 'mac') {
    if (recipientId.length !== NODE_ID_BYTES) return failWith(fields, ErrorCode.BadRequest, 'a MAC-sealed message must name its recipient');
    const key = options.sessionKeyFor?.(senderPublicKey);
    if (key === undefined || !macEquals(computeMac(key, [MAC_DOMAIN_BYTES, body], macScratch), seal)) {
      return failWith(fields, ErrorCode.UnverifiableProvenance, 'the message MAC does not verify with the session key of its sender and this node');
    }
  } else if (!verifySignature(senderPublicKey, Buffer.concat([SEAL_DOMAIN_BYTES, body]), seal)) {
    return failWith(fields, ErrorCode.UnverifiableProvenance, 'the message seal does not verify with the sender public key');
  }
  const message = withEnvelope(parsed.value as MessageBody, { requestId, senderPublicKey, replyPort, version, recipientId, difficulty });
  return { ok: true, value: { message, sealKind, senderId: nodeIdOf(senderPublicKey) } };
};

type Fields = Record<string, unknown>;
type BodyResult = { ok: true; value: Fields } | { ok: false; error: ProtocolError };

const readBody = (type: Message['type'], raw: Fields, options: CodecOptions, sizes: DeclaredMapSizes): BodyResult => {
  switch (type) {
    case 'ping':
    case 'pong':
      return { ok: true, value: { type } };
    case 'find-node':
    case 'find-value':
      if (!isBytes(raw.key, NODE_ID_BYTES)) return badBody(`field "key" must be ${NODE_ID_BYTES} bytes`);
      return { ok: true, value: { type, key: raw.key } };
    case 'store':
    case 'value': {
      const item = readItem(raw.item, options.itemLimits, sizes);
      if (!item.ok) return item;
      return { ok: true, value: { type, item: item.value } };
    }
    case 'nodes': {
      if (!Array.isArray(raw.nodes)) return badBody('field "nodes" must be an array');
      if (raw.nodes.length > MAX_CONTACTS_PER_MESSAGE) return badBody(`field "nodes" holds more than ${MAX_CONTACTS_PER_MESSAGE} contacts`);
      const nodes: WireContact[] = [];
      // Indexed loops, not entries() and destructuring: no iterator results to allocate for K contacts a message.
      for (let index = 0; index < raw.nodes.length; index++) {
        const entry: unknown = raw.nodes[index];
        if (!Array.isArray(entry) || entry.length !== 3) return badBody(`nodes[${index}] must be [public_key, ip, port]`);
        const publicKey: unknown = entry[0];
        const ip: unknown = entry[1];
        const port: unknown = entry[2];
        if (!isBytes(publicKey, PUBLIC_KEY_BYTES)) return badBody(`nodes[${index}] public key must be ${PUBLIC_KEY_BYTES} bytes`);
        const host = ip instanceof Uint8Array ? decodeIp(ip) : undefined;
        if (host === undefined) return badBody(`nodes[${index}] ip must be 4 (IPv4) or 16 (IPv6) bytes`);
        if (!isPort(port)) return badBody(`nodes[${index}] port must be an integer in 1..65535`);
        nodes.push({ publicKey, host, port });
      }
      return { ok: true, value: { type, nodes } };
    }
    case 'error': {
      if (!isErrorCode(raw.code)) return badBody('field "code" must be an error code from 1 to 8');
      if (typeof raw.title !== 'string' || raw.title.length > MAX_TITLE_CHARS) {
        return badBody(`field "title" must be a string of at most ${MAX_TITLE_CHARS} characters`);
      }
      const details = readStringMap(raw.details, sizes.details, MAX_DETAILS, MAX_DETAIL_CHARS);
      if (typeof details === 'string') return badBody(`field "details" ${details}`);
      if (details === undefined) return badBody(`field "details" must map at most ${MAX_DETAILS} strings to strings`);
      return { ok: true, value: { type, code: raw.code, title: raw.title, details } };
    }
  }
};

type ItemResult = { ok: true; value: Item } | { ok: false; error: ProtocolError };

const readItem = (decoded: unknown, limits: ItemLimits, sizes: DeclaredMapSizes): ItemResult => {
  const raw = mapFields(decoded, sizes.item);
  if (raw === undefined) return badItem('field "item" must be a map');
  if (typeof raw === 'string') return badItem(`field "item" ${raw}`);
  if (!isBytes(raw.k, NODE_ID_BYTES)) return badItem(`item field "k" (key) must be ${NODE_ID_BYTES} bytes`);
  if (!(raw.v instanceof Uint8Array) && typeof raw.v !== 'string') return badItem('item field "v" (value) must be bytes or a JSON string');
  if (typeof raw.ts !== 'number') return badItem('item field "ts" (timestamp) must be an integer');
  if (typeof raw.exp !== 'number') return badItem('item field "exp" (expires) must be an integer');
  if (typeof raw.cw !== 'string') return badItem('item field "cw" (created_with) must be a string');
  if (!isBytes(raw.pk, PUBLIC_KEY_BYTES)) return badItem(`item field "pk" (public key) must be ${PUBLIC_KEY_BYTES} bytes`);
  if (typeof raw.n !== 'string') return badItem('item field "n" (name) must be a string');
  const meta = readStringMap(raw.m, sizes.meta, limits.maxMetaEntries, limits.maxMetaEntryBytes);
  if (typeof meta === 'string') return badItem(`item field "m" (meta) ${meta}`);
  if (meta === undefined) return badItem('item field "m" (meta) must map strings to strings');
  if (!isBytes(raw.sig, SIGNATURE_BYTES)) return badItem(`item field "sig" (signature) must be ${SIGNATURE_BYTES} bytes`);
  const item: Item = {
    key: raw.k,
    value: raw.v,
    timestamp: raw.ts,
    expires: raw.exp,
    createdWith: raw.cw,
    publicKey: raw.pk,
    name: raw.n,
    meta,
    signature: raw.sig,
  };
  const problem = checkItemShape(item, limits);
  return problem ? { ok: false, error: problem } : { ok: true, value: item };
};

export const itemToWire = (item: Item): Fields => ({
  k: item.key,
  v: item.value,
  ts: item.timestamp,
  exp: item.expires,
  cw: item.createdWith,
  pk: item.publicKey,
  n: item.name,
  m: item.meta,
  sig: item.signature,
});

const toWire = (m: Message): Fields => {
  const wire: Fields = { v: m.version, t: TYPE_CODES[m.type], id: m.requestId, pk: m.senderPublicKey, port: m.replyPort, to: m.recipientId };
  // Difficulty 0 is left out, so that messages of a network without the puzzle keep their bytes.
  if (m.difficulty !== undefined && m.difficulty > 0) wire.d = m.difficulty;
  switch (m.type) {
    case 'ping':
    case 'pong':
      break;
    case 'find-node':
    case 'find-value':
      wire.key = m.key;
      break;
    case 'store':
    case 'value':
      wire.item = itemToWire(m.item);
      break;
    case 'nodes':
      // Only IP addresses travel; a contact known by another kind of host is left out.
      wire.nodes = m.nodes.flatMap((c) => {
        const ip = wireIp(c.host);
        return ip ? [[c.publicKey, ip, c.port]] : [];
      });
      break;
    case 'error':
      wire.code = m.code;
      wire.title = m.title;
      wire.details = m.details;
      break;
  }
  return wire;
};

/**
 * The wire bytes of a contact's host, remembered: a Nodes reply carries up to
 * K contacts, and the same few hundred hosts come back in every one. The
 * buffers are only ever read (packed); the memory is bounded.
 */
const wireIps = new Map<string, Buffer | null>();
const wireIp = (host: string): Buffer | undefined => {
  let ip = wireIps.get(host);
  if (ip === undefined) {
    if (wireIps.size >= 4096) wireIps.clear();
    ip = encodeIp(host) ?? null;
    wireIps.set(host, ip);
  }
  return ip ?? undefined;
};

const failure = (code: ErrorCode, message: string): DecodeResult => ({ ok: false, error: { code, message } });

const readEnvelopeHints = (raw: Fields): Pick<DecodeFailure, 'requestId' | 'senderPublicKey' | 'replyPort'> => ({
  ...(isBytes(raw.id, REQUEST_ID_BYTES) ? { requestId: raw.id } : {}),
  ...(isBytes(raw.pk, PUBLIC_KEY_BYTES) ? { senderPublicKey: raw.pk } : {}),
  ...(isPort(raw.port) ? { replyPort: raw.port } : {}),
});

/**
 * A decoded map as a plain object, once its keys pass docs/protocol.md ("msgpack rules"): each a str,
 * none twice (`declared` is the count its header gave; a Map keeps one entry per key) and none
 * "__proto__", which a plain object cannot hold as data. Undefined when it is not a map; a string
 * says what is wrong with its keys.
 */
const mapFields = (decoded: unknown, declared: number): Fields | string | undefined => {
  if (!(decoded instanceof Map)) return undefined;
  if (decoded.size !== declared) return 'has a key twice';
  const out: Fields = {};
  // forEach, not for-of: a Map's iterator makes a [key, value] array per entry, and every message has a map.
  let fault: string | undefined;
  (decoded as Map<unknown, unknown>).forEach((value, key) => {
    if (fault !== undefined) return;
    if (typeof key !== 'string') fault = 'has a key that is not a string';
    else if (key === '__proto__') fault = 'uses the reserved key "__proto__"';
    else out[key] = value;
  });
  return fault ?? out;
};

/** A map of strings to strings; a string when its keys are at fault (see mapFields), undefined when its shape is. */
const readStringMap = (decoded: unknown, declared: number, maxEntries: number, maxEntryChars: number): Record<string, string> | string | undefined => {
  const raw = mapFields(decoded, declared);
  if (typeof raw !== 'object') return raw;
  const entries = Object.entries(raw);
  if (entries.length > maxEntries) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length + v.length > maxEntryChars) return undefined;
    out[k] = v;
  }
  return out;
};

const isBytes = (x: unknown, length: number): x is Uint8Array => x instanceof Uint8Array && x.length === length;

const isUint = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

const isPort = (x: unknown): x is number => isUint(x) && x >= 1 && x <= 65535;

/** The standard title for a code, as Error messages carry it. */
export const errorTitle = (code: ErrorCode): string => ERROR_TITLES[code];

/** The body as msgpackr packs the wire object, with `pad` zeros when given: what body-writer.ts must write (its tests compare). */
export const referenceBody = (message: Message, padBytes?: number): Buffer =>
  Buffer.from(packr.pack(padBytes === undefined ? toWire(message) : { ...toWire(message), pad: Buffer.alloc(padBytes) }));
