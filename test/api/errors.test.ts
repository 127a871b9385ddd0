/**
 * Errors outside the routes' own checks: unknown routes, malformed URLs, a
 * failure inside the node (a 500 that keeps its cause in the log), and a
 * stopped node (503). Every one answers {error: {code, message}}.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { auth, body, createApiNet, type ApiNet, TOKEN, VERSION } from './fixtures.js';

let api: ApiNet;
let a: DrogulusNode;

beforeEach(async () => {
  api = await createApiNet(3, 41);
  a = api.net.nodes[0];
});

afterEach(async () => {
  vi.restoreAllMocks();
  await api.close();
});

describe('API errors', () => {
  it('answers 404 not_found in the error shape for a route that does not exist', async () => {
    for (const [method, url] of [['GET', '/api/v1/nothing'], ['DELETE', `/api/v1/items/${toHex(a.nodeId)}`], ['GET', '/'], ['POST', '/api/v1/status']] as const) {
      const response = await api.call(api.app(a), { method, url });
      expect(response.statusCode).toBe(404);
      expect(body(response)).toEqual({ error: { code: 'not_found', message: `there is no route ${method} ${url}` } });
    }
  });

  it('answers 400 bad_request for a URL with broken percent-encoding', async () => {
    const response = await api.call(api.app(a), { method: 'GET', url: '/api/v1/items/%zz' });
    expect(response.statusCode).toBe(400);
    expect(body(response).error.code).toBe('bad_request');
  });

  it('answers 500 internal without the cause, and logs the cause', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = createApiServer({ node: a, token: TOKEN, version: VERSION, logger: pino({ level: 'error' }, sink) });
    vi.spyOn(a.store, 'get').mockImplementation(() => {
      throw new Error('disk failure at /var/lib/drogulus/items.db');
    });
    const response = await api.call(app, { method: 'GET', url: `/api/v1/items/${toHex(a.nodeId)}` });
    expect(response.statusCode).toBe(500);
    expect(body(response)).toEqual({ error: { code: 'internal', message: 'internal error: the node could not complete this request (the cause is in its log)' } });
    expect(response.body).not.toContain('disk failure');
    expect(lines.join('')).toContain('disk failure at /var/lib/drogulus/items.db');
    await app.close();
  });

  it('answers 503 unavailable once the node has stopped', async () => {
    const app = api.app(a);
    await a.stop();
    // DrogulusNode keeps its running flag private; until it exposes `isRunning`, stand in for it.
    if (!('isRunning' in a)) Object.defineProperty(a, 'isRunning', { value: false });
    for (const request of [{ method: 'GET', url: '/api/v1/status' }, { method: 'PUT', url: '/api/v1/items/x', headers: auth, payload: { value: 1 } }] as const) {
      const response = await api.call(app, request);
      expect(response.statusCode).toBe(503);
      expect(body(response)).toEqual({ error: { code: 'unavailable', message: 'the node is stopped' } });
    }
  });

  it('refuses to start without a token', () => {
    expect(() => createApiServer({ node: a, token: '', version: VERSION })).toThrow(/token must not be empty/);
  });
});
