/**
 * Secure by default (docs/api.md, "Security"): a fastify plugin whose hooks
 * apply to every route of the app, the WebSocket upgrade and /metrics
 * included. It refuses a Host that is not the API's own (DNS rebinding), a
 * write or upgrade from a web page of another origin, and too many requests
 * without the token; it sends CORS headers only to configured origins, and
 * security headers on every answer.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type TokenCheck } from './auth.js';
import { ApiError } from './errors.js';
import type { RateLimiter } from './rate-limit.js';

/** No inline scripts or styles, nothing from elsewhere, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
});

/** The names every API answers to, on its own port. */
export const LOOPBACK_HOSTS: readonly string[] = Object.freeze(['127.0.0.1', 'localhost', '[::1]']);

const STATE_CHANGING = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);
const CORS_METHODS = 'GET, PUT, POST';
const CORS_REQUEST_HEADERS = 'authorization, content-type, accept, cache-control';
const CORS_EXPOSED_HEADERS = 'location, retry-after, x-drogulus-source';

export interface SecurityPluginOptions {
  /** The names the API answers to (allowedHostsOf). */
  readonly allowedHosts: readonly AllowedHost[];
  /** The API's port; by default the listening server's, read on each request. */
  readonly port?: number;
  /** Web origins (`https://app.example`) that get CORS headers and may write. */
  readonly corsOrigins?: readonly string[];
  /** Limits requests without the token; none when undefined. */
  readonly limiter: RateLimiter | undefined;
  readonly tokenCheck: TokenCheck;
}

interface HostName {
  readonly name: string;
  readonly port: number;
}

export interface AllowedHost {
  readonly name: string;
  /** undefined: the API's own port. */
  readonly port: number | undefined;
}

/** A host and optional port (a Host header, an allowedHosts entry) as name and port; undefined when it is not one. */
const splitHost = (value: string): { name: string; port: number | undefined } | undefined => {
  const match = /^(\[[0-9a-f:.]+\]|[^\s:[\]/@]+)(?::(\d{1,5}))?$/.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name: match[1].replace(/\.$/, ''), port };
};

/** A Host header as name and port (80 when it names none); undefined when it is not one. */
export const parseHost = (value: string): HostName | undefined => {
  const host = splitHost(value);
  return host && { name: host.name, port: host.port ?? 80 };
};

/** An IPv6 literal in the brackets a Host header puts it in. */
const bracketed = (host: string): string => (host.split(':').length > 2 && !host.startsWith('[') ? `[${host}]` : host);

/** The names the API answers to: the loopback names, its listening address unless a wildcard, and `allowedHosts`. Throws RangeError for a bad entry. */
export const allowedHostsOf = (host: string | undefined, allowedHosts: readonly string[] = []): readonly AllowedHost[] => {
  const entries: AllowedHost[] = LOOPBACK_HOSTS.map((name) => ({ name, port: undefined }));
  if (host !== undefined && !WILDCARD_HOSTS.has(host.trim())) entries.push({ name: bracketed(host.trim().toLowerCase()), port: undefined });
  for (const entry of allowedHosts) {
    const parsed = splitHost(bracketed(entry));
    if (!parsed) throw new RangeError(`allowedHosts: ${JSON.stringify(entry)} is not a host name or host:port`);
    entries.push(parsed);
  }
  return entries;
};

const normaliseOrigin = (origin: string): string => origin.trim().toLowerCase().replace(/\/+$/, '');

/** The port the API listens on, when it is known. */
const apiPortOf = (app: FastifyInstance, configured: number | undefined): number | undefined => {
  if (configured !== undefined && configured > 0) return configured;
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : undefined;
};

const isUpgrade = (request: FastifyRequest): boolean => (request.headers.upgrade ?? '').toLowerCase() === 'websocket';

const securityPluginBody = async (app: FastifyInstance, options: SecurityPluginOptions): Promise<void> => {
  const allowed = options.allowedHosts;
  const corsOrigins = new Set((options.corsOrigins ?? []).map(normaliseOrigin));
  const { limiter, tokenCheck } = options;

  /** Whether `host` is one of the API's names on the API's port (any port while the port is unknown, as under inject()). */
  const isOwnHost = (host: HostName): boolean => {
    const apiPort = apiPortOf(app, options.port);
    return allowed.some((entry) => entry.name === host.name && (entry.port ?? apiPort ?? host.port) === host.port);
  };

  const isOwnOrigin = (origin: string): boolean => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' || url.origin === 'null') return false;
    return isOwnHost({ name: url.hostname, port: url.port === '' ? 80 : Number(url.port) });
  };

  const corsOriginOf = (request: FastifyRequest): string | undefined => {
    const origin = request.headers.origin;
    return origin !== undefined && corsOrigins.has(normaliseOrigin(origin)) ? origin : undefined;
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const host = parseHost(request.headers.host ?? '');
    if (!host || !isOwnHost(host)) {
      throw ApiError.of('forbidden_host', `this API does not answer to the host ${JSON.stringify(request.headers.host ?? '')}: use 127.0.0.1, localhost or [::1] with its port, or add the name to allowedHosts`);
    }

    if (limiter) {
      const presented = bearerToken(request.headers.authorization);
      if (presented === undefined || !tokenCheck(presented)) {
        const decision = limiter.take(request.ip);
        if (!decision.ok) {
          reply.header('retry-after', String(decision.retryAfterS));
          throw ApiError.of('too_many_requests', `too many requests without the token from ${request.ip}: try again in ${decision.retryAfterS} s`, {
            details: { retry_after_s: decision.retryAfterS },
          });
        }
      }
    }

    const origin = request.headers.origin;
    const corsOrigin = corsOriginOf(request);
    if (origin !== undefined && (STATE_CHANGING.has(request.method) || isUpgrade(request)) && corsOrigin === undefined && !isOwnOrigin(origin)) {
      throw ApiError.of('forbidden_origin', `a web page from ${JSON.stringify(origin)} may not ${isUpgrade(request) ? 'open a WebSocket to' : 'write to'} this API (add it to corsOrigins to allow it)`);
    }
    if (corsOrigin !== undefined) {
      reply.header('access-control-allow-origin', corsOrigin).header('vary', 'Origin').header('access-control-expose-headers', CORS_EXPOSED_HEADERS);
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        return reply
          .code(204)
          .header('access-control-allow-methods', CORS_METHODS)
          .header('access-control-allow-headers', CORS_REQUEST_HEADERS)
          .header('access-control-max-age', '600')
          .send();
      }
    }
    return undefined;
  });

  // A route may set its own (stricter) policy or caching, as the web UI's pages do; every other answer gets these.
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
};

/** Registered at the app's root (fastify's skip-override), so its hooks guard every route. */
export const securityPlugin: FastifyPluginAsync<SecurityPluginOptions> = Object.assign(securityPluginBody, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'drogulus-security',
});
