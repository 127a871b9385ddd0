/**
 * A PUT body (HTTP PUT /api/v1/items/{name}, or the WebSocket's set message)
 * checked against the item limits and turned into what node.set takes.
 * Every check that needs no network happens here, so a refused body is
 * never signed or sent.
 */
import type { DrogulusNode, SetOptions } from '../dht/node.js';
import { ErrorCode } from '../protocol/errors.js';
import { checkItemShape, itemKey, type ItemValue } from '../protocol/item.js';
import { SOFTWARE_VERSION } from '../protocol/version.js';
import { badRequest, fromProtocolError } from './errors.js';
import { putValue, requireWellFormed } from './item-json.js';
import type { Replication } from './replication-reply.js';
import type { PutItemBody } from './types.js';

/**
 * Checks `body` (already valid against putItemBodySchema) for the item `name`;
 * throws the ApiError a bad one gets. Returns the replication that stores it.
 */
export const preparePut = (node: DrogulusNode, name: string, body: PutItemBody): Replication => {
  const meta = body.meta ?? {};
  requireWellFormed(name, 'name');
  for (const [k, v] of Object.entries(meta)) {
    requireWellFormed(k, 'body/meta key');
    requireWellFormed(v, `body/meta/${k}`);
  }
  const value: ItemValue = putValue(body.value, body.value_type ?? 'json');
  const now = node.clock.now();
  const problem = checkItemShape(
    { key: itemKey(node.publicKey, name), value, timestamp: now, expires: 0, createdWith: SOFTWARE_VERSION, publicKey: node.publicKey, name, meta },
    node.options.itemLimits,
  );
  if (problem) throw problem.code === ErrorCode.RequestTooBig ? fromProtocolError(problem.code, problem.message) : badRequest(problem.message, problem.code);
  const expires = body.expires ?? 0;
  if (now + expires * 1000 > Number.MAX_SAFE_INTEGER) throw badRequest('body/expires is too far in the future');
  const duplicate = body.duplicate ?? node.options.duplicationCount;
  const settings: SetOptions = { expires, duplicate, meta };
  return {
    run: (options) => node.set(name, value, { ...options, ...settings }),
  };
};
