/**
 * The node's local HTTP API (docs/api.md, docs/openapi.json): fastify with
 * JSON schemas, one module per resource under routes/, the live WebSocket API
 * and /metrics. Every request passes the security hooks first (security.ts).
 * Every error, the framework's included, answers {error: {code, message}}; a
 * 500 never carries the cause, which goes to the log. The caller listens
 * (127.0.0.1 by default in the CLI) and closes.
 */
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { DrogulusNode } from '../dht/node.js';
import type { ItemLimits } from '../protocol/item.js';
import type { Clock } from '../runtime/clock.js';
import { bearerTokenHook, tokenCheck } from './auth.js';
import { ApiError, internalError } from './errors.js';
import { LiveHub } from './live/hub.js';
import { type LiveSessionInfo, type LiveSettings, resolveLiveSettings } from './live/session.js';
import { ApiMetrics } from './metrics.js';
import { RateLimiter, type RateLimitSettings } from './rate-limit.js';
import type { RouteContext } from './routes/context.js';
import { registerItemRoutes } from './routes/items.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerPeerRoutes } from './routes/peers.js';
import { registerPublishRoutes } from './routes/publish.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerWhoisRoutes } from './routes/whois.js';
import { registerLiveRoutes } from './routes/ws.js';
import { allowedHostsOf, securityPlugin } from './security.js';

export interface ApiServerOptions {
  readonly node: DrogulusNode;
  /** The bearer token writes need. */
  readonly token: string;
  /** The software version that GET /api/v1/status reports. */
  readonly version: string;
  /** Request and error logging; none when omitted or false. */
  readonly logger?: Logger | false;
  /** Largest request body, and largest WebSocket message; default defaultBodyLimitBytes(node's item limits). */
  readonly bodyLimitBytes?: number;
  /** The address the API listens on: a name the Host header may carry (a wildcard such as 0.0.0.0 is not). */
  readonly host?: string;
  /** The port the API listens on; default the listening server's, read on each request. */
  readonly port?: number;
  /** More names the Host header may carry: `name` (on the API's port) or `name:port`. Default none. */
  readonly allowedHosts?: readonly string[];
  /** Web origins that get CORS headers and may write, e.g. `https://app.example`. Default none. */
  readonly corsOrigins?: readonly string[];
  /** The limit of requests without the token, per client address; false turns it off. Default RATE_LIMIT_DEFAULTS on the node's clock. */
  readonly rateLimit?: false | (Partial<RateLimitSettings> & { readonly clock?: Pick<Clock, 'now'> });
  /** Limits of the WebSocket API; each defaults to its LIVE_DEFAULTS value. */
  readonly live?: Partial<LiveSettings>;
}

/** Room for the largest value as base64 (under 2×) plus the item's other fields. */
export const defaultBodyLimitBytes = (limits: ItemLimits): number => limits.maxValueBytes * 2 + 16 * 1024;

export interface RouteEntry {
  readonly method: string;
  /** In fastify's syntax: /api/v1/items/:key. */
  readonly url: string;
}

const registered = new WeakMap<FastifyInstance, RouteEntry[]>();
const hubs = new WeakMap<FastifyInstance, LiveHub>();

/** Every route the app serves, as registered: the openapi test compares these with docs/openapi.json. */
export const apiRoutes = (app: FastifyInstance): readonly RouteEntry[] => registered.get(app) ?? [];

/** The app's open WebSocket connections and what each has buffered: for tests and diagnostics. */
export const liveConnections = (app: FastifyInstance): readonly LiveSessionInfo[] => hubs.get(app)?.connections() ?? [];

export const createApiServer = (options: ApiServerOptions): FastifyInstance => {
  const { node } = options;
  const bodyLimit = options.bodyLimitBytes ?? defaultBodyLimitBytes(node.options.itemLimits);
  const app = Fastify({
    // Typed as fastify's base logger so the instance is the plain FastifyInstance callers expect.
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
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
  });

  // Bodies are JSON only: fastify's built-in text/plain parser would let a text body reach the schema as a string.
  app.removeContentTypeParser('text/plain');

  const routes: RouteEntry[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  const check = tokenCheck(options.token);
  const allowedHosts = allowedHostsOf(options.host, options.allowedHosts);
  const metrics = new ApiMetrics(node);
  const limiter = options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit?.clock ?? node.clock, options.rateLimit ?? {});
  const hub = new LiveHub(node, resolveLiveSettings(options.live));
  hubs.set(app, hub);
  app.addHook('onClose', async () => {
    hub.close();
    metrics.close();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = toApiError(error, bodyLimit);
    if (failure.status >= 500) request.log.error({ err: error }, 'API request failed');
    metrics.countError(failure.code);
    void reply.code(failure.status).send(failure.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    metrics.countError('not_found');
    void reply.code(404).send(ApiError.of('not_found', `there is no route ${request.method} ${request.url.split('?')[0]}`).toJSON());
  });

  // Plugins load in order when the app starts, and their hooks run in that
  // order: the security checks first, at the root, so they guard every route;
  // then WebSocket support, which must be loaded before the WebSocket route is
  // declared; then the check that the node is running.
  app.register(securityPlugin, {
    allowedHosts,
    port: options.port,
    corsOrigins: options.corsOrigins,
    limiter,
    tokenCheck: check,
  });
  app.register(websocket, {
    options: { maxPayload: bodyLimit, perMessageDeflate: false },
    // A client that vanishes mid-frame is not the API's failure.
    errorHandler: (error, socket, request) => {
      request.log.debug({ err: error }, 'WebSocket connection failed');
      socket.terminate();
    },
  });
  app.register(
    atRoot(async (root) => {
      root.addHook('onRequest', async () => {
        if (!isRunning(node)) throw ApiError.of('unavailable', 'the node is stopped');
      });
      // An upgrade refused with an HTTP answer (Host, Origin, limits) leaves a
      // socket no one reads, which would keep the server from closing: end it.
      root.addHook('onResponse', async (request) => {
        if ((request.headers.upgrade ?? '').toLowerCase() === 'websocket') request.raw.socket?.destroy();
      });
    }),
  );

  const context: RouteContext = { node, version: options.version, requireToken: bearerTokenHook(check), tokenCheck: check, limiter, metrics };
  registerStatusRoutes(app, context);
  registerItemRoutes(app, context);
  registerPublishRoutes(app, context);
  registerWhoisRoutes(app, context);
  registerPeerRoutes(app, context);
  registerMetricsRoutes(app, context);
  app.register(async (scope) => registerLiveRoutes(scope, { ...context, hub }));
  return app;
};

/** Client errors (fastify's parsing and validation) keep their messages; anything else becomes a bare 500. */
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
  if (status === 404) return ApiError.of('not_found', error.message);
  if (status >= 400 && status < 500) return ApiError.of('bad_request', error.message);
  return internalError();
};

/** A plugin whose hooks apply to the whole app (fastify's skip-override), loaded in order with the others. */
const atRoot = (plugin: FastifyPluginAsync): FastifyPluginAsync => Object.assign(plugin, { [Symbol.for('skip-override')]: true });

/** DrogulusNode keeps its running flag private; read it where a version exposes `isRunning`. */
const isRunning = (node: DrogulusNode): boolean => !('isRunning' in node) || (node as unknown as { readonly isRunning: boolean }).isRunning !== false;
