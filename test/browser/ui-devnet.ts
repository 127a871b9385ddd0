/**
 * A devnet for the browser tests: real nodes in this process, as
 * `drogulus devnet` assembles them (runNode: UDP/TCP on 127.0.0.1, SQLite,
 * the system clock), each with its HTTP API and the web UI on a free port.
 * runNode listens before a plugin could be added, so the API is made here
 * the way runNode makes it, with uiRoutes registered unless the app has it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { toHex } from '../../src/crypto/bytes.js';
import { createApiServer } from '../../src/api/server.js';
import { uiRoutes } from '../../src/api/routes/ui.js';
import { ensureApiToken } from '../../src/cli/api-token.js';
import { ensureDataDir } from '../../src/cli/data-dir.js';
import { runNode, type RunningNode } from '../../src/cli/run-node.js';
import { VERSION } from '../../src/cli/version.js';
import { Identity } from '../../src/crypto/identity.js';

export interface UiNode {
  readonly index: number;
  readonly running: RunningNode;
  readonly api: FastifyInstance;
  /** The web UI and API, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly token: string;
  readonly publicKey: string;
  readonly nodeId: string;
}

export interface UiDevnet {
  readonly nodes: UiNode[];
  /** Starts one more node and joins it through `via`. */
  addNode(via: UiNode): Promise<UiNode>;
  stop(): Promise<void>;
}

const startNode = async (root: string, index: number): Promise<UiNode> => {
  const dataDir = ensureDataDir(join(root, `node-${index}`));
  const token = ensureApiToken(dataDir);
  const running = await runNode({
    identity: Identity.generate(),
    dataDir,
    host: '127.0.0.1',
    port: 0,
    apiHost: '127.0.0.1',
    apiPort: undefined,
    apiToken: token,
    logger: pino({ level: 'silent' }),
    profile: { name: `browser-test node ${index}`, notes: 'a node of the web UI tests' },
  });
  const { node } = running;
  const api = createApiServer({ node, token, version: VERSION, host: '127.0.0.1' });
  try {
    // Load what createApiServer registered; add the UI only where it is not wired in already.
    await api.after();
    if (!api.hasRoute({ method: 'GET', url: '/api/v1/table' })) await api.register(uiRoutes, { node });
    await api.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await api.close();
    await running.stop();
    throw error;
  }
  const address = api.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { index, running, api, url: `http://127.0.0.1:${port}`, token, publicKey: toHex(node.publicKey), nodeId: toHex(node.nodeId) };
};

const seedOf = (n: UiNode) => [{ ...n.running.node.address, publicKey: n.running.node.publicKey }];

export const startUiDevnet = async (size: number): Promise<UiDevnet> => {
  const root = mkdtempSync(join(tmpdir(), 'drogulus-ui-devnet-'));
  const nodes: UiNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(async (n) => {
      await n.api.close().catch(() => undefined);
      await n.running.stop();
    }));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) {
      const started = await startNode(root, i);
      nodes.push(started);
      if (i > 0) await started.running.join(seedOf(nodes[0]));
    }
    // As in `drogulus devnet`: the first node joined alone; now it meets the others and publishes its profile.
    if (nodes.length > 1) await nodes[0].running.join(seedOf(nodes[1]));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    async addNode(via) {
      const started = await startNode(root, nodes.length);
      nodes.push(started);
      await started.running.join(seedOf(via));
      return started;
    },
    stop,
  };
};
