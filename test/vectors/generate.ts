/**
 * Writes test/vectors/item-v1.json: signed items and sealed messages made from
 * fixed Ed25519 seeds. Ed25519 is deterministic, so the output changes only if
 * the item signing bytes or the wire encoding change, and that is a protocol
 * change (docs/protocol.md, "Test vectors"). Run: npx tsx test/vectors/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { toHex } from '../../src/crypto/bytes.js';
import { encodeMessage, SEAL_DOMAIN } from '../../src/protocol/codec.js';
import { ErrorCode, ERROR_TITLES } from '../../src/protocol/errors.js';
import { ITEM_DOMAIN, itemKey, itemSigningBytes } from '../../src/protocol/item.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { buildItem, buildMessage, identityOf, type ItemInput, type MessageInput, type VectorFile, VECTORS_FILE } from './vectors.js';

const ONES_SEED = '01'.repeat(32);
/** RFC 8032 section 7.1, TEST 1: its public key is d75a9801…511a. */
const RFC8032_TEST1_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';

const JANUARY_2026_MS = Date.UTC(2026, 0, 1);
const JANUARY_2027_MS = Date.UTC(2027, 0, 1);
// Fixed rather than SOFTWARE_VERSION, so a release does not change the vectors.
const CREATED_WITH = 'drogulus-ts/0.1.0';

const ITEMS: readonly ItemInput[] = [
  {
    id: 'json-named',
    description: 'a JSON value under a name, never expires, no meta',
    seed: ONES_SEED,
    name: 'greeting',
    value: { json: '{"hello":"world"}' },
    timestamp: JANUARY_2026_MS,
    expires: 0,
    meta: [],
    createdWith: CREATED_WITH,
  },
  {
    id: 'bytes-empty-name',
    description: 'a bytes value under the empty name: the key is SHA-512(public key), the publisher node id',
    seed: ONES_SEED,
    name: '',
    value: { bytes: '000102ff' },
    timestamp: JANUARY_2026_MS + 1,
    expires: 0,
    meta: [],
    createdWith: CREATED_WITH,
  },
  {
    id: 'json-meta-expires',
    description: 'non-ASCII name and value, meta out of order (two keys sort differently in UTF-16 and UTF-8), with an expiry',
    seed: RFC8032_TEST1_SEED,
    name: 'profile/zoë',
    value: { json: '{"name":"Zoë","tags":["a","b"],"n":42}' },
    timestamp: JANUARY_2026_MS + 123,
    expires: JANUARY_2027_MS,
    meta: [
      ['zeta', 'last'],
      ['alpha', 'first'],
      ['\u{1F600}', 'U+1F600: after U+FF01 in UTF-8, before it in UTF-16'],
      ['\uFF01', 'U+FF01'],
      ['Alpha', 'capital letters sort before small ones'],
      ['', 'the empty key sorts first'],
    ],
    createdWith: CREATED_WITH,
  },
  {
    id: 'bytes-empty-value',
    description: 'an empty bytes value with one meta entry and an expiry',
    seed: RFC8032_TEST1_SEED,
    name: 'blob',
    value: { bytes: '' },
    timestamp: JANUARY_2026_MS + 60_000,
    expires: JANUARY_2026_MS + 3_600_000,
    meta: [['content-type', 'application/octet-stream']],
    createdWith: CREATED_WITH,
  },
];

/** A seed whose key meets the Sybil puzzle at difficulty 15: SHA-512 of its node id starts 000191d6. */
const PUZZLE_SEED = '8c807108129a493a0f52ba8012ca5fb9105b53314dda8bbb60dd2819b72f94de';
const ONES = identityOf(ONES_SEED);
const RFC = identityOf(RFC8032_TEST1_SEED);
const PING_ID = '000102030405060708090a0b0c0d0e0f';
const STORE_ID = 'ffeeddccbbaa99887766554433221100';

const MESSAGES: readonly MessageInput[] = [
  {
    id: 'ping-unknown-recipient',
    description: 'a Ping to an address whose key is unknown: empty recipient id',
    seed: ONES_SEED,
    type: 'ping',
    requestId: PING_ID,
    replyPort: 4000,
    recipientId: '',
    fields: {},
  },
  {
    id: 'pong',
    description: 'the Pong answering it, addressed to the pinger',
    seed: RFC8032_TEST1_SEED,
    type: 'pong',
    requestId: PING_ID,
    replyPort: 4001,
    recipientId: toHex(ONES.nodeId),
    fields: {},
  },
  {
    id: 'store',
    description: 'a Store of item json-meta-expires',
    seed: ONES_SEED,
    type: 'store',
    requestId: STORE_ID,
    replyPort: 4000,
    recipientId: toHex(RFC.nodeId),
    fields: { item: 'json-meta-expires' },
  },
  {
    id: 'find-node',
    description: 'a FindNode for the key of item json-named',
    seed: RFC8032_TEST1_SEED,
    type: 'find-node',
    requestId: '11'.repeat(16),
    replyPort: 65535,
    recipientId: toHex(ONES.nodeId),
    fields: { key: toHex(itemKey(ONES.publicKey, 'greeting')) },
  },
  {
    id: 'nodes',
    description: 'a Nodes reply with an IPv4 and an IPv6 contact, their ips as 4 and 16 bytes',
    seed: ONES_SEED,
    type: 'nodes',
    requestId: '11'.repeat(16),
    replyPort: 4000,
    recipientId: toHex(RFC.nodeId),
    fields: {
      nodes: [
        [toHex(RFC.publicKey), '192.0.2.7', 4001],
        [toHex(ONES.publicKey), '2001:db8::1', 1],
      ],
    },
  },
  {
    id: 'find-value',
    description: 'a FindValue for the key of item bytes-empty-name',
    seed: RFC8032_TEST1_SEED,
    type: 'find-value',
    requestId: '22'.repeat(16),
    replyPort: 4001,
    recipientId: toHex(ONES.nodeId),
    fields: { key: toHex(ONES.nodeId) },
  },
  {
    id: 'value',
    description: 'a Value reply carrying item bytes-empty-name',
    seed: ONES_SEED,
    type: 'value',
    requestId: '22'.repeat(16),
    replyPort: 4000,
    recipientId: toHex(RFC.nodeId),
    fields: { item: 'bytes-empty-name' },
  },
  {
    id: 'find-node-padded-puzzle',
    description: 'a FindNode from a key meeting the Sybil puzzle, announcing difficulty 8, padded to 320 bytes',
    seed: PUZZLE_SEED,
    type: 'find-node',
    requestId: '33'.repeat(16),
    replyPort: 4002,
    recipientId: toHex(ONES.nodeId),
    fields: { key: toHex(ONES.nodeId) },
    difficulty: 8,
    padToBytes: 320,
  },
  {
    id: 'error-superseded',
    description: 'an Error 8 answering the Store: the recipient holds a version with a later timestamp',
    seed: RFC8032_TEST1_SEED,
    type: 'error',
    requestId: STORE_ID,
    replyPort: 4001,
    recipientId: toHex(ONES.nodeId),
    fields: {
      code: ErrorCode.SupersededValue,
      title: ERROR_TITLES[ErrorCode.SupersededValue],
      details: { timestamp: String(JANUARY_2026_MS + 500) },
    },
  },
];

const items = new Map(ITEMS.map((input) => [input.id, buildItem(input)]));

const vectors: VectorFile = {
  about:
    'drogulus protocol v1 test vectors, written by test/vectors/generate.ts; docs/protocol.md explains them. ' +
    'Hex is lowercase. Item meta is listed in insertion order (the wire order); the signing bytes sort it by UTF-8 key bytes. ' +
    'A message field "item" names an entry of "items" by id.',
  protocolVersion: PROTOCOL_VERSION,
  itemDomain: ITEM_DOMAIN,
  sealDomain: SEAL_DOMAIN,
  items: ITEMS.map((input) => {
    const item = items.get(input.id)!;
    const identity = identityOf(input.seed);
    return {
      ...input,
      publicKey: toHex(identity.publicKey),
      nodeId: toHex(identity.nodeId),
      key: toHex(item.key),
      signingBytes: toHex(itemSigningBytes(item)),
      signature: toHex(item.signature),
    };
  }),
  messages: MESSAGES.map((input) => {
    const sender = identityOf(input.seed);
    return { ...input, publicKey: toHex(sender.publicKey), encoded: toHex(encodeMessage(buildMessage(input, items), sender, undefined, { padToBytes: input.padToBytes })) };
  }),
};

writeFileSync(VECTORS_FILE, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${VECTORS_FILE.pathname}: ${vectors.items.length} items, ${vectors.messages.length} messages`);
