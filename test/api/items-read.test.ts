/**
 * Reads through the API on an 8-node Testnet in virtual time: by key and by
 * public key and name, from the node's copy or, with Cache-Control: no-cache,
 * from a fresh lookup; 404 when nobody has it, 400 for malformed parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemToJson } from '../../src/api/item-json.js';
import { SOURCE_HEADER, wantsFresh } from '../../src/api/routes/items.js';
import { toHex } from '../../src/crypto/bytes.js';
import { sha512 } from '../../src/crypto/hash.js';
import { Identity } from '../../src/crypto/identity.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { createItem, itemKey } from '../../src/protocol/item.js';
import { auth, body, createApiNet, type ApiNet } from './fixtures.js';

let api: ApiNet;
let a: DrogulusNode;
let b: DrogulusNode;
let c: DrogulusNode;
let key: string;

beforeAll(async () => {
  api = await createApiNet(8, 21);
  [a, b, c] = api.net.nodes;
  const response = await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/shared', headers: auth, payload: { value: { n: 1 } } });
  key = body(response).key;
});

afterAll(() => api.close());

const get = (node: DrogulusNode, url: string, headers: Record<string, string> = {}) => api.call(api.app(node), { method: 'GET', url, headers });

describe('GET /api/v1/items/{key}', () => {
  it('returns the item, from the node\'s own copy without a lookup', async () => {
    const lookups = b.stats.lookups;
    const response = await get(b, `/api/v1/items/${key}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers[SOURCE_HEADER]).toBe('local');
    expect(body(response)).toMatchObject({ key, value_type: 'json', value: '{"n":1}', json: { n: 1 }, name: 'shared', public_key: toHex(a.publicKey) });
    expect(b.stats.lookups).toBe(lookups);
  });

  it('looks the item up on the network when the request says Cache-Control: no-cache', async () => {
    for (const cacheControl of ['no-cache', 'max-age=0, No-Cache']) {
      const lookups = b.stats.lookups;
      const response = await get(b, `/api/v1/items/${key}`, { 'cache-control': cacheControl });
      expect(response.statusCode).toBe(200);
      expect(response.headers[SOURCE_HEADER]).toBe('network');
      expect(body(response).key).toBe(key);
      expect(b.stats.lookups).toBe(lookups + 1);
    }
  });

  it('keeps its own copy when a fresh lookup finds nothing', async () => {
    const stranger = Identity.fromSeed(sha512(Buffer.from('stranger')).subarray(0, 32));
    const item = createItem(stranger, { name: 'only here', value: '"mine"', timestamp: api.net.clock.now() });
    c.store.put(item, api.net.clock.now());
    const lookups = c.stats.lookups;
    const response = await get(c, `/api/v1/items/${toHex(item.key)}`, { 'cache-control': 'no-cache' });
    expect(c.stats.lookups).toBe(lookups + 1);
    expect(response.statusCode).toBe(200);
    expect(response.headers[SOURCE_HEADER]).toBe('local');
    expect(body(response)).toEqual(itemToJson(item));
  });

  it('answers 404 not_found, after a lookup, for a key nobody holds', async () => {
    const unknown = toHex(sha512(Buffer.from('nothing here')));
    const lookups = b.stats.lookups;
    const response = await get(b, `/api/v1/items/${unknown}`);
    expect(response.statusCode).toBe(404);
    expect(body(response)).toEqual({ error: { code: 'not_found', message: `no item with key ${unknown} was found` } });
    expect(b.stats.lookups).toBe(lookups + 1);
  });

  it('answers 400 naming the key parameter when it is not 128 hex characters', async () => {
    for (const bad of ['abc', key.slice(0, 126), `${key}00`, `${key.slice(0, 127)}x`, '']) {
      const response = await get(b, `/api/v1/items/${bad}`);
      expect(response.statusCode, bad).toBe(400);
      expect(body(response).error.code).toBe('bad_request');
      expect(body(response).error.message).toMatch(/^key must be 128 hex characters \(a 64-byte item key\)/);
    }
  });

  it('takes the key in upper case too', async () => {
    expect((await get(b, `/api/v1/items/${key.toUpperCase()}`)).statusCode).toBe(200);
  });
});

describe('GET /api/v1/items?public_key=&name=', () => {
  const byName = (publicKey: string, name: string) => `/api/v1/items?${new URLSearchParams({ public_key: publicKey, name })}`;

  it('returns the item a public key published under a name', async () => {
    const response = await get(c, byName(toHex(a.publicKey), 'shared'));
    expect(response.statusCode).toBe(200);
    expect(body(response).key).toBe(key);
  });

  it('forces a network lookup with Cache-Control: no-cache', async () => {
    const lookups = c.stats.lookups;
    const response = await get(c, byName(toHex(a.publicKey), 'shared'), { 'cache-control': 'no-cache' });
    expect(response.headers[SOURCE_HEADER]).toBe('network');
    expect(c.stats.lookups).toBe(lookups + 1);
  });

  it('answers 404 not_found for a name the key never published', async () => {
    const response = await get(c, byName(toHex(a.publicKey), 'never'));
    expect(response.statusCode).toBe(404);
    expect(body(response).error).toEqual({ code: 'not_found', message: `public key ${toHex(a.publicKey)} has no item named "never"` });
  });

  it('answers 400 naming public_key when it is not 64 hex characters', async () => {
    const response = await get(c, byName('00ff', 'shared'));
    expect(response.statusCode).toBe(400);
    expect(body(response).error.message).toBe('public_key must be 64 hex characters (a 32-byte Ed25519 public key), got 4 characters');
  });

  it('answers 400 when a query parameter is missing or repeated', async () => {
    const missing = await get(c, `/api/v1/items?public_key=${toHex(a.publicKey)}`);
    expect(missing.statusCode).toBe(400);
    expect(body(missing).error.message).toBe("querystring must have required property 'name'");
    const repeated = await get(c, `/api/v1/items?public_key=${toHex(a.publicKey)}&name=a&name=b`);
    expect(repeated.statusCode).toBe(400);
    expect(body(repeated).error.message).toBe('querystring/name must be string');
  });

  it('finds the empty name, whose key is the public key\'s node id', async () => {
    await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/', headers: auth, payload: { value: 'root' } });
    const response = await get(c, byName(toHex(a.publicKey), ''));
    expect(body(response)).toMatchObject({ key: toHex(a.nodeId), name: '', json: 'root' });
    expect(toHex(itemKey(a.publicKey, ''))).toBe(toHex(a.nodeId));
  });
});

describe('the Cache-Control request header', () => {
  it('asks for a fresh lookup only with the no-cache directive', () => {
    expect(wantsFresh('no-cache')).toBe(true);
    expect(wantsFresh('NO-CACHE')).toBe(true);
    expect(wantsFresh('max-age=0, no-cache')).toBe(true);
    expect(wantsFresh('no-cache="set-cookie"')).toBe(true);
    expect(wantsFresh(undefined)).toBe(false);
    expect(wantsFresh('no-store')).toBe(false);
    expect(wantsFresh('max-age=60')).toBe(false);
    expect(wantsFresh('x-no-cache')).toBe(false);
  });
});
