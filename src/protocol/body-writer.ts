/**
 * Writes a message body straight into msgpack, without first building the
 * wire object (codec.ts toWire) and walking it with msgpackr: every message a
 * node sends or answers goes through here, and the generic path cost more
 * than the MAC that seals it. The bytes are exactly those msgpackr's Packr
 * ({ useRecords: false, variableMapSize: true }) writes for the wire object:
 * fields in the order of docs/protocol.md, smallest headers, integers below
 * 2^32 as integers and others as float 64, byte views as bin, strings as
 * UTF-8 (a lone surrogate as U+FFFD, as both write it). test/protocol/
 * body-writer.test.ts pins the equality on random messages. Anything this
 * writer was not made for (a value of an unexpected type) gives undefined,
 * and the caller packs with msgpackr instead.
 */
import type { Item } from './item.js';
import { type Message, TYPE_CODES } from './messages.js';

/** The scratch buffer every body is written into; the result is a view of it, valid until the next call. */
let out = Buffer.allocUnsafe(4096);
let at = 0;
/** Set when a value cannot be written here; the caller then uses msgpackr. */
let unsupported = false;

const room = (bytes: number): void => {
  if (at + bytes <= out.length) return;
  let size = out.length * 2;
  while (size < at + bytes) size *= 2;
  const bigger = Buffer.allocUnsafe(size);
  out.copy(bigger, 0, 0, at);
  out = bigger;
};

/** Keys as msgpack fixstr, encoded once. */
const key = (name: string): Buffer => Buffer.concat([Buffer.from([0xa0 | name.length]), Buffer.from(name, 'latin1')]);
const K = {
  v: key('v'),
  t: key('t'),
  id: key('id'),
  pk: key('pk'),
  port: key('port'),
  to: key('to'),
  d: key('d'),
  key: key('key'),
  item: key('item'),
  nodes: key('nodes'),
  code: key('code'),
  title: key('title'),
  details: key('details'),
  pad: key('pad'),
  k: key('k'),
  ts: key('ts'),
  exp: key('exp'),
  cw: key('cw'),
  n: key('n'),
  m: key('m'),
  sig: key('sig'),
};

const writeKey = (k: Buffer): void => {
  room(k.length);
  for (let i = 0; i < k.length; i++) out[at + i] = k[i];
  at += k.length;
};

const writeMapHeader = (length: number): void => {
  room(5);
  if (length < 0x10) out[at++] = 0x80 | length;
  else if (length < 0x10000) {
    out[at++] = 0xde;
    out[at++] = length >> 8;
    out[at++] = length & 0xff;
  } else {
    out[at++] = 0xdf;
    out.writeUInt32BE(length, at);
    at += 4;
  }
};

const writeArrayHeader = (length: number): void => {
  room(5);
  if (length < 0x10) out[at++] = 0x90 | length;
  else if (length < 0x10000) {
    out[at++] = 0xdc;
    out[at++] = length >> 8;
    out[at++] = length & 0xff;
  } else {
    out[at++] = 0xdd;
    out.writeUInt32BE(length, at);
    at += 4;
  }
};

/** msgpackr's number rules with useRecords false: see pack.js. */
const writeNumber = (value: number): void => {
  if (typeof value !== 'number') {
    unsupported = true;
    return;
  }
  room(9);
  if (value >>> 0 === value) {
    if (value < 0x80) out[at++] = value;
    else if (value < 0x100) {
      out[at++] = 0xcc;
      out[at++] = value;
    } else if (value < 0x10000) {
      out[at++] = 0xcd;
      out[at++] = value >> 8;
      out[at++] = value & 0xff;
    } else {
      out[at++] = 0xce;
      out.writeUInt32BE(value, at);
      at += 4;
    }
  } else if (value >> 0 === value) {
    if (value >= -0x20) out[at++] = 0x100 + value;
    else if (value >= -0x80) {
      out[at++] = 0xd0;
      out[at++] = value + 0x100;
    } else if (value >= -0x8000) {
      out[at++] = 0xd1;
      out.writeInt16BE(value, at);
      at += 2;
    } else {
      out[at++] = 0xd2;
      out.writeInt32BE(value, at);
      at += 4;
    }
  } else {
    out[at++] = 0xcb;
    out.writeDoubleBE(value, at);
    at += 8;
  }
};

const writeBinHeader = (length: number): void => {
  room(length + 5);
  if (length < 0x100) {
    out[at++] = 0xc4;
    out[at++] = length;
  } else if (length < 0x10000) {
    out[at++] = 0xc5;
    out[at++] = length >> 8;
    out[at++] = length & 0xff;
  } else {
    out[at++] = 0xc6;
    out.writeUInt32BE(length, at);
    at += 4;
  }
};

const writeBin = (bytes: Uint8Array): void => {
  const length = bytes.length;
  writeBinHeader(length);
  // Short fields (ids, keys, addresses) are copied by hand: set() costs more than the loop below 64 bytes.
  if (length <= 64) for (let i = 0; i < length; i++) out[at + i] = bytes[i];
  else out.set(bytes, at);
  at += length;
};

const writeString = (value: string): void => {
  if (typeof value !== 'string') {
    unsupported = true;
    return;
  }
  const chars = value.length;
  // The header is chosen by the byte length, known only after writing: room for the largest header first.
  room(chars * 3 + 5);
  let ascii = true;
  for (let i = 0; i < chars; i++) {
    if (value.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  const length = ascii ? chars : Buffer.byteLength(value, 'utf8');
  if (length < 0x20) out[at++] = 0xa0 | length;
  else if (length < 0x100) {
    out[at++] = 0xd9;
    out[at++] = length;
  } else if (length < 0x10000) {
    out[at++] = 0xda;
    out[at++] = length >> 8;
    out[at++] = length & 0xff;
  } else {
    out[at++] = 0xdb;
    out.writeUInt32BE(length, at);
    at += 4;
  }
  if (ascii && length <= 64) for (let i = 0; i < length; i++) out[at + i] = value.charCodeAt(i);
  else out.write(value, at, length, ascii ? 'latin1' : 'utf8');
  at += length;
};

/** A record of strings (item meta, error details), keys in Object.keys order as msgpackr writes them. */
const writeStringMap = (map: Readonly<Record<string, string>>): void => {
  // Plain objects only (null-prototype ones too): msgpackr writes other classes otherwise.
  const proto: unknown = map !== null && typeof map === 'object' ? Object.getPrototypeOf(map) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    unsupported = true;
    return;
  }
  const keys = Object.keys(map);
  writeMapHeader(keys.length);
  for (const k of keys) {
    const value = map[k];
    if (typeof value !== 'string') {
      unsupported = true;
      return;
    }
    writeString(k);
    writeString(value);
  }
};

const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;

const writeItem = (item: Item): void => {
  writeMapHeader(9);
  writeKey(K.k);
  writeBin(item.key);
  writeKey(K.v);
  if (isBytes(item.value)) writeBin(item.value);
  else if (typeof item.value === 'string') writeString(item.value);
  else unsupported = true;
  writeKey(K.ts);
  writeNumber(item.timestamp);
  writeKey(K.exp);
  writeNumber(item.expires);
  writeKey(K.cw);
  writeString(item.createdWith);
  writeKey(K.pk);
  writeBin(item.publicKey);
  writeKey(K.n);
  writeString(item.name);
  writeKey(K.m);
  writeStringMap(item.meta);
  writeKey(K.sig);
  writeBin(item.signature);
};

/**
 * The msgpack body of `message`, with a `pad` field of `padBytes` zeros when
 * given (codec.ts decides its size): a view of a shared buffer, to be copied
 * before the next call. `wireIp` gives a contact host's address bytes, or
 * undefined to leave the contact out. Undefined when the message holds a
 * value this writer does not handle.
 */
export const writeBody = (message: Message, wireIp: (host: string) => Uint8Array | undefined, padBytes?: number): Buffer | undefined => {
  at = 0;
  unsupported = false;
  const m = message;
  if (typeof m.version !== 'number' || typeof m.replyPort !== 'number' || !isBytes(m.requestId) || !isBytes(m.senderPublicKey) || !isBytes(m.recipientId)) return undefined;
  const withDifficulty = m.difficulty !== undefined && m.difficulty > 0;
  let fields = 6 + (withDifficulty ? 1 : 0) + (padBytes !== undefined ? 1 : 0);
  if (m.type !== 'ping' && m.type !== 'pong') fields += m.type === 'error' ? 3 : 1;
  writeMapHeader(fields);
  writeKey(K.v);
  writeNumber(m.version);
  writeKey(K.t);
  writeNumber(TYPE_CODES[m.type]);
  writeKey(K.id);
  writeBin(m.requestId);
  writeKey(K.pk);
  writeBin(m.senderPublicKey);
  writeKey(K.port);
  writeNumber(m.replyPort);
  writeKey(K.to);
  writeBin(m.recipientId);
  if (withDifficulty) {
    writeKey(K.d);
    writeNumber(m.difficulty!);
  }
  switch (m.type) {
    case 'ping':
    case 'pong':
      break;
    case 'find-node':
    case 'find-value':
      if (!isBytes(m.key)) return undefined;
      writeKey(K.key);
      writeBin(m.key);
      break;
    case 'store':
    case 'value':
      writeKey(K.item);
      writeItem(m.item);
      break;
    case 'nodes': {
      writeKey(K.nodes);
      const ips: Array<Uint8Array | undefined> = new Array(m.nodes.length);
      let count = 0;
      for (let i = 0; i < m.nodes.length; i++) {
        const ip = wireIp(m.nodes[i].host);
        ips[i] = ip;
        if (ip) count++;
      }
      writeArrayHeader(count);
      for (let i = 0; i < m.nodes.length; i++) {
        const ip = ips[i];
        if (!ip) continue;
        const c = m.nodes[i];
        if (!isBytes(c.publicKey) || typeof c.port !== 'number') return undefined;
        room(1);
        out[at++] = 0x93;
        writeBin(c.publicKey);
        writeBin(ip);
        writeNumber(c.port);
      }
      break;
    }
    case 'error':
      if (typeof m.code !== 'number' || typeof m.title !== 'string') return undefined;
      writeKey(K.code);
      writeNumber(m.code);
      writeKey(K.title);
      writeString(m.title);
      writeKey(K.details);
      writeStringMap(m.details);
      break;
    default:
      return undefined;
  }
  if (padBytes !== undefined) {
    writeKey(K.pad);
    writeBinHeader(padBytes);
    out.fill(0, at, at + padBytes);
    at += padBytes;
  }
  return unsupported ? undefined : out.subarray(0, at);
};
