/**
 * Reading items: GET /api/v1/items/{key} and GET /api/v1/items?public_key=&name=.
 * The node answers from its own live copy when it has one; the request header
 * `Cache-Control: no-cache` makes it ask the network first.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { toHex } from '../../crypto/bytes.js';
import type { DrogulusNode } from '../../dht/node.js';
import { checkItem, compareItemVersions, type Item, itemKey } from '../../protocol/item.js';
import { ApiError } from '../errors.js';
import { itemToJson, parseKey, parsePublicKey } from '../item-json.js';
import { itemQuerySchema, keyParamsSchema } from '../schemas.js';
import type { ItemJson } from '../types.js';
import type { RouteContext } from './context.js';

/** Says where the item came from: "local" (this node's copy) or "network" (a lookup). */
export const SOURCE_HEADER = 'x-drogulus-source';

/** True when a Cache-Control request header carries the no-cache directive. */
export const wantsFresh = (cacheControl: string | undefined): boolean =>
  cacheControl !== undefined && cacheControl.split(',').some((directive) => directive.trim().split('=')[0].trim().toLowerCase() === 'no-cache');

/**
 * A fresh read asks the network, then keeps whichever is newer of what it
 * found and this node's own live copy: a lookup that finds nothing, or an
 * older version, must not hide a value this node holds.
 */
const findItem = async (node: DrogulusNode, key: Uint8Array, fresh: boolean): Promise<{ item: Item; source: 'local' | 'network' } | undefined> => {
  const report = await node.retrieve(key, { fresh });
  const found = report.item && report.source !== 'none' ? { item: report.item, source: report.source } : undefined;
  if (!fresh) return found;
  const held = node.store.get(key)?.item;
  if (!held || checkItem(held, node.clock.now())) return found;
  if (!found || compareItemVersions(held, found.item) > 0) return { item: held, source: 'local' };
  return found;
};

const sendItem = async (node: DrogulusNode, key: Uint8Array, fresh: boolean, reply: FastifyReply, notFound: () => string): Promise<ItemJson> => {
  const found = await findItem(node, key, fresh);
  if (!found) throw ApiError.of('not_found', notFound());
  reply.header(SOURCE_HEADER, found.source);
  return itemToJson(found.item);
};

export const registerItemRoutes = (app: FastifyInstance, { node }: RouteContext): void => {
  app.get<{ Params: { key: string } }>('/api/v1/items/:key', { schema: { params: keyParamsSchema } }, async (request, reply) => {
    const key = parseKey(request.params.key, 'key');
    return sendItem(node, key, wantsFresh(request.headers['cache-control']), reply, () => `no item with key ${toHex(key)} was found`);
  });

  app.get<{ Querystring: { public_key: string; name: string } }>('/api/v1/items', { schema: { querystring: itemQuerySchema } }, async (request, reply) => {
    const { name } = request.query;
    const publicKey = parsePublicKey(request.query.public_key, 'public_key');
    const key = itemKey(publicKey, name);
    return sendItem(node, key, wantsFresh(request.headers['cache-control']), reply, () => `public key ${toHex(publicKey)} has no item named ${JSON.stringify(name)}`);
  });
};
