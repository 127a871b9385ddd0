/**
 * The uiRoutes plugin on its own (no browser): the page and its assets from
 * the assets folder with their content types and caching, the 503 page
 * without a build, no way out of the folder; and the read-only data routes
 * (table, items held, profile) on a small Testnet in virtual time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetVersion, uiRoutes } from '../../src/api/routes/ui.js';
import type { ItemsHeldJson, ProfileJson, TableJson } from '../../src/api/ui/data-types.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { commonPrefixLength } from '../../src/routing/distance.js';
import { hours } from '../../src/runtime/clock.js';
import { Testnet } from '../../src/sim/testnet.js';

const JS = 'console.log("drogulus");\n';
const CSS = 'body { color: black; }\n';
const HTML = '<!doctype html><title>drogulus</title><script type="module" src="/ui/app.js"></script>\n';

let root: string;
let net: Testnet;
let withProfile: DrogulusNode;
let withoutProfile: DrogulusNode;
const apps: FastifyInstance[] = [];

/** A bare fastify app with only the UI plugin, so these tests hold however server.ts wires it. */
const uiApp = async (node: DrogulusNode, assetsDir: string): Promise<FastifyInstance> => {
  const app = Fastify({ logger: false });
  await app.register(uiRoutes, { node, assetsDir });
  apps.push(app);
  return app;
};

/** Injects a request while virtual time runs, so routes that look things up can finish. */
const call = (app: FastifyInstance, request: InjectOptions | string): Promise<LightMyRequestResponse> => {
  let answered = false;
  const tick = (): void => {
    if (!answered) net.clock.setTimeout(tick, 1);
  };
  tick();
  return net.run(app.inject(request).finally(() => (answered = true)));
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'drogulus-ui-routes-'));
  mkdirSync(join(root, 'built'));
  writeFileSync(join(root, 'built/index.html'), HTML);
  writeFileSync(join(root, 'built/app.js'), JS);
  writeFileSync(join(root, 'built/app.css'), CSS);
  writeFileSync(join(root, 'secret.txt'), 'outside the assets folder');
  mkdirSync(join(root, 'empty'));

  net = new Testnet({ seed: 4242, nodeOptions: { refreshIntervalMs: hours(10_000) } });
  withProfile = net.addNode({ profile: { name: 'Ada', contact: 'ada@example.org' } });
  withoutProfile = net.addNode();
  await net.grow(4);
  await net.join(withProfile);
  await net.join(withoutProfile);
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await net.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('the web UI assets', () => {
  it('answers 503 with a page that says how to build the UI when there is no build', async () => {
    const app = await uiApp(withProfile, join(root, 'empty'));
    for (const url of ['/', '/ui/app.js']) {
      const response = await call(app, url);
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('npm run build:ui');
    }
  });

  it('serves the page revalidated by its ETag, with a policy that allows no inline script or style', async () => {
    const app = await uiApp(withProfile, join(root, 'built'));
    const page = await call(app, '/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe(HTML);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self';.*style-src 'self'/);
    const again = await call(app, { url: '/', headers: { 'if-none-match': String(page.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves assets with their content types, for good under the version of their content', async () => {
    const app = await uiApp(withProfile, join(root, 'built'));
    const js = await call(app, `/ui/app.js?v=${assetVersion(Buffer.from(JS))}`);
    expect(js.body).toBe(JS);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const stale = await call(app, '/ui/app.js?v=0000000000000000');
    expect(stale.headers['cache-control']).toBe('no-cache');
    const css = await call(app, '/ui/app.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves nothing outside the assets folder, nor hidden or missing files', async () => {
    const app = await uiApp(withProfile, join(root, 'built'));
    for (const url of ['/ui/..%2Fsecret.txt', '/ui/../secret.txt', '/ui/%2E%2E/secret.txt', '/ui/.hidden', '/ui/missing.js', '/ui/sub/app.js']) {
      const response = await call(app, url);
      expect(response.statusCode, url).toBe(404);
      expect(response.body, url).not.toContain('outside the assets folder');
    }
  });
});

describe('the read-only routes the UI reads', () => {
  it('GET /api/v1/table draws the routing table: buckets, contacts with their shared prefix, replacement caches, blacklist', async () => {
    const node = withoutProfile;
    const stranger = net.nodes.find((n) => n !== node && node.table.contacts().some((c) => c.idHex === toHex(n.nodeId)))!;
    const app = await uiApp(node, join(root, 'built'));
    node.table.blacklist(stranger.publicKey);
    const table = (await call(app, '/api/v1/table')).json() as TableJson;
    expect(table.node_id).toBe(toHex(node.nodeId));
    expect(table.k).toBe(node.options.k);
    expect(table.size).toBe(node.table.size);
    expect(table.buckets.flatMap((b) => b.contacts)).toHaveLength(node.table.size);
    expect(table.buckets.at(-1)?.covers_own_id).toBe(true);
    for (const contact of table.buckets.flatMap((b) => [...b.contacts, ...b.replacements])) {
      expect(contact.shared_prefix_bits).toBe(commonPrefixLength(Buffer.from(contact.node_id, 'hex'), node.nodeId));
    }
    expect(table.blacklist).toEqual([toHex(stranger.nodeId)]);
  });

  it('GET /api/v1/items-held lists the store newest first, searched by name, value, key or publisher, up to the limit', async () => {
    const node = withProfile;
    await net.run(node.set('weather', JSON.stringify({ city: 'Oslo', temperature: -3.5 })));
    await net.run(node.set('long', new TextEncoder().encode('x'.repeat(500))));
    await net.run(node.set('binary', Uint8Array.of(0xff, 0xfe, 0x00)));
    const app = await uiApp(node, join(root, 'built'));
    const all = (await call(app, '/api/v1/items-held')).json() as ItemsHeldJson;
    expect(all.total).toBe(node.store.size);
    expect(all.items.map((i) => i.updated)).toEqual([...all.items.map((i) => i.updated)].sort((a, b) => b - a));

    const weather = (await call(app, '/api/v1/items-held?search=WEATH')).json() as ItemsHeldJson;
    expect(weather.matched).toBe(1);
    expect(weather.items[0]).toMatchObject({ name: 'weather', value_type: 'json', public_key: toHex(node.publicKey), preview: '{"city":"Oslo","temperature":-3.5}', expires: 0 });
    expect((await call(app, '/api/v1/items-held?search=oslo')).json().matched).toBe(1);
    expect((await call(app, `/api/v1/items-held?search=${weather.items[0].key.slice(0, 10)}`)).json().items[0].name).toBe('weather');
    expect((await call(app, `/api/v1/items-held?search=${toHex(node.publicKey).slice(0, 16)}`)).json().matched).toBeGreaterThanOrEqual(4);

    const long = ((await call(app, '/api/v1/items-held?search=long')).json() as ItemsHeldJson).items[0];
    expect(long.size_bytes).toBe(500);
    expect(long.preview).toHaveLength(120);
    expect(((await call(app, '/api/v1/items-held?search=binary')).json() as ItemsHeldJson).items[0].preview).toBeNull();

    const limited = (await call(app, '/api/v1/items-held?limit=2')).json() as ItemsHeldJson;
    expect(limited.items).toHaveLength(2);
    expect(limited.matched).toBe(all.total);
    expect((await call(app, '/api/v1/items-held?limit=many')).statusCode).toBe(400);
  });

  it('GET /api/v1/profile gives this node’s whoami profile, or null when it publishes none', async () => {
    const ada = (await call(await uiApp(withProfile, join(root, 'built')), '/api/v1/profile')).json() as ProfileJson;
    expect(ada).toEqual({ public_key: toHex(withProfile.publicKey), node_id: toHex(withProfile.nodeId), profile: { name: 'Ada', contact: 'ada@example.org' } });
    const none = (await call(await uiApp(withoutProfile, join(root, 'built')), '/api/v1/profile')).json() as ProfileJson;
    expect(none.profile).toBeNull();
  });
});
