/**
 * The bearer token that authorises writes (docs/api.md, "Authorisation"),
 * over HTTP (the Authorization header) and over the WebSocket (an auth
 * message). Both sides are hashed before the constant-time comparison, so
 * neither the token's bytes nor its length leak through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const REALM = 'drogulus';
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** True when `presented` is the token; the comparison takes the same time whatever is presented. */
export type TokenCheck = (presented: string) => boolean;

export const tokenCheck = (token: string): TokenCheck => {
  if (token.length === 0) throw new RangeError('the API token must not be empty');
  const expected = sha256(token);
  return (presented) => timingSafeEqual(sha256(presented), expected);
};

/** The token of an `Authorization: Bearer <token>` header, if the header has that form. */
export const bearerToken = (authorization: string | undefined): string | undefined => BEARER.exec(authorization ?? '')?.[1];

/** An onRequest hook that refuses requests without `Authorization: Bearer <token>`. */
export const bearerTokenHook = (check: TokenCheck) => {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined) {
      reply.header('www-authenticate', `Bearer realm="${REALM}"`);
      throw ApiError.of('unauthorized', 'this request needs the header Authorization: Bearer <token>, with the token from the api-token file in the data dir');
    }
    if (!check(presented)) {
      reply.header('www-authenticate', `Bearer realm="${REALM}", error="invalid_token"`);
      throw ApiError.of('unauthorized', 'the bearer token is wrong: use the one in the api-token file of this node\'s data dir');
    }
  };
};
