/**
 * API test helpers: a small Testnet in virtual time, an API app in front of
 * any of its nodes, and `call`, which drives virtual time while a request's
 * lookups run.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { hours } from '../../src/runtime/clock.js';
import { type ApiServerOptions, createApiServer } from '../../src/api/server.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { createTestnet, type Testnet } from '../../src/sim/testnet.js';

export const TOKEN = 'test-token-0123456789abcdef';
/** The address the apps of createApiNet say they listen on; inject() requests name it in their Host header. */
export const API_HOST = '127.0.0.1';
export const API_PORT = 1909;
export const API_AUTHORITY = `${API_HOST}:${API_PORT}`;
export const VERSION = '9.9.9-test';
/** Maintenance runs only when a test asks for it. */
export const NO_AUTO_MAINTENANCE = { refreshIntervalMs: hours(10_000) };

export interface ApiNet {
  readonly net: Testnet;
  /** An API app in front of `node` (made once per node). */
  app(node: DrogulusNode, options?: Omit<ApiServerOptions, 'node' | 'token' | 'version'>): FastifyInstance;
  /** Injects a request (with Host: API_AUTHORITY unless it names another) and runs virtual time until it is answered. */
  call(app: FastifyInstance, request: InjectOptions): Promise<LightMyRequestResponse>;
  /** The nodes whose stores hold an item under `key`. */
  holders(key: Uint8Array): DrogulusNode[];
  close(): Promise<void>;
}

export const createApiNet = async (size: number, seed: number, nodeOptions: Record<string, unknown> = {}): Promise<ApiNet> => {
  const net = await createTestnet(size, { seed, nodeOptions: { ...NO_AUTO_MAINTENANCE, ...nodeOptions } });
  const apps = new Map<DrogulusNode, FastifyInstance>();
  return {
    net,
    app(node, options = {}) {
      let app = apps.get(node);
      if (!app) {
        app = createApiServer({ node, token: TOKEN, version: VERSION, host: API_HOST, port: API_PORT, ...options });
        apps.set(node, app);
      }
      return app;
    },
    call(app, request) {
      // An HTTP exchange needs a few event-loop turns even when it sends no
      // packet; a 1 ms tick keeps ManualClock.run from jumping to the next
      // far-off timer (maintenance, hours away) while it waits for them.
      let answered = false;
      const tick = (): void => {
        if (!answered) net.clock.setTimeout(tick, 1);
      };
      tick();
      return net.run(
        app.inject({ ...request, headers: { host: API_AUTHORITY, ...request.headers } }).finally(() => {
          answered = true;
        }),
      );
    },
    holders: (key) => net.nodes.filter((n) => n.store.get(key) !== undefined),
    async close() {
      await Promise.all([...apps.values()].map((a) => a.close()));
      await net.stop();
    },
  };
};

export const auth = { authorization: `Bearer ${TOKEN}` };

/** The parsed JSON body of a response. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const body = (response: LightMyRequestResponse): any => response.json();
