/**
 * The API's documentation against the code: every route the app serves is in
 * docs/openapi.json and docs/api.md and nothing else is; the error codes
 * table in docs/api.md is API_ERRORS; the request schemas match.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ERRORS } from '../../src/api/errors.js';
import { itemBodySchema, putItemBodySchema } from '../../src/api/schemas.js';
import { apiRoutes, createApiServer } from '../../src/api/server.js';
import type { FastifyInstance } from 'fastify';
import { createTestnet, type Testnet } from '../../src/sim/testnet.js';
import { TOKEN, VERSION } from './fixtures.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const markdown = read('docs/api.md');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const openapi = JSON.parse(read('docs/openapi.json')) as any;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** OpenAPI treats paths that differ only in parameter names as the same path; so does this. */
const shape = (path: string): string => path.replace(/\{[^}]+\}/g, '{}');
const fromFastify = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

let net: Testnet;
let app: FastifyInstance;

beforeAll(async () => {
  net = await createTestnet(1, { seed: 51 });
  app = createApiServer({ node: net.nodes[0], token: TOKEN, version: VERSION });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await net.stop();
});

describe('docs/openapi.json', () => {
  it('is OpenAPI 3.1 with a bearer token scheme', () => {
    expect(openapi.openapi).toMatch(/^3\.1\.\d+$/);
    expect(openapi.components.securitySchemes.bearerToken).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
  });

  it('documents exactly the routes the app serves', () => {
    const served = apiRoutes(app).map((r) => `${r.method} ${shape(fromFastify(r.url))}`).sort();
    const documented = Object.entries(openapi.paths as Record<string, object>)
      .flatMap(([path, item]) => Object.keys(item).filter((k) => METHODS.includes(k)).map((method) => `${method.toUpperCase()} ${shape(path)}`))
      .sort();
    expect(served.length).toBeGreaterThan(0);
    expect(documented).toEqual(served);
    for (const r of apiRoutes(app)) expect(app.hasRoute({ method: r.method as 'GET', url: r.url })).toBe(true);
  });

  it('asks for the token on exactly the routes that check it', () => {
    const secured = Object.entries(openapi.paths as Record<string, Record<string, { security?: unknown[] }>>)
      .flatMap(([path, item]) => Object.entries(item).filter(([, op]) => (op.security ?? []).length > 0).map(([method]) => `${method.toUpperCase()} ${shape(path)}`));
    expect(secured).toEqual(['PUT /api/v1/items/{}']);
  });

  it('lists every server error code in the Error schema', () => {
    const serverCodes = Object.entries(API_ERRORS).filter(([, status]) => status > 0).map(([code]) => code);
    expect([...openapi.components.schemas.Error.properties.code.enum].sort()).toEqual(serverCodes.sort());
  });

  it('describes the same request bodies the server validates', () => {
    const put = openapi.components.schemas.PutItemRequest;
    const server = putItemBodySchema(20);
    expect(Object.keys(put.properties).sort()).toEqual(Object.keys(server.properties).sort());
    expect(put.required).toEqual(server.required);
    expect(put.properties.value_type.enum).toEqual(server.properties.value_type.enum);
    const item = openapi.components.schemas.Item;
    expect([...item.required].sort()).toEqual([...itemBodySchema.required].sort());
    expect(Object.keys(item.properties).sort()).toEqual(Object.keys(itemBodySchema.properties).sort());
  });

  it('refers only to components it defines', () => {
    const refs = [...JSON.stringify(openapi).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(0);
    for (const [, kind, name] of refs) expect(openapi.components[kind]?.[name], `${kind}/${name}`).toBeDefined();
  });
});

describe('docs/api.md', () => {
  it('has a section for every route the app serves', () => {
    for (const r of apiRoutes(app)) {
      const heading = r.method === 'GET' && r.url === '/api/v1/items' ? '## GET /api/v1/items\n' : `## ${r.method} ${fromFastify(r.url)}\n`;
      // A route may head its own section, or a subsection of one (the WebSocket API's).
      expect([heading, `#${heading}`].some((h) => markdown.includes(`\n${h}`)), heading).toBe(true);
    }
  });

  it('tabulates exactly the error codes of API_ERRORS, with their statuses', () => {
    const section = markdown.split(/^## /m).find((s) => s.startsWith('Errors'));
    expect(section).toBeDefined();
    const rows = [...section!.matchAll(/^\| `([a-z_]+)` \| (\d{3}|—) \|/gm)].map(([, code, status]) => [code, status === '—' ? 0 : Number(status)]);
    expect(rows).toEqual(Object.entries(API_ERRORS));
  });
});
