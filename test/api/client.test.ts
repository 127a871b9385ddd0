/**
 * DrogulusClient against real HTTP servers in front of five nodes on a
 * MemoryNetwork in real time (SystemClock, 1 ms latency): every method, the
 * progress stream, and how failures become ApiErrors.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, DrogulusClient, type ReplicationProgress } from '../../src/api/client.js';
import { itemToJson } from '../../src/api/item-json.js';
import { createApiServer } from '../../src/api/server.js';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { DrogulusNode } from '../../src/dht/node.js';
import { createItem, itemKey } from '../../src/protocol/item.js';
import { hours } from '../../src/runtime/clock.js';
import { SystemRandom } from '../../src/runtime/random.js';
import { SystemClock } from '../../src/runtime/system-clock.js';
import { MemoryItemStore } from '../../src/storage/memory-item-store.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { TOKEN, VERSION } from './fixtures.js';

const PROFILE = { name: 'Grace' };
const clock = new SystemClock();
const network = new MemoryNetwork({ clock, random: new SystemRandom(), latencyMs: 1 });
const nodes: DrogulusNode[] = [];
const apps: FastifyInstance[] = [];
let urlA: string;
let urlB: string;
let client: DrogulusClient;
let other: DrogulusClient;

const makeNode = (profile?: Record<string, string>): DrogulusNode => {
  const node = new DrogulusNode({
    identity: Identity.generate(),
    transport: network.createTransport(),
    clock,
    random: new SystemRandom(),
    store: new MemoryItemStore(),
    // Real timers: Node's setTimeout takes at most 2^31 - 1 ms, so "never" is a day here.
    options: { refreshIntervalMs: hours(24) },
    profile,
  });
  node.start();
  nodes.push(node);
  return node;
};

const listen = async (node: DrogulusNode): Promise<string> => {
  const app = createApiServer({ node, token: TOKEN, version: VERSION });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the API is not listening on a port');
  return `http://127.0.0.1:${address.port}`;
};

/** The ApiError a promise rejects with. */
const failure = async (work: Promise<unknown>): Promise<ApiError> => {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
};

beforeAll(async () => {
  const first = makeNode();
  for (let i = 0; i < 3; i++) await makeNode().join([{ ...first.address, publicKey: first.publicKey }]);
  await makeNode(PROFILE).join([{ ...first.address, publicKey: first.publicKey }]);
  urlA = await listen(nodes[0]);
  urlB = await listen(nodes[1]);
  client = new DrogulusClient({ baseUrl: `${urlA}/`, token: TOKEN });
  other = new DrogulusClient({ baseUrl: urlB });
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await Promise.all(nodes.map((node) => node.stop()));
});

describe('DrogulusClient', () => {
  it('reads the node status', async () => {
    expect(await client.status()).toEqual({
      public_key: toHex(nodes[0].publicKey),
      node_id: toHex(nodes[0].nodeId),
      version: VERSION,
      port: nodes[0].address.port,
      peers: nodes[0].table.size,
      items: nodes[0].store.size,
    });
  });

  it('puts a text value that another node returns byte for byte, by name and by key', async () => {
    const text = 'first line\nsecond ✓\n';
    const result = await client.putItem('notes/today', { value: text, value_type: 'text', meta: { lang: 'en' } });
    expect(result.key).toBe(toHex(itemKey(nodes[0].publicKey, 'notes/today')));
    expect(result.stored).toBe(5);
    expect(result.attempted).toBe(5);
    const byName = await other.getItemByName(toHex(nodes[0].publicKey), 'notes/today', { fresh: true });
    expect(byName.text).toBe(text);
    expect(byName.meta).toEqual({ lang: 'en' });
    expect(await other.getItem(result.key)).toEqual(byName);
  });

  it('reports each replica to onProgress before resolving with the report', async () => {
    const events: ReplicationProgress[] = [];
    const result = await client.putItem('progress', { value: { step: 1 } }, { onProgress: (event) => events.push(event) });
    expect(events[0]).toEqual({ type: 'lookup-done', replicas: 5 });
    const replicas = events.filter((e) => e.type === 'replica');
    expect(replicas).toHaveLength(result.attempted);
    expect(replicas.map(({ type: _type, ...replica }) => replica)).toEqual(expect.arrayContaining(result.replicas.map((r) => expect.objectContaining(r))));
  });

  it('posts an item signed elsewhere, without a token, and another node then serves it', async () => {
    const publisher = Identity.generate();
    const item = createItem(publisher, { name: 'signed elsewhere', value: '[1,2,3]', timestamp: Date.now() });
    const anonymous = new DrogulusClient({ baseUrl: urlA });
    const result = await anonymous.postItem(itemToJson(item));
    expect(result).toMatchObject({ key: toHex(item.key), stored: 5 });
    expect(await other.getItem(toHex(item.key), { fresh: true })).toEqual(itemToJson(item));
  });

  it('finds a published profile with whois', async () => {
    expect(await client.whois(toHex(nodes[4].publicKey))).toEqual({ public_key: toHex(nodes[4].publicKey), profile: PROFILE });
  });

  it('lists the routing table with peers', async () => {
    const { peers } = await client.peers();
    expect(peers.map((p) => p.node_id).sort()).toEqual(nodes[0].table.contacts().map((c) => c.idHex).sort());
  });

  it('throws ApiError not_found (404) for an item or profile nobody has', async () => {
    const missing = await failure(client.getItemByName(toHex(nodes[0].publicKey), 'never published'));
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
    expect(await failure(client.whois(toHex(nodes[1].publicKey)))).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('throws ApiError unauthorized (401) for a write without the right token', async () => {
    for (const token of [undefined, 'wrong']) {
      const error = await failure(new DrogulusClient({ baseUrl: urlA, token }).putItem('x', { value: 1 }));
      expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
    }
  });

  it('throws ApiError bad_request (400) with the server\'s message for bad input', async () => {
    expect(await failure(client.getItem('not-hex'))).toMatchObject({ status: 400, code: 'bad_request', message: 'key must be 128 hex characters (a 64-byte item key), got "not-hex"' });
    expect(await failure(client.putItem('x', { value: 7, value_type: 'text' }))).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('throws ApiError with the protocol code for refused items, also when progress is asked for', async () => {
    const publisher = Identity.generate();
    const now = Date.now();
    const item = createItem(publisher, { name: 'v', value: '2', timestamp: now });
    const tampered = { ...itemToJson(item), value: '3' };
    expect(await failure(client.postItem(tampered))).toMatchObject({ status: 422, code: 'unverifiable_provenance', protocolCode: 6 });
    expect(await failure(client.postItem(tampered, { onProgress: () => undefined }))).toMatchObject({ status: 422, protocolCode: 6 });
    await client.postItem(itemToJson(item));
    const older = createItem(publisher, { name: 'v', value: '1', timestamp: now - 1000 });
    const superseded = await failure(client.postItem(itemToJson(older)));
    expect(superseded).toMatchObject({ status: 409, code: 'superseded', protocolCode: 8, details: { held_timestamp: now } });
  });

  it('throws ApiError unreachable (status 0) when nothing listens', async () => {
    const app = createApiServer({ node: nodes[2], token: TOKEN, version: VERSION });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    await app.close();
    const error = await failure(new DrogulusClient({ baseUrl: `http://127.0.0.1:${port}` }).status());
    expect(error).toMatchObject({ status: 0, code: 'unreachable' });
    expect(error.message).toContain(`http://127.0.0.1:${port}`);
  });

  it('throws ApiError unexpected_response when the answer is not the API\'s JSON', async () => {
    const proxy = new DrogulusClient({ baseUrl: 'http://proxy.invalid', fetch: async () => new Response('<html>Bad Gateway</html>', { status: 502 }) });
    expect(await failure(proxy.status())).toMatchObject({ status: 502, code: 'unexpected_response' });
    const garbled = new DrogulusClient({ baseUrl: 'http://proxy.invalid', fetch: async () => new Response('{"public_key":', { status: 200 }) });
    expect(await failure(garbled.status())).toMatchObject({ status: 200, code: 'unexpected_response' });
  });
});
