/**
 * The protocol's messages, a discriminated union on `type` (docs/protocol.md,
 * "Messages"). Every message carries an envelope: request id, sender public
 * key, reply port, protocol version and recipient id; the codec seals it.
 */
import type { ErrorCode } from './errors.js';
import type { Item } from './item.js';

export const REQUEST_ID_BYTES = 16;

export interface Envelope {
  /** Random per request; a reply echoes the id of the request it answers. */
  readonly requestId: Uint8Array;
  readonly senderPublicKey: Uint8Array;
  /** The port the sender listens on; replies and later requests go there. */
  readonly replyPort: number;
  readonly version: number;
  /** The recipient's node id; empty only in a Ping to an address whose key is unknown. */
  readonly recipientId: Uint8Array;
  /** The Sybil puzzle difficulty of the sender's network (`d`); absent means 0. */
  readonly difficulty?: number;
}

/** A contact as it travels in a Nodes message; its id is SHA-512(publicKey). */
export interface WireContact {
  readonly publicKey: Uint8Array;
  readonly host: string;
  readonly port: number;
}

export interface Ping extends Envelope {
  readonly type: 'ping';
}
export interface Pong extends Envelope {
  readonly type: 'pong';
}
export interface Store extends Envelope {
  readonly type: 'store';
  readonly item: Item;
}
export interface FindNode extends Envelope {
  readonly type: 'find-node';
  readonly key: Uint8Array;
}
export interface Nodes extends Envelope {
  readonly type: 'nodes';
  readonly nodes: readonly WireContact[];
}
export interface FindValue extends Envelope {
  readonly type: 'find-value';
  readonly key: Uint8Array;
}
export interface Value extends Envelope {
  readonly type: 'value';
  readonly item: Item;
}
export interface ErrorMessage extends Envelope {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly title: string;
  readonly details: Readonly<Record<string, string>>;
}

export type Message = Ping | Pong | Store | FindNode | Nodes | FindValue | Value | ErrorMessage;
export type MessageType = Message['type'];
export type Request = Ping | Store | FindNode | FindValue;
export type Reply = Pong | Nodes | Value | ErrorMessage;

/** Message bodies without their envelope, as handlers build them. */
export type MessageBody<M extends Message = Message> = M extends Message ? Omit<M, keyof Envelope> : never;

/** Wire type numbers (the `t` field). */
export const TYPE_CODES: Readonly<Record<MessageType, number>> = Object.freeze({
  ping: 1,
  pong: 2,
  store: 3,
  'find-node': 4,
  nodes: 5,
  'find-value': 6,
  value: 7,
  error: 8,
});

export const TYPE_BY_CODE: ReadonlyMap<number, MessageType> = new Map(
  Object.entries(TYPE_CODES).map(([name, code]) => [code, name as MessageType]),
);

export const isRequest = (m: Message): m is Request =>
  m.type === 'ping' || m.type === 'store' || m.type === 'find-node' || m.type === 'find-value';

/**
 * A message from a body and an envelope, built as one object literal per type.
 * Not `{ ...body, ...envelope }`: spreading bodies of eight shapes makes V8's
 * object copy megamorphic, and its slow path gives dictionary-mode objects,
 * a kilobyte each and slower to read; every message sent and received is
 * built here. `difficulty` is set only when above 0, as the codec sends it.
 */
export const withEnvelope = (body: MessageBody, envelope: Envelope): Message => {
  const { requestId, senderPublicKey, replyPort, version, recipientId } = envelope;
  let message: Message;
  switch (body.type) {
    case 'ping':
    case 'pong':
      message = { type: body.type, requestId, senderPublicKey, replyPort, version, recipientId };
      break;
    case 'find-node':
    case 'find-value':
      message = { type: body.type, key: body.key, requestId, senderPublicKey, replyPort, version, recipientId };
      break;
    case 'store':
    case 'value':
      message = { type: body.type, item: body.item, requestId, senderPublicKey, replyPort, version, recipientId };
      break;
    case 'nodes':
      message = { type: body.type, nodes: body.nodes, requestId, senderPublicKey, replyPort, version, recipientId };
      break;
    case 'error':
      message = { type: body.type, code: body.code, title: body.title, details: body.details, requestId, senderPublicKey, replyPort, version, recipientId };
      break;
    default:
      // Not a body of this protocol (a test's): copied as it is, for the codec to refuse.
      message = { ...(body as object), requestId, senderPublicKey, replyPort, version, recipientId } as Message;
  }
  if (envelope.difficulty !== undefined && envelope.difficulty > 0) (message as { difficulty?: number }).difficulty = envelope.difficulty;
  return message;
};
