/**
 * The web UI (docs/api.md, "The web UI"): GET / serves dist/ui/index.html and
 * GET /ui/{asset} its assets, built by `npm run build:ui` (scripts/build-ui.mjs)
 * from src/api/ui. Only plain file names inside the assets folder are served.
 * Also registers the read-only data routes the UI needs (ui-data.ts). Without
 * a build, GET / answers 503 with a page that says how to build it.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { DrogulusNode } from '../../dht/node.js';
import { ApiError } from '../errors.js';
import { registerUiDataRoutes } from './ui-data.js';

export interface UiRoutesOptions {
  readonly node: DrogulusNode;
  /** Where the built UI is; default dist/ui of this package (the same from src/ under tsx and from dist/). */
  readonly assetsDir?: string;
}

/** src/api/routes and dist/api/routes are both three levels below the package root. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
});

/** A file name without a folder, a leading dot or a traversal. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9]+)+$/;

/**
 * The page's policy: everything from this origin only, no inline script or
 * style, no framing. A server-wide security header, when there is one, may
 * replace it with an equal or stricter one.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Assets under the version query that matches their content never change, so they are cached for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else is revalidated with its ETag each time. */
const REVALIDATE = 'no-cache';

/** The version in `?v=`: the first 16 hex of the content's SHA-256. scripts/build-ui.mjs computes the same. */
export const assetVersion = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

interface Asset {
  readonly body: Buffer;
  readonly version: string;
  readonly mtimeMs: number;
  readonly size: number;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>drogulus: web UI not built</title></head>
<body>
<main>
<h1>The web UI has not been built</h1>
<p>This node serves its web UI from <code>dist/ui</code>, which is missing. Build it, then reload this page:</p>
<pre>npm run build:ui</pre>
<p>The HTTP API under <code>/api/v1</code> works without it.</p>
</main>
</body>
</html>
`;

export const uiRoutes: FastifyPluginAsync<UiRoutesOptions> = async (app, options) => {
  const dir = options.assetsDir ?? DEFAULT_UI_DIR;
  const cache = new Map<string, Asset>();

  /** The file as it is now on disk, re-read only when it changed; undefined when it is not there. */
  const load = async (name: string): Promise<Asset | undefined> => {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const held = cache.get(name);
    if (held && held.mtimeMs === info.mtimeMs && held.size === info.size) return held;
    const body = await readFile(path);
    const asset = { body, version: assetVersion(body), mtimeMs: info.mtimeMs, size: info.size };
    cache.set(name, asset);
    return asset;
  };

  const send = (request: FastifyRequest, reply: FastifyReply, name: string, asset: Asset, cacheControl: string): FastifyReply => {
    const etag = `"${asset.version}"`;
    reply
      .header('content-type', CONTENT_TYPES[extname(name)] ?? 'application/octet-stream')
      .header('cache-control', cacheControl)
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(asset.body);
  };

  const notBuilt = (reply: FastifyReply): FastifyReply =>
    reply
      .code(503)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
      .send(NOT_BUILT_PAGE);

  app.get('/', async (request, reply) => {
    const index = await load('index.html');
    if (!index) return notBuilt(reply);
    reply.header('content-security-policy', UI_CONTENT_SECURITY_POLICY).header('referrer-policy', 'no-referrer');
    return send(request, reply, 'index.html', index, REVALIDATE);
  });

  app.get<{ Params: { asset: string }; Querystring: { v?: string } }>('/ui/:asset', async (request, reply) => {
    const name = request.params.asset;
    const asset = ASSET_NAME.test(name) ? await load(name) : undefined;
    if (!asset) {
      if (!(await load('index.html'))) return notBuilt(reply);
      throw ApiError.of('not_found', `the web UI has no asset ${JSON.stringify(name)}`);
    }
    return send(request, reply, name, asset, request.query.v === asset.version ? IMMUTABLE : REVALIDATE);
  });

  registerUiDataRoutes(app, options.node);
};
