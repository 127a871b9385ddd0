/**
 * Assembles a real node: the DHT core of src/dht, unchanged, over UDP/TCP
 * sockets, a SQLite store and the system clock, with the local HTTP API in
 * front of it; joins, saves its routing table as it goes, and stops cleanly.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { uiRoutes } from '../api/routes/ui.js';
import { createApiServer } from '../api/server.js';
import type { Identity } from '../crypto/identity.js';
import { toHex } from '../crypto/bytes.js';
import { type NodeOptions, resolveOptions } from '../dht/defaults.js';
import { DrogulusNode, type Seed } from '../dht/node.js';
import type { NodeEvent } from '../dht/events.js';
import type { TableSnapshot } from '../routing/routing-table.js';
import { SystemClock } from '../runtime/system-clock.js';
import { SystemRandom } from '../runtime/random.js';
import { SqliteItemStore } from '../storage/sqlite-item-store.js';
import { UdpTransport } from '../transport/udp-transport.js';
import { FILES } from './data-dir.js';
import type { Profile } from './profile.js';
import { VERSION } from './version.js';

export interface RunNodeOptions {
  readonly identity: Identity;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly apiHost: string;
  /** 0 picks a free port; undefined runs no API. */
  readonly apiPort: number | undefined;
  readonly apiToken: string;
  /** Names other than the API's address that its Host header may carry (see docs/api.md, "Security"). */
  readonly apiAllowedHosts?: readonly string[];
  readonly logger: Logger;
  readonly profile?: Profile;
  readonly nodeOptions?: Partial<NodeOptions>;
}

export interface RunningNode {
  readonly node: DrogulusNode;
  readonly api: FastifyInstance | undefined;
  /** The API's base URL, e.g. http://127.0.0.1:1909. */
  readonly apiUrl: string | undefined;
  readonly transport: UdpTransport;
  /** Joins through seeds, a saved table, or (with neither) the table saved last time; one attempt, which throws when nobody answers. */
  join(seeds?: readonly Seed[] | TableSnapshot): Promise<{ contacts: number; source: string }>;
  /**
   * Like join, but a failed attempt is retried with exponential backoff (1 s doubling to 60 s)
   * until one succeeds or the node stops: seeds that are down at start, or a saved table
   * whose contacts have not come back yet, must not leave the node alone for good.
   */
  keepJoining(seeds?: readonly Seed[] | TableSnapshot): Promise<{ contacts: number; source: string } | undefined>;
  stop(): Promise<void>;
}

/**
 * How often the routing table is checked and written when it changed: a node killed without warning restarts from
 * a table at most this old. Checking is one JSON.stringify of the table; writing happens only on change.
 */
const TABLE_SAVE_INTERVAL_MS = 1_000;
const JOIN_RETRY_FIRST_MS = 1_000;
const JOIN_RETRY_MAX_MS = 60_000;

export const runNode = async (options: RunNodeOptions): Promise<RunningNode> => {
  const { logger } = options;
  const store = SqliteItemStore.open(join(options.dataDir, FILES.database));
  let transport: UdpTransport;
  try {
    transport = await UdpTransport.bind({ host: options.host, port: options.port, maxMessageBytes: resolveOptions(options.nodeOptions).maxMessageBytes });
  } catch (error) {
    store.close();
    throw error;
  }
  const node = new DrogulusNode({
    identity: options.identity,
    transport,
    clock: new SystemClock(),
    random: new SystemRandom(),
    store,
    options: options.nodeOptions,
    profile: options.profile && Object.keys(options.profile).length > 0 ? (options.profile as Record<string, string>) : undefined,
  });
  node.onEvent((event) => logEvent(logger, event, store, node));
  node.start();
  // The snapshot has no timestamps, so an unchanged table serialises identically and is not rewritten.
  let savedTable = '';
  const saveTableIfChanged = (): void => {
    const snapshot = node.table.toSnapshot();
    const text = JSON.stringify(snapshot);
    if (text === savedTable) return;
    store.saveTable(snapshot);
    savedTable = text;
  };
  const saveTimer = setInterval(saveTableIfChanged, TABLE_SAVE_INTERVAL_MS);
  saveTimer.unref();
  const stopController = new AbortController();

  let api: FastifyInstance | undefined;
  let apiUrl: string | undefined;
  if (options.apiPort !== undefined) {
    api = createApiServer({
      node,
      token: options.apiToken,
      version: VERSION,
      logger: logger.child({ component: 'api' }),
      // The Host check takes the listening address and port; other names must be allowed by name.
      host: options.apiHost,
      allowedHosts: options.apiAllowedHosts,
    });
    try {
      await api.register(uiRoutes, { node });
      await api.listen({ host: options.apiHost, port: options.apiPort });
    } catch (error) {
      clearInterval(saveTimer);
      await node.stop();
      store.close();
      throw error;
    }
    const address = api.server.address();
    const port = typeof address === 'object' && address ? address.port : options.apiPort;
    apiUrl = `http://${options.apiHost.includes(':') ? `[${options.apiHost}]` : options.apiHost}:${port}`;
  }
  logger.info({ publicKey: toHex(node.publicKey), nodeId: toHex(node.nodeId), port: transport.localAddress.port, api: apiUrl }, 'node started');

  let stopping: Promise<void> | undefined;
  const joinOnce = async (seeds?: readonly Seed[] | TableSnapshot): Promise<{ contacts: number; source: string }> => {
    const source = seeds ? (Array.isArray(seeds) ? 'bootstrap' : 'peers file') : 'saved routing table';
    const chosen = seeds ?? store.loadTable();
    if (!chosen || (!Array.isArray(chosen) && (chosen as TableSnapshot).contacts?.length === 0)) {
      logger.warn('no bootstrap, peers file or saved routing table: running alone until another node joins through us');
      return { contacts: 0, source: 'none' };
    }
    const result = await node.join(chosen, { signal: stopController.signal });
    saveTableIfChanged();
    logger.info({ contacts: result.contacts, source }, 'joined the network');
    return { contacts: result.contacts, source };
  };
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        stopController.signal.removeEventListener('abort', done);
        resolve();
      }
      stopController.signal.addEventListener('abort', done, { once: true });
    });
  return {
    node,
    api,
    apiUrl,
    transport,
    join: joinOnce,
    async keepJoining(seeds) {
      // The saved table is read once: later attempts must not pick up a table this node emptied while failing.
      const chosen = seeds ?? store.loadTable();
      for (let delay = JOIN_RETRY_FIRST_MS; !stopController.signal.aborted; delay = Math.min(delay * 2, JOIN_RETRY_MAX_MS)) {
        try {
          return await joinOnce(chosen);
        } catch (error) {
          if (stopController.signal.aborted) break;
          // Someone may have joined through us meanwhile. The table alone does not tell (a failed join from a saved
          // table leaves its dead contacts there): a join from what the table holds now does.
          if (node.table.size > 0) {
            const inbound = await node.join(node.table.toSnapshot(), { signal: stopController.signal }).catch(() => undefined);
            if (inbound) {
              saveTableIfChanged();
              logger.info({ contacts: inbound.contacts }, 'joined the network through nodes that contacted us');
              return { contacts: inbound.contacts, source: 'inbound' };
            }
            if (stopController.signal.aborted) break;
          }
          logger.warn({ err: (error as Error).message, retryInMs: delay }, 'could not join yet; retrying, and others may join through us meanwhile');
          await pause(delay);
        }
      }
      return undefined;
    },
    stop() {
      stopping ??= (async () => {
        stopController.abort();
        clearInterval(saveTimer);
        // Stop taking API requests first, then let the node fail what is in flight and save its table.
        await api?.close().catch(() => undefined);
        await node.stop();
        store.close();
        logger.info('node stopped');
      })();
      return stopping;
    },
  };
};

const logEvent = (logger: Logger, event: NodeEvent, store: SqliteItemStore, node: DrogulusNode): void => {
  switch (event.type) {
    case 'blacklisted':
      // A blacklisting must survive a crash: save now rather than at the next interval.
      store.saveTable(node.table.toSnapshot());
      logger.warn({ nodeId: event.idHex, reason: event.reason }, 'peer blacklisted');
      break;
    case 'item-stored':
      logger.debug({ key: toHex(event.item.key), refreshed: event.refreshed }, 'item stored');
      break;
    case 'item-refused':
      logger.info({ key: event.keyHex, code: event.code, reason: event.reason }, 'item refused');
      break;
    case 'message-dropped':
      logger.warn({ reason: event.reason }, 'message dropped');
      break;
    default:
      logger.debug(event, event.type);
  }
};
