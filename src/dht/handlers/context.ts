/**
 * What a message handler may use. Handlers are pure with respect to I/O: they
 * return the reply body and the node sends it.
 */
import type { ErrorCode } from '../../protocol/errors.js';
import type { MessageBody, Reply } from '../../protocol/messages.js';
import type { RoutingTable } from '../../routing/routing-table.js';
import type { ItemStore } from '../../storage/item-store.js';
import type { NodeOptions } from '../defaults.js';
import type { NodeEvent } from '../events.js';
import { errorTitle } from '../../protocol/codec.js';

export interface HandlerContext {
  readonly options: NodeOptions;
  readonly table: RoutingTable;
  readonly store: ItemStore;
  now(): number;
  /** True when we are not among the K closest nodes we know to `key`: a copy here is only a cache. */
  isCachedCopy(key: Uint8Array): boolean;
  blacklist(publicKey: Uint8Array, reason: string): void;
  emit(event: NodeEvent): void;
}

export type ReplyBody = MessageBody<Reply>;

export const errorReply = (code: ErrorCode, message: string, extra: Record<string, string> = {}): ReplyBody => ({
  type: 'error',
  code,
  title: errorTitle(code),
  details: { message: message.slice(0, 512), ...extra },
});

/**
 * A Nodes body holding the contacts themselves: the codec reads only their
 * public key, host and port, so copying each into a wire object would only
 * make garbage (a FindNode's answer is K contacts, and most messages of a
 * lookup are FindNodes and their answers).
 */
export const toWireContacts = (contacts: ReadonlyArray<{ readonly publicKey: Uint8Array; readonly host: string; readonly port: number }>): ReplyBody => ({
  type: 'nodes',
  nodes: contacts,
});
