/**
 * Helpers for the WebSocket tests: nodes on a MemoryNetwork in real time
 * (SystemClock, 1 ms latency) with API servers really listening on
 * 127.0.0.1, and an Inbox that collects what a `ws` client receives and
 * waits, event-driven and bounded, for the message a test expects.
 */
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { type ApiServerOptions, createApiServer } from '../../src/api/server.js';
import type { LiveMessage } from '../../src/api/types.js';
import { Identity } from '../../src/crypto/identity.js';
import { DrogulusNode } from '../../src/dht/node.js';
import { hours } from '../../src/runtime/clock.js';
import { SystemRandom } from '../../src/runtime/random.js';
import { SystemClock } from '../../src/runtime/system-clock.js';
import { MemoryItemStore } from '../../src/storage/memory-item-store.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { TOKEN, VERSION } from './fixtures.js';

export const WAIT_MS = 5_000;

export interface LiveNet {
  readonly nodes: DrogulusNode[];
  /** A new node, started, joined through the first when there is one. */
  addNode(): Promise<DrogulusNode>;
  /** An API server for `node`, listening on 127.0.0.1; resolves with its base URL. */
  listen(node: DrogulusNode, options?: Omit<ApiServerOptions, 'node' | 'token' | 'version'>): Promise<{ app: FastifyInstance; url: string; wsUrl: string }>;
  close(): Promise<void>;
}

export const createLiveNet = async (size: number): Promise<LiveNet> => {
  const clock = new SystemClock();
  const network = new MemoryNetwork({ clock, random: new SystemRandom(), latencyMs: 1 });
  const nodes: DrogulusNode[] = [];
  const apps: FastifyInstance[] = [];
  const addNode = async (): Promise<DrogulusNode> => {
    const node = new DrogulusNode({
      identity: Identity.generate(),
      transport: network.createTransport(),
      clock,
      random: new SystemRandom(),
      store: new MemoryItemStore(),
      // Real timers: Node's setTimeout takes at most 2^31 - 1 ms, so "never" is a day here.
      options: { refreshIntervalMs: hours(24) },
    });
    node.start();
    const first = nodes[0];
    nodes.push(node);
    if (first) await node.join([{ ...first.address, publicKey: first.publicKey }]);
    return node;
  };
  for (let i = 0; i < size; i++) await addNode();
  return {
    nodes,
    addNode,
    async listen(node, options = {}) {
      const app = createApiServer({ node, token: TOKEN, version: VERSION, host: '127.0.0.1', ...options });
      apps.push(app);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      return { app, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/api/v1/ws` };
    },
    async close() {
      await Promise.all(apps.map((app) => app.close()));
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
};

/** Everything a `ws` client receives, and bounded waits for what a test expects next. */
export class Inbox {
  readonly messages: LiveMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as LiveMessage);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
  }

  /** Opens a connection; rejects with the HTTP status when the upgrade is refused. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<Inbox> {
    const socket = new WebSocket(url, { headers, perMessageDeflate: false });
    const inbox = new Inbox(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => {
        reject(Object.assign(new Error(`the upgrade was refused with HTTP ${response.statusCode}`), { statusCode: response.statusCode }));
        socket.terminate();
      });
      socket.once('error', reject);
    });
    return inbox;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The messages tagged with `id`, in order. */
  of(id: string | null): LiveMessage[] {
    return this.messages.filter((m) => m.id === id);
  }

  /** Waits until `done` holds for the messages received so far (or the socket closes, or WAIT_MS pass). */
  until(done: (messages: readonly LiveMessage[]) => boolean, what = 'the expected message'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        if (done(this.messages)) {
          finish();
          resolve();
          return true;
        }
        if (this.closed) {
          finish();
          reject(new Error(`the connection closed (${this.closed.code} ${this.closed.reason}) before ${what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${WAIT_MS} ms; received ${JSON.stringify(this.messages.slice(-5))}`));
      }, WAIT_MS);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Waits for the message with `id` and one of `types`, and returns it. */
  async next<T extends LiveMessage['type']>(id: string | null, ...types: T[]): Promise<Extract<LiveMessage, { type: T }>> {
    const find = (): LiveMessage | undefined => this.messages.find((m) => m.id === id && (types as string[]).includes(m.type));
    await this.until(() => find() !== undefined, `${types.join('/')} for ${id}`);
    return find() as Extract<LiveMessage, { type: T }>;
  }

  /** Sends a request and waits for its outcome (one of `types`, or an error). */
  async ask<T extends LiveMessage['type']>(message: { id: string; type: string; [field: string]: unknown }, ...types: T[]): Promise<Extract<LiveMessage, { type: T | 'error' }>> {
    this.send(message);
    return this.next<T | 'error'>(message.id, ...types, 'error');
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
