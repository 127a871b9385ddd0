/**
 * Reading an item for the API, over HTTP and the WebSocket alike. The node
 * answers from its own live copy when it has one; a fresh read asks the
 * network first (docs/api.md, "GET /api/v1/items/{key}").
 */
import type { DrogulusNode, OperationOptions } from '../dht/node.js';
import { checkItem, compareItemVersions, type Item } from '../protocol/item.js';

export interface FoundItem {
  readonly item: Item;
  readonly source: 'local' | 'network';
}

/**
 * A fresh read asks the network, then keeps whichever is newer of what it
 * found and this node's own live copy: a lookup that finds nothing, or an
 * older version, must not hide a value this node holds.
 */
export const findItem = async (
  node: DrogulusNode,
  key: Uint8Array,
  fresh: boolean,
  options: OperationOptions = {},
): Promise<FoundItem | undefined> => {
  const report = await node.retrieve(key, { fresh, signal: options.signal, onEvent: options.onEvent });
  const found = report.item && report.source !== 'none' ? { item: report.item, source: report.source } : undefined;
  if (!fresh) return found;
  const held = node.store.get(key)?.item;
  if (!held || checkItem(held, node.clock.now())) return found;
  if (!found || compareItemVersions(held, found.item) > 0) return { item: held, source: 'local' };
  return found;
};
