/**
 * Writing items. PUT /api/v1/items/{name} (bearer token): the node signs the
 * value with its own key and replicates it. POST /api/v1/items: an item signed
 * elsewhere is checked as a Store would check it, then replicated; no token,
 * since the signature is the authority. Nothing is sent before every check passes.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../protocol/errors.js';
import { checkItem, compareItemVersions } from '../../protocol/item.js';
import { fromProtocolError } from '../errors.js';
import { itemFromJson, type ItemJsonInput } from '../item-json.js';
import { preparePut } from '../put-item.js';
import { replyWithReplication } from '../replication-reply.js';
import { itemBodySchema, nameParamsSchema, putItemBodySchema } from '../schemas.js';
import type { PutItemBody } from '../types.js';
import type { RouteContext } from './context.js';

export const registerPublishRoutes = (app: FastifyInstance, { node, requireToken }: RouteContext): void => {
  app.put<{ Params: { name: string }; Body: PutItemBody }>(
    '/api/v1/items/:name',
    { schema: { params: nameParamsSchema, body: putItemBodySchema(node.options.k) }, onRequest: requireToken },
    async (request, reply) => replyWithReplication(request, reply, preparePut(node, request.params.name, request.body)),
  );

  app.post<{ Body: ItemJsonInput }>('/api/v1/items', { schema: { body: itemBodySchema } }, async (request, reply) => {
    const item = itemFromJson(request.body, node.options.itemLimits);
    const now = node.clock.now();
    const problem = checkItem(item, now);
    if (problem) throw fromProtocolError(problem.code, problem.message);
    const skewMs = item.timestamp - now;
    if (skewMs > node.options.maxClockSkewMs) {
      throw fromProtocolError(ErrorCode.BadRequest, `the item timestamp is ${skewMs} ms in the future, more than the ${node.options.maxClockSkewMs} ms allowed`);
    }
    const held = node.store.get(item.key)?.item;
    if (held && compareItemVersions(item, held) < 0) {
      throw fromProtocolError(ErrorCode.SupersededValue, `this node holds a newer version of the item, with timestamp ${held.timestamp} (this one has ${item.timestamp})`, {
        held_timestamp: held.timestamp,
      });
    }
    const duplicate = node.options.duplicationCount;
    return replyWithReplication(request, reply, {
      run: (options) => node.replicate(item, duplicate, options),
    });
  });
};
