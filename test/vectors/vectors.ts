/**
 * The shape of test/vectors/item-v1.json and how its inputs become items and
 * messages; shared by the generator and the test that recomputes the file.
 */
import { readFileSync } from 'node:fs';
import { Identity } from '../../src/crypto/identity.js';
import { createItem, type Item } from '../../src/protocol/item.js';
import type { ErrorCode } from '../../src/protocol/errors.js';
import type { Message, MessageBody } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';

/** Hex for raw bytes, text for JSON. */
export type VectorValue = { readonly bytes: string } | { readonly json: string };

export interface ItemInput {
  readonly id: string;
  readonly description: string;
  readonly seed: string;
  readonly name: string;
  readonly value: VectorValue;
  readonly timestamp: number;
  readonly expires: number;
  /** In insertion order; the signing bytes sort it, the wire keeps this order. */
  readonly meta: ReadonlyArray<readonly [string, string]>;
  readonly createdWith: string;
}

export interface ItemVector extends ItemInput {
  readonly publicKey: string;
  readonly nodeId: string;
  readonly key: string;
  readonly signingBytes: string;
  readonly signature: string;
}

/**
 * Byte fields are hex; `item` names an entry of the file's items by id. A contact
 * in `nodes` is [public key, host, port] with the host as IP address text in
 * canonical form (what decoding gives back); on the wire it is 4 or 16 bytes.
 */
export type MessageFields =
  | Record<string, never>
  | { readonly item: string }
  | { readonly key: string }
  | { readonly nodes: ReadonlyArray<readonly [string, string, number]> }
  | { readonly code: ErrorCode; readonly title: string; readonly details: Readonly<Record<string, string>> };

export interface MessageInput {
  readonly id: string;
  readonly description: string;
  readonly seed: string;
  readonly type: Message['type'];
  readonly requestId: string;
  readonly replyPort: number;
  readonly recipientId: string;
  readonly fields: MessageFields;
  /** The envelope's `d`, when not 0: the Sybil puzzle difficulty the sender announces (its key meets it). */
  readonly difficulty?: number;
  /** The sealed message is padded with a `pad` field of zeros to this many bytes. */
  readonly padToBytes?: number;
}

export interface MessageVector extends MessageInput {
  readonly publicKey: string;
  readonly encoded: string;
}

export interface VectorFile {
  readonly about: string;
  readonly protocolVersion: number;
  readonly itemDomain: string;
  readonly sealDomain: string;
  readonly items: readonly ItemVector[];
  readonly messages: readonly MessageVector[];
}

export const VECTORS_FILE = new URL('./item-v1.json', import.meta.url);

export const loadVectors = (): VectorFile => JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as VectorFile;

export const identityOf = (seedHex: string): Identity => Identity.fromSeed(Buffer.from(seedHex, 'hex'));

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

export const buildItem = (input: ItemInput): Item =>
  createItem(identityOf(input.seed), {
    name: input.name,
    value: 'json' in input.value ? input.value.json : hex(input.value.bytes),
    timestamp: input.timestamp,
    expires: input.expires,
    meta: Object.fromEntries(input.meta),
    createdWith: input.createdWith,
  });

const buildBody = (input: MessageInput, items: ReadonlyMap<string, Item>): MessageBody => {
  const fields = input.fields as Record<string, unknown>;
  switch (input.type) {
    case 'ping':
    case 'pong':
      return { type: input.type };
    case 'store':
    case 'value': {
      const item = items.get(fields.item as string);
      if (item === undefined) throw new Error(`vector ${input.id} names an unknown item ${String(fields.item)}`);
      return { type: input.type, item };
    }
    case 'find-node':
    case 'find-value':
      return { type: input.type, key: hex(fields.key as string) };
    case 'nodes': {
      const nodes = fields.nodes as ReadonlyArray<readonly [string, string, number]>;
      return { type: 'nodes', nodes: nodes.map(([publicKey, host, port]) => ({ publicKey: hex(publicKey), host, port })) };
    }
    case 'error': {
      const { code, title, details } = input.fields as Extract<MessageFields, { code: ErrorCode }>;
      return { type: 'error', code, title, details };
    }
  }
};

export const buildMessage = (input: MessageInput, items: ReadonlyMap<string, Item>): Message =>
  ({
    requestId: hex(input.requestId),
    senderPublicKey: identityOf(input.seed).publicKey,
    replyPort: input.replyPort,
    version: PROTOCOL_VERSION,
    recipientId: hex(input.recipientId),
    ...(input.difficulty ? { difficulty: input.difficulty } : {}),
    ...buildBody(input, items),
  }) as Message;
