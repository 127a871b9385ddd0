/**
 * Writes through the API on an 8-node Testnet in virtual time: PUT signs with
 * the node's key behind the bearer token, POST takes items signed elsewhere;
 * every refusal answers {error} with its status and stores nothing anywhere.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itemToJson } from '../../src/api/item-json.js';
import type { ReplicationEvent } from '../../src/api/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import { sha512 } from '../../src/crypto/hash.js';
import { Identity } from '../../src/crypto/identity.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { createItem, DEFAULT_ITEM_LIMITS, itemKey, itemSigningBytes, type Item, type UnsignedItem } from '../../src/protocol/item.js';
import { minutes } from '../../src/runtime/clock.js';
import { auth, body, createApiNet, type ApiNet, TOKEN } from './fixtures.js';

const elsewhere = Identity.fromSeed(sha512(Buffer.from('a publisher with no node')).subarray(0, 32));

let api: ApiNet;
let a: DrogulusNode;
let b: DrogulusNode;

beforeEach(async () => {
  api = await createApiNet(8, 11);
  [a, b] = api.net.nodes;
});

afterEach(() => api.close());

const put = (node: DrogulusNode, name: string, payload: unknown, headers: Record<string, string> = auth) =>
  api.call(api.app(node), { method: 'PUT', url: `/api/v1/items/${encodeURIComponent(name)}`, headers, payload: payload as object });

const getByName = (node: DrogulusNode, publicKey: Uint8Array, name: string, headers: Record<string, string> = {}) =>
  api.call(api.app(node), { method: 'GET', url: `/api/v1/items?${new URLSearchParams({ public_key: toHex(publicKey), name })}`, headers });

const post = (node: DrogulusNode, payload: unknown) => api.call(api.app(node), { method: 'POST', url: '/api/v1/items', payload: payload as object });

/** Store requests sent by every node so far. */
const storesSent = (): number => api.net.nodes.reduce((sum, n) => sum + (n.stats.messagesOut.store ?? 0), 0);

const signedElsewhere = (name: string, value: Item['value'], timestamp = api.net.clock.now()): Item => createItem(elsewhere, { name, value, timestamp });

describe('PUT /api/v1/items/{name}', () => {
  it('stores a text value that GET returns byte for byte from another node, unicode and trailing newlines included', async () => {
    const values = ['hello', 'line one\nline two\n\n', 'ünïcödé ✓ 🎉\r\n', '', '  leading and trailing spaces  ', '{"not":"json, just text"}'];
    for (const [i, text] of values.entries()) {
      const name = `text-${i}`;
      expect((await put(a, name, { value: text, value_type: 'text' })).statusCode).toBe(201);
      const response = await getByName(b, a.publicKey, name);
      expect(response.statusCode).toBe(200);
      const item = body(response);
      expect(item.value_type).toBe('bytes');
      expect(Buffer.from(item.value, 'base64').equals(Buffer.from(text, 'utf8'))).toBe(true);
      expect(item.text).toBe(text);
    }
  });

  it('stores any JSON value as its JSON text, which GET returns with the parsed value', async () => {
    const value = { list: [1, 2.5, null, true], nested: { name: 'zoë' }, empty: '' };
    expect((await put(a, 'doc', { value })).statusCode).toBe(201);
    const item = body(await getByName(b, a.publicKey, 'doc'));
    expect(item).toMatchObject({ value_type: 'json', value: JSON.stringify(value), json: value, name: 'doc', public_key: toHex(a.publicKey) });
    for (const scalar of ['a string', 42, null, false]) {
      await put(a, 'scalar', { value: scalar });
      expect(body(await getByName(b, a.publicKey, 'scalar', { 'cache-control': 'no-cache' })).json).toEqual(scalar);
    }
  });

  it('stores base64 bytes as the bytes they encode', async () => {
    const bytes = Buffer.from([0, 255, 128, 10, 13]);
    expect((await put(a, 'raw', { value: bytes.toString('base64'), value_type: 'bytes' })).statusCode).toBe(201);
    const item = body(await getByName(b, a.publicKey, 'raw'));
    expect(item).toMatchObject({ value_type: 'bytes', value: bytes.toString('base64') });
    expect(item).not.toHaveProperty('text');
  });

  it('answers 201 with the replication report and the item location', async () => {
    const response = await put(a, 'report', { value: 1 });
    expect(response.statusCode).toBe(201);
    const report = body(response);
    const key = toHex(itemKey(a.publicKey, 'report'));
    expect(report.key).toBe(key);
    expect(response.headers.location).toBe(`/api/v1/items/${key}`);
    expect(report.attempted).toBe(8);
    expect(report.stored).toBe(8);
    expect(report.replicas).toHaveLength(8);
    expect(report.replicas).toContainEqual({ peer: 'self', status: 'stored' });
    expect(api.holders(itemKey(a.publicKey, 'report'))).toHaveLength(8);
  });

  it('stores on exactly `duplicate` nodes and signs expires and meta', async () => {
    const before = api.net.clock.now();
    const response = await put(a, 'few', { value: 'x', value_type: 'text', duplicate: 2, expires: 90, meta: { lang: 'en', 'content-type': 'text/plain' } });
    expect(body(response)).toMatchObject({ attempted: 2, stored: 2 });
    const key = itemKey(a.publicKey, 'few');
    expect(api.holders(key)).toHaveLength(2);
    const item = body(await api.call(api.app(api.holders(key)[0]), { method: 'GET', url: `/api/v1/items/${toHex(key)}` }));
    expect(item.timestamp).toBeGreaterThanOrEqual(before);
    expect(item.expires).toBe(item.timestamp + 90_000);
    expect(item.meta).toEqual({ lang: 'en', 'content-type': 'text/plain' });
  });

  it('takes any name, URL-encoded in the path: slashes, spaces, unicode, and the empty name', async () => {
    for (const name of ['a/b c', 'ключ ✓', '%41', '']) {
      const response = await api.call(api.app(a), { method: 'PUT', url: `/api/v1/items/${encodeURIComponent(name)}`, headers: auth, payload: { value: name } });
      expect(response.statusCode).toBe(201);
      expect(body(response).key).toBe(toHex(itemKey(a.publicKey, name)));
      expect(body(await getByName(b, a.publicKey, name)).json).toBe(name);
    }
    expect(toHex(itemKey(a.publicKey, ''))).toBe(toHex(a.nodeId));
  });

  it('streams lookup-done, one event per replica, then the result, when asked for NDJSON', async () => {
    const response = await api.call(api.app(a), {
      method: 'PUT',
      url: '/api/v1/items/streamed',
      headers: { ...auth, accept: 'application/x-ndjson' },
      payload: { value: 'x', duplicate: 3 },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-ndjson');
    const events = response.body.trim().split('\n').map((line) => JSON.parse(line) as ReplicationEvent);
    expect(events[0]).toEqual({ type: 'lookup-done', replicas: 3 });
    expect(events.slice(1, 4).map((e) => e.type)).toEqual(['replica', 'replica', 'replica']);
    expect(events[4]).toMatchObject({ type: 'result', status: 201, result: { stored: 3, attempted: 3 } });
    expect(events).toHaveLength(5);
  });

  it('refuses a request without a token with 401 and WWW-Authenticate, and stores nothing', async () => {
    const response = await put(a, 'secret', { value: 1 }, {});
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="drogulus"');
    expect(body(response).error.code).toBe('unauthorized');
    expect(api.holders(itemKey(a.publicKey, 'secret'))).toEqual([]);
  });

  it('refuses a wrong token, or the right one in another scheme, and stores nothing', async () => {
    const storesBefore = storesSent();
    for (const authorization of [`Bearer ${TOKEN}x`, 'Bearer ', `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN.slice(1)}`]) {
      const response = await put(a, 'secret', { value: 1 }, { authorization });
      expect(response.statusCode).toBe(401);
      expect(body(response).error.code).toBe('unauthorized');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="drogulus"/);
    }
    expect((await put(a, 'secret', { value: 1 }, { authorization: `Bearer ${TOKEN}x` })).headers['www-authenticate']).toBe('Bearer realm="drogulus", error="invalid_token"');
    expect(api.holders(itemKey(a.publicKey, 'secret'))).toEqual([]);
    expect(storesSent()).toBe(storesBefore);
  });

  it('accepts the scheme in any case, as RFC 7235 asks', async () => {
    expect((await put(a, 'case', { value: 1 }, { authorization: `bearer ${TOKEN}` })).statusCode).toBe(201);
  });

  it('refuses bodies that do not match the schema with 400 and the validation message', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /body must have required property 'value'/],
      [{ value: 1, value_type: 'xml' }, /body\/value_type must be equal to one of the allowed values/],
      [{ value: 1, expires: -1 }, /body\/expires must be >= 0/],
      [{ value: 1, expires: '60' }, /body\/expires must be number/],
      [{ value: 1, duplicate: 0 }, /body\/duplicate must be >= 1/],
      [{ value: 1, duplicate: 21 }, /body\/duplicate must be <= 20/],
      [{ value: 1, duplicate: 1.5 }, /body\/duplicate must be integer/],
      [{ value: 1, meta: { n: 1 } }, /body\/meta\/n must be string/],
      [{ value: 1, expire: 60 }, /body must NOT have additional properties/],
      [{ value: 5, value_type: 'text' }, /body\/value must be a string when value_type is 'text'/],
      [{ value: 'not base64!', value_type: 'bytes' }, /body\/value must be standard base64/],
    ];
    for (const [payload, message] of cases) {
      const response = await put(a, 'bad', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(body(response).error.code).toBe('bad_request');
      expect(body(response).error.message).toMatch(message);
    }
    expect(api.holders(itemKey(a.publicKey, 'bad'))).toEqual([]);
  });

  it('refuses a body that is not JSON with 400, and one of another media type with 415', async () => {
    const broken = await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/x', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"value": ' });
    expect(broken.statusCode).toBe(400);
    expect(body(broken).error.code).toBe('bad_request');
    const text = await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/x', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(415);
    expect(body(text).error.code).toBe('unsupported_media_type');
    const xml = await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/x', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<value/>' });
    expect(xml.statusCode).toBe(415);
  });

  it('refuses a name over the item name limit with 400 and protocol code 1', async () => {
    const response = await put(a, 'n'.repeat(DEFAULT_ITEM_LIMITS.maxNameBytes + 1), { value: 1 });
    expect(response.statusCode).toBe(400);
    expect(body(response).error).toMatchObject({ code: 'bad_request', protocol_code: 1 });
  });

  it('refuses a body over the body limit with 413 payload_too_large', async () => {
    const response = await put(a, 'huge', { value: 'x'.repeat(200 * 1024), value_type: 'text' });
    expect(response.statusCode).toBe(413);
    expect(body(response).error.code).toBe('payload_too_large');
    expect(body(response).error.message).toMatch(/larger than the limit of 147456 bytes/);
  });

  it('refuses a value over the item size limit with 413 and protocol code 4', async () => {
    const response = await put(a, 'big', { value: 'x'.repeat(DEFAULT_ITEM_LIMITS.maxValueBytes + 1), value_type: 'text' });
    expect(response.statusCode).toBe(413);
    expect(body(response).error).toMatchObject({ code: 'payload_too_large', protocol_code: 4 });
    expect(api.holders(itemKey(a.publicKey, 'big'))).toEqual([]);
  });

  it('honours a smaller body limit given to the server', async () => {
    const small = api.app(b, { bodyLimitBytes: 64 });
    const response = await api.call(small, { method: 'PUT', url: '/api/v1/items/x', headers: auth, payload: { value: 'x'.repeat(100) } });
    expect(response.statusCode).toBe(413);
  });
});

describe('POST /api/v1/items', () => {
  it('replicates an item signed elsewhere without a token, and another node then serves it unchanged', async () => {
    const item = signedElsewhere('note', '{"from":"elsewhere"}');
    const response = await post(a, itemToJson(item));
    expect(response.statusCode).toBe(201);
    expect(body(response)).toMatchObject({ key: toHex(item.key), stored: 8, attempted: 8 });
    const fetched = await api.call(api.app(b), { method: 'GET', url: `/api/v1/items/${toHex(item.key)}`, headers: { 'cache-control': 'no-cache' } });
    expect(fetched.statusCode).toBe(200);
    expect(body(fetched)).toEqual(itemToJson(item));
  });

  it('accepts bytes values and ignores the convenience json and text fields', async () => {
    const item = signedElsewhere('bin', Buffer.from('bytes ✓\n'));
    const response = await post(a, { ...itemToJson(item), text: 'something else entirely', json: { ignored: true } });
    expect(response.statusCode).toBe(201);
    expect(body(await getByName(b, elsewhere.publicKey, 'bin'))).toEqual(itemToJson(item));
  });

  it('refuses a tampered item with 422 unverifiable_provenance and sends nothing to anyone', async () => {
    const json = itemToJson(signedElsewhere('tampered', '"original"'));
    const storesBefore = storesSent();
    const response = await post(a, { ...json, value: '"altered"' });
    expect(response.statusCode).toBe(422);
    expect(body(response).error).toMatchObject({ code: 'unverifiable_provenance', protocol_code: 6 });
    expect(api.holders(Buffer.from(json.key, 'hex'))).toEqual([]);
    expect(storesSent()).toBe(storesBefore);
  });

  it('refuses an item whose key is not its public key and name with 422 key_mismatch', async () => {
    const unsigned: UnsignedItem = { key: itemKey(elsewhere.publicKey, 'other name'), value: '1', timestamp: api.net.clock.now(), expires: 0, createdWith: 'test', publicKey: elsewhere.publicKey, name: 'name', meta: {} };
    const item: Item = { ...unsigned, signature: elsewhere.sign(itemSigningBytes(unsigned)) };
    const response = await post(a, itemToJson(item));
    expect(response.statusCode).toBe(422);
    expect(body(response).error).toMatchObject({ code: 'key_mismatch', protocol_code: 7 });
    expect(api.holders(item.key)).toEqual([]);
  });

  it('refuses an older version than the node holds with 409, giving the held timestamp', async () => {
    const now = api.net.clock.now();
    const newer = signedElsewhere('versioned', '2', now);
    const older = signedElsewhere('versioned', '1', now - 1000);
    expect((await post(a, itemToJson(newer))).statusCode).toBe(201);
    const response = await post(a, itemToJson(older));
    expect(response.statusCode).toBe(409);
    expect(body(response).error).toMatchObject({ code: 'superseded', protocol_code: 8, details: { held_timestamp: newer.timestamp } });
    expect(body(response).error.message).toContain(String(newer.timestamp));
    expect(api.net.nodes.every((n) => n.store.get(newer.key)?.item.timestamp === newer.timestamp)).toBe(true);
  });

  it('answers 409 when every replica asked holds a newer version, though this node holds none', async () => {
    const few = await createApiNet(8, 12, { duplicationCount: 3 });
    try {
      const now = few.net.clock.now();
      const newer = createItem(elsewhere, { name: 'v', value: '2', timestamp: now });
      const older = createItem(elsewhere, { name: 'v', value: '1', timestamp: now - 1000 });
      const [first] = few.net.nodes;
      expect((await few.call(few.app(first), { method: 'POST', url: '/api/v1/items', payload: itemToJson(newer) })).statusCode).toBe(201);
      const outsider = few.net.nodes.find((n) => !n.store.get(newer.key))!;
      const response = await few.call(few.app(outsider), { method: 'POST', url: '/api/v1/items', payload: itemToJson(older) });
      expect(response.statusCode).toBe(409);
      const { error } = body(response);
      expect(error).toMatchObject({ code: 'superseded', protocol_code: 8, details: { stored: 0, attempted: 3 } });
      expect(error.details.replicas.every((r: { status: string; code: number }) => r.status === 'refused' && r.code === 8)).toBe(true);
    } finally {
      await few.close();
    }
  });

  it('answers 502 replication_failed with the replica report when no node stores the item', async () => {
    const full = await createApiNet(4, 13, { maxStoredItems: 0 });
    try {
      const response = await full.call(full.app(full.net.nodes[0]), { method: 'POST', url: '/api/v1/items', payload: itemToJson(signedElsewhere('nowhere', '1', full.net.clock.now())) });
      expect(response.statusCode).toBe(502);
      const { error } = body(response);
      expect(error).toMatchObject({ code: 'replication_failed', details: { stored: 0, attempted: 4 } });
      expect(error.details.replicas.every((r: { status: string; code: number }) => r.status === 'refused' && r.code === 4)).toBe(true);
    } finally {
      await full.close();
    }
  });

  it('refuses an expired item, or one dated too far ahead, with 422 invalid_item and protocol code 1', async () => {
    const now = api.net.clock.now();
    const expired = createItem(elsewhere, { name: 'old', value: '1', timestamp: now - 2000, expires: now - 1000 });
    const future = signedElsewhere('future', '1', now + minutes(11));
    for (const item of [expired, future]) {
      const response = await post(a, itemToJson(item));
      expect(response.statusCode).toBe(422);
      expect(body(response).error).toMatchObject({ code: 'invalid_item', protocol_code: 1 });
      expect(api.holders(item.key)).toEqual([]);
    }
  });

  it('refuses malformed items with 400, naming the field', async () => {
    const json = itemToJson(signedElsewhere('fields', '1'));
    const cases: Array<[object, RegExp]> = [
      [{ ...json, public_key: 'abc' }, /^body\/public_key must be 64 hex characters/],
      [{ ...json, key: json.key.toUpperCase().replace(/^./, 'G') }, /^body\/key must be 128 hex characters/],
      [{ ...json, value_type: 'bytes', value: '***' }, /^body\/value must be standard base64/],
      [{ ...json, timestamp: -1 }, /body\/timestamp must be >= 0/],
      [{ ...json, timestamp: 1.5 }, /body\/timestamp must be integer/],
      [{ ...json, signature: undefined }, /body must have required property 'signature'/],
      [{ ...json, extra: 1 }, /body must NOT have additional properties/],
    ];
    for (const [payload, message] of cases) {
      const response = await post(a, payload);
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(body(response).error.code).toBe('bad_request');
      expect(body(response).error.message).toMatch(message);
    }
  });
});
