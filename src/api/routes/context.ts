/**
 * What every route module is given: the node, the software version, the
 * hook that guards writes, the rate limiter and the metrics. Route modules
 * only translate HTTP (or WebSocket messages) to node calls.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DrogulusNode } from '../../dht/node.js';
import type { TokenCheck } from '../auth.js';
import type { ApiMetrics } from '../metrics.js';
import type { RateLimiter } from '../rate-limit.js';

export interface RouteContext {
  readonly node: DrogulusNode;
  readonly version: string;
  /** onRequest hook for routes that need the bearer token. */
  readonly requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** The same check, for tokens that do not come in a header (the WebSocket's auth message). */
  readonly tokenCheck: TokenCheck;
  /** The limit on attempts without the token; none when rate limiting is off. */
  readonly limiter: RateLimiter | undefined;
  readonly metrics: ApiMetrics;
}
