/**
 * The node's own state through the API: status, peers and whois, on a
 * 6-node Testnet in virtual time (one node with a published profile).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerToJson } from '../../src/api/routes/peers.js';
import { toHex } from '../../src/crypto/bytes.js';
import { sha512 } from '../../src/crypto/hash.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { auth, body, createApiNet, type ApiNet, VERSION } from './fixtures.js';

const PROFILE = { name: 'Ada', contact: 'ada@example.org' };

let api: ApiNet;
let a: DrogulusNode;
let profiled: DrogulusNode;

beforeAll(async () => {
  api = await createApiNet(5, 31);
  a = api.net.nodes[0];
  profiled = api.net.addNode({ profile: PROFILE });
  await api.net.join(profiled);
});

afterAll(() => api.close());

const get = (node: DrogulusNode, url: string) => api.call(api.app(node), { method: 'GET', url });

describe('GET /api/v1/status', () => {
  it('reports the node\'s keys, the software version, its DHT port and its counts', async () => {
    const before = body(await get(a, '/api/v1/status'));
    expect(before).toEqual({
      public_key: toHex(a.publicKey),
      node_id: toHex(a.nodeId),
      version: VERSION,
      port: a.address.port,
      peers: a.table.size,
      items: a.store.size,
    });
    await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/counted', headers: auth, payload: { value: 1 } });
    expect(body(await get(a, '/api/v1/status')).items).toBe(before.items + 1);
  });
});

describe('GET /api/v1/peers', () => {
  it('lists every contact in the routing table with its address, health and round-trip time', async () => {
    const response = await get(a, '/api/v1/peers');
    expect(response.statusCode).toBe(200);
    const { peers } = body(response);
    expect(peers).toEqual(a.table.contacts().map(peerToJson));
    expect(peers.length).toBe(a.table.size);
    expect(peers.length).toBeGreaterThan(0);
    for (const peer of peers) {
      expect(peer.node_id).toBe(toHex(sha512(Buffer.from(peer.public_key, 'hex'))));
      expect(Object.keys(peer).sort()).toEqual(['failures', 'host', 'last_seen', 'node_id', 'port', 'public_key', 'rtt_ms']);
      expect(peer.rtt_ms === null || typeof peer.rtt_ms === 'number').toBe(true);
    }
  });
});

describe('GET /api/v1/whois/{public_key}', () => {
  it('returns the profile a node published under its public key', async () => {
    const response = await get(a, `/api/v1/whois/${toHex(profiled.publicKey)}`);
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual({ public_key: toHex(profiled.publicKey), profile: PROFILE });
  });

  it('answers 404 not_found for a key with no profile', async () => {
    const response = await get(profiled, `/api/v1/whois/${toHex(a.publicKey)}`);
    expect(response.statusCode).toBe(404);
    expect(body(response).error).toEqual({ code: 'not_found', message: `no profile was found for public key ${toHex(a.publicKey)}` });
  });

  it('answers 400 naming public_key when it is not 64 hex characters', async () => {
    const response = await get(a, `/api/v1/whois/${toHex(a.nodeId)}`);
    expect(response.statusCode).toBe(400);
    expect(body(response).error.message).toBe('public_key must be 64 hex characters (a 32-byte Ed25519 public key), got 128 characters');
  });
});
