/**
 * Reading items: GET /api/v1/items/{key} and GET /api/v1/items?public_key=&name=.
 * The node answers from its own live copy when it has one; the request header
 * `Cache-Control: no-cache` makes it ask the network first.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { toHex } from '../../crypto/bytes.js';
import { itemKey } from '../../protocol/item.js';
import { ApiError } from '../errors.js';
import { findItem } from '../find-item.js';
import { itemToJson, parseKey, parsePublicKey } from '../item-json.js';
import { itemQuerySchema, keyParamsSchema } from '../schemas.js';
import type { ItemJson } from '../types.js';
import type { RouteContext } from './context.js';

/** Says where the item came from: "local" (this node's copy) or "network" (a lookup). */
export const SOURCE_HEADER = 'x-drogulus-source';

/** True when a Cache-Control request header carries the no-cache directive. */
export const wantsFresh = (cacheControl: string | undefined): boolean =>
  cacheControl !== undefined && cacheControl.split(',').some((directive) => directive.trim().split('=')[0].trim().toLowerCase() === 'no-cache');

const sendItem = async ({ node }: RouteContext, key: Uint8Array, fresh: boolean, reply: FastifyReply, notFound: () => string): Promise<ItemJson> => {
  const found = await findItem(node, key, fresh);
  if (!found) throw ApiError.of('not_found', notFound());
  reply.header(SOURCE_HEADER, found.source);
  return itemToJson(found.item);
};

export const registerItemRoutes = (app: FastifyInstance, context: RouteContext): void => {
  app.get<{ Params: { key: string } }>('/api/v1/items/:key', { schema: { params: keyParamsSchema } }, async (request, reply) => {
    const key = parseKey(request.params.key, 'key');
    return sendItem(context, key, wantsFresh(request.headers['cache-control']), reply, () => `no item with key ${toHex(key)} was found`);
  });

  app.get<{ Querystring: { public_key: string; name: string } }>('/api/v1/items', { schema: { querystring: itemQuerySchema } }, async (request, reply) => {
    const { name } = request.query;
    const publicKey = parsePublicKey(request.query.public_key, 'public_key');
    const key = itemKey(publicKey, name);
    return sendItem(context, key, wantsFresh(request.headers['cache-control']), reply, () => `public key ${toHex(publicKey)} has no item named ${JSON.stringify(name)}`);
  });
};
