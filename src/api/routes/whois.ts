/**
 * GET /api/v1/whois/{public_key}: the profile a node published under its own
 * public key (the item named by the key's hex), or 404.
 */
import type { FastifyInstance } from 'fastify';
import { toHex } from '../../crypto/bytes.js';
import { ApiError } from '../errors.js';
import { parsePublicKey } from '../item-json.js';
import { publicKeyParamsSchema } from '../schemas.js';
import type { WhoisJson } from '../types.js';
import type { RouteContext } from './context.js';

export const registerWhoisRoutes = (app: FastifyInstance, { node }: RouteContext): void => {
  app.get<{ Params: { public_key: string } }>('/api/v1/whois/:public_key', { schema: { params: publicKeyParamsSchema } }, async (request): Promise<WhoisJson> => {
    const publicKey = parsePublicKey(request.params.public_key, 'public_key');
    const profile = await node.whois(publicKey);
    if (!profile) throw ApiError.of('not_found', `no profile was found for public key ${toHex(publicKey)}`);
    return { public_key: toHex(publicKey), profile };
  });
};
