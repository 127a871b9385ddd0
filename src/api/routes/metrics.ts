/**
 * GET /metrics: the node's metrics in the Prometheus text format
 * (docs/api.md, "Metrics"). No token: they say nothing a peer could not
 * count, but the Host check and the rate limit apply as everywhere.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

export const registerMetricsRoutes = (app: FastifyInstance, { metrics }: RouteContext): void => {
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
};
