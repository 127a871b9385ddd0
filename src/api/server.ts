/**
 * The node's local HTTP API (docs/api.md, docs/openapi.json): fastify with
 * JSON schemas, one module per resource under routes/. Every error, the
 * framework's included, answers {error: {code, message}}; a 500 never carries
 * the cause, which goes to the log. The caller listens (127.0.0.1 by default
 * in the CLI) and closes.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { DrogulusNode } from '../dht/node.js';
import type { ItemLimits } from '../protocol/item.js';
import { bearerTokenHook } from './auth.js';
import { ApiError, internalError } from './errors.js';
import type { RouteContext } from './routes/context.js';
import { registerItemRoutes } from './routes/items.js';
import { registerPeerRoutes } from './routes/peers.js';
import { registerPublishRoutes } from './routes/publish.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerWhoisRoutes } from './routes/whois.js';

export interface ApiServerOptions {
  readonly node: DrogulusNode;
  /** The bearer token writes need. */
  readonly token: string;
  /** The software version that GET /api/v1/status reports. */
  readonly version: string;
  /** Request and error logging; none when omitted or false. */
  readonly logger?: Logger | false;
  /** Largest request body; default defaultBodyLimitBytes(node's item limits). */
  readonly bodyLimitBytes?: number;
}

/** Room for the largest value as base64 (under 2×) plus the item's other fields. */
export const defaultBodyLimitBytes = (limits: ItemLimits): number => limits.maxValueBytes * 2 + 16 * 1024;

export interface RouteEntry {
  readonly method: string;
  /** In fastify's syntax: /api/v1/items/:key. */
  readonly url: string;
}

const registered = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the app serves, as registered: the openapi test compares these with docs/openapi.json. */
export const apiRoutes = (app: FastifyInstance): readonly RouteEntry[] => registered.get(app) ?? [];

export const createApiServer = (options: ApiServerOptions): FastifyInstance => {
  const { node } = options;
  const bodyLimit = options.bodyLimitBytes ?? defaultBodyLimitBytes(node.options.itemLimits);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit,
    // An item name may be maxNameBytes of UTF-8, each byte percent-encoded as 3 characters.
    routerOptions: { maxParamLength: Math.max(128, node.options.itemLimits.maxNameBytes * 3) },
    exposeHeadRoutes: false,
    // No coercion and no silent removal: a body that does not match its schema is refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // A malformed URL (bad percent-encoding) fails before routing.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).send(ApiError.of('bad_request', error.message).toJSON());
    },
  }) as unknown as FastifyInstance;

  // Bodies are JSON only: fastify's built-in text/plain parser would let a text body reach the schema as a string.
  app.removeContentTypeParser('text/plain');

  const routes: RouteEntry[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = toApiError(error, bodyLimit);
    if (failure.status >= 500) request.log.error({ err: error }, 'API request failed');
    void reply.code(failure.status).send(failure.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(ApiError.of('not_found', `there is no route ${request.method} ${request.url.split('?')[0]}`).toJSON());
  });
  app.addHook('onRequest', async () => {
    if (!isRunning(node)) throw ApiError.of('unavailable', 'the node is stopped');
  });

  const context: RouteContext = { node, version: options.version, requireToken: bearerTokenHook(options.token) };
  registerStatusRoutes(app, context);
  registerItemRoutes(app, context);
  registerPublishRoutes(app, context);
  registerWhoisRoutes(app, context);
  registerPeerRoutes(app, context);
  return app;
};

/** fastify's own errors keep their (safe) messages; anything unexpected becomes a bare 500. */
const toApiError = (error: FastifyError, bodyLimit: number): ApiError => {
  if (error instanceof ApiError) return error;
  if (error.validation) return ApiError.of('bad_request', error.message);
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
    return ApiError.of('payload_too_large', `the request body is larger than the limit of ${bodyLimit} bytes`);
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415) {
    return ApiError.of('unsupported_media_type', 'request bodies must be application/json');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500 && error.code?.startsWith('FST_')) return ApiError.of('bad_request', error.message);
  return internalError();
};

/** DrogulusNode keeps its running flag private; read it where a version exposes `isRunning`. */
const isRunning = (node: DrogulusNode): boolean => !('isRunning' in node) || (node as unknown as { readonly isRunning: boolean }).isRunning !== false;
