/**
 * Secure by default: every refusal happens before anything is signed, sent
 * or stored (store sizes are compared before and after), and every answer
 * carries the security headers.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServerOptions, createApiServer } from '../../src/api/server.js';
import { CONTENT_SECURITY_POLICY, parseHost } from '../../src/api/security.js';
import { RateLimiter } from '../../src/api/rate-limit.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { API_AUTHORITY, API_PORT, auth, body, createApiNet, type ApiNet, TOKEN, VERSION } from './fixtures.js';

let api: ApiNet;
let a: DrogulusNode;
const extraApps: FastifyInstance[] = [];

const storeSizes = (): number[] => api.net.nodes.map((n) => n.store.size);

const server = (options: Partial<ApiServerOptions> = {}): FastifyInstance => {
  const app = createApiServer({ node: a, token: TOKEN, version: VERSION, host: '127.0.0.1', port: API_PORT, ...options });
  extraApps.push(app);
  return app;
};

const put = (app: FastifyInstance, headers: Record<string, string>, payload: object = { value: 'x' }) =>
  api.call(app, { method: 'PUT', url: '/api/v1/items/guarded', headers: { ...auth, ...headers }, payload });

/** Runs `work` and checks that no node stored anything meanwhile. */
const storesNothing = async <T>(work: () => Promise<T>): Promise<T> => {
  const before = storeSizes();
  const result = await work();
  expect(storeSizes()).toEqual(before);
  return result;
};

beforeAll(async () => {
  api = await createApiNet(3, 61);
  a = api.net.nodes[0];
});

afterAll(async () => {
  await Promise.all(extraApps.map((app) => app.close()));
  await api.close();
});

describe('the Host check', () => {
  it('answers 421 forbidden_host for a Host that is not the API\'s, whatever the request, and stores nothing', async () => {
    for (const host of ['rebound.example:1909', 'rebound.example', `127.0.0.1:${API_PORT + 1}`, 'localhost', '', '127.0.0.1:1909@evil']) {
      const write = await storesNothing(() => put(api.app(a), { host }));
      expect(write.statusCode, host).toBe(421);
      expect(body(write).error.code).toBe('forbidden_host');
      const read = await api.call(api.app(a), { method: 'GET', url: '/api/v1/status', headers: { host } });
      expect(read.statusCode, host).toBe(421);
    }
  });

  it('answers to 127.0.0.1, localhost and [::1] on its port, and to the names in allowedHosts', async () => {
    const app = server({ allowedHosts: ['drogulus.lan', 'proxy.lan:8080', '::1'] });
    for (const host of [API_AUTHORITY, `localhost:${API_PORT}`, `[::1]:${API_PORT}`, `LOCALHOST:${API_PORT}`, `drogulus.lan:${API_PORT}`, 'proxy.lan:8080']) {
      expect((await api.call(app, { method: 'GET', url: '/api/v1/status', headers: { host } })).statusCode, host).toBe(200);
    }
    expect((await api.call(app, { method: 'GET', url: '/api/v1/status', headers: { host: 'proxy.lan:1909' } })).statusCode).toBe(421);
  });

  it('refuses to start with an allowedHosts entry that is not a host name or host:port', () => {
    expect(() => createApiServer({ node: a, token: TOKEN, version: VERSION, allowedHosts: ['http://drogulus.lan/'] })).toThrow(RangeError);
  });

  it('parses Host headers into name and port, and refuses what is not one', () => {
    expect(parseHost('LocalHost:1909')).toEqual({ name: 'localhost', port: 1909 });
    expect(parseHost('[::1]:80')).toEqual({ name: '[::1]', port: 80 });
    expect(parseHost('example.org')).toEqual({ name: 'example.org', port: 80 });
    for (const bad of ['', 'a b', 'user@host', 'host:99999', 'host:', '::1']) expect(parseHost(bad), bad).toBeUndefined();
  });
});

describe('the Origin check', () => {
  it('refuses a write from another origin with 403 forbidden_origin, and stores nothing', async () => {
    for (const origin of ['http://evil.example', 'null', `https://127.0.0.1:${API_PORT}`, `http://127.0.0.1:${API_PORT + 1}`]) {
      const response = await storesNothing(() => put(api.app(a), { origin }));
      expect(response.statusCode, origin).toBe(403);
      expect(body(response).error.code).toBe('forbidden_origin');
    }
    const post = await storesNothing(() => api.call(api.app(a), { method: 'POST', url: '/api/v1/items', headers: { origin: 'http://evil.example' }, payload: {} }));
    expect(post.statusCode).toBe(403);
  });

  it('allows writes from its own origin and from programs that send no Origin', async () => {
    expect((await put(api.app(a), { origin: `http://${API_AUTHORITY}` }, { value: 1, duplicate: 1 })).statusCode).toBe(201);
    expect((await put(api.app(a), { origin: `http://localhost:${API_PORT}` }, { value: 2, duplicate: 1 })).statusCode).toBe(201);
    expect((await put(api.app(a), {}, { value: 3, duplicate: 1 })).statusCode).toBe(201);
  });

  it('lets any page read, but sends no CORS headers unless the origin is configured', async () => {
    const response = await api.call(api.app(a), { method: 'GET', url: '/api/v1/status', headers: { origin: 'http://evil.example' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await api.call(api.app(a), { method: 'OPTIONS', url: '/api/v1/items/x', headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' } });
    expect(preflight.statusCode).toBe(404);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('grants CORS, preflight and writes to the configured origins only', async () => {
    const app = server({ corsOrigins: ['https://app.example'] });
    const preflight = await api.call(app, { method: 'OPTIONS', url: '/api/v1/items/x', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': expect.stringContaining('PUT'),
      'access-control-allow-headers': expect.stringContaining('authorization'),
      vary: 'Origin',
    });
    const write = await put(app, { origin: 'https://app.example' }, { value: 4, duplicate: 1 });
    expect(write.statusCode).toBe(201);
    expect(write.headers['access-control-allow-origin']).toBe('https://app.example');
    expect((await put(app, { origin: 'https://other.example' })).statusCode).toBe(403);
  });
});

describe('the token, bodies and the rate limit', () => {
  it('refuses a write without the token (401) or with a wrong one, and stores nothing', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
      const response = await storesNothing(() => api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/x', headers, payload: { value: 1 } }));
      expect(response.statusCode).toBe(401);
      expect(body(response).error.code).toBe('unauthorized');
    }
  });

  it('refuses a body over the limit with 413, and stores nothing', async () => {
    const app = server({ bodyLimitBytes: 1024 });
    const response = await storesNothing(() => put(app, {}, { value: 'x'.repeat(2000) }));
    expect(response.statusCode).toBe(413);
    expect(body(response).error.code).toBe('payload_too_large');
  });

  it('answers 429 with Retry-After once an address has spent its burst without the token, and refills with the clock', async () => {
    let nowMs = 0;
    const app = server({ rateLimit: { burst: 3, perSecond: 0.5, clock: { now: () => nowMs } } });
    const status = () => api.call(app, { method: 'GET', url: '/api/v1/status' });
    for (let i = 0; i < 3; i++) expect((await status()).statusCode).toBe(200);
    const limited = await storesNothing(() => put(app, { authorization: 'Bearer wrong' }));
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('2');
    expect(body(limited).error).toMatchObject({ code: 'too_many_requests', details: { retry_after_s: 2 } });
    expect((await status()).statusCode).toBe(429);
    // The token is not limited.
    expect((await api.call(app, { method: 'GET', url: '/api/v1/status', headers: auth })).statusCode).toBe(200);
    nowMs += 2000;
    expect((await status()).statusCode).toBe(200);
    expect((await status()).statusCode).toBe(429);
  });

  it('forgets the least recently seen address first when it tracks too many', () => {
    const limiter = new RateLimiter({ now: () => 0 }, { burst: 1, perSecond: 1, maxAddresses: 2 });
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('b').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('c').ok).toBe(true);
    expect(limiter.size).toBe(2);
    // b was forgotten, so it starts with a full bucket again; a was not.
    expect(limiter.take('b').ok).toBe(true);
    expect(limiter.take('c').ok).toBe(false);
  });
});

describe('security headers', () => {
  it('are on every answer: success, errors, refusals, metrics', async () => {
    const requests = [
      { method: 'GET', url: '/api/v1/status' },
      { method: 'GET', url: `/api/v1/items/${toHex(a.nodeId)}` },
      { method: 'GET', url: '/api/v1/nothing' },
      { method: 'PUT', url: '/api/v1/items/x', payload: { value: 1 } },
      { method: 'GET', url: '/api/v1/status', headers: { host: 'rebound.example' } },
      { method: 'GET', url: '/metrics' },
    ] as const;
    for (const request of requests) {
      const response = await api.call(api.app(a), request);
      expect(response.headers, `${request.method} ${request.url}`).toMatchObject({
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
    }
  });

  it('forbid inline scripts and framing in the content security policy', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });
});
