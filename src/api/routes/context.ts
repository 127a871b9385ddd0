/**
 * What every route module is given: the node, the software version, and the
 * hook that guards writes. Route modules only translate HTTP to node calls.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DrogulusNode } from '../../dht/node.js';

export interface RouteContext {
  readonly node: DrogulusNode;
  readonly version: string;
  /** onRequest hook for routes that need the bearer token. */
  readonly requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}
