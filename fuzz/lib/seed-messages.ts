/**
 * One valid message of every type, for the seed corpora: what the codec
 * writes, sealed both ways, so mutations start from bytes every check accepts.
 */
import type { Identity } from '../../src/crypto/identity.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { createItem } from '../../src/protocol/item.js';
import type { Message, MessageBody } from '../../src/protocol/messages.js';
import { T0_MS } from './build.js';

export const seedBodies = (publisher: Identity, key: Uint8Array, contacts: readonly Identity[]): Array<readonly [string, MessageBody]> => {
  const item = createItem(publisher, { name: 'greeting', value: '{"hello":"world"}', timestamp: T0_MS - 1000, meta: { 'content-type': 'application/json' } });
  const bytesItem = createItem(publisher, { name: '', value: Buffer.from([0, 1, 2, 255]), timestamp: T0_MS - 2000, expires: T0_MS + 3_600_000 });
  return [
    ['ping', { type: 'ping' }],
    ['pong', { type: 'pong' }],
    ['store', { type: 'store', item }],
    ['store-bytes', { type: 'store', item: bytesItem }],
    ['find-node', { type: 'find-node', key }],
    ['nodes', { type: 'nodes', nodes: contacts.map((c, i) => ({ publicKey: c.publicKey, host: i % 2 === 0 ? `10.0.0.${i + 1}` : `2001:db8::${i + 1}`, port: 1908 + i })) }],
    ['find-value', { type: 'find-value', key: item.key }],
    ['value', { type: 'value', item }],
    ['error', { type: 'error', code: ErrorCode.SupersededValue, title: 'Superseded value', details: { timestamp: String(T0_MS) } }],
  ];
};

export const withEnvelope = (body: MessageBody, sender: Identity, recipientId: Uint8Array, requestId: Uint8Array = Buffer.alloc(16, 7)): Message =>
  ({ ...body, requestId, senderPublicKey: sender.publicKey, replyPort: 1908, version: 1, recipientId }) as Message;
