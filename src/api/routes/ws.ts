/**
 * GET /api/v1/ws: the live API over a WebSocket (docs/api.md, "WebSocket
 * API"). The upgrade request passes the same hooks as every HTTP request
 * (Host, Origin, rate limit); this route adds the connection limit and hands
 * each connection to a LiveSession.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { ApiError } from '../errors.js';
import type { LiveHub } from '../live/hub.js';
import { CLOSE_TRY_AGAIN_LATER, LiveSession } from '../live/session.js';
import type { RouteContext } from './context.js';

export const LIVE_PATH = '/api/v1/ws';

const isUpgrade = (request: FastifyRequest): boolean => (request.headers.upgrade ?? '').toLowerCase() === 'websocket';

/** A text message's string; undefined for a binary one. */
const textOf = (data: RawData, isBinary: boolean): string | undefined => {
  if (isBinary) return undefined;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as Buffer).toString('utf8');
};

export const registerLiveRoutes = (app: FastifyInstance, context: RouteContext & { readonly hub: LiveHub }): void => {
  const { hub, node, metrics, tokenCheck, limiter } = context;
  app.route({
    method: 'GET',
    url: LIVE_PATH,
    onRequest: async (request) => {
      if (isUpgrade(request) && hub.isFull) throw ApiError.of('too_many_connections', `the WebSocket API has ${hub.size} connections, the most it takes: try again later`);
    },
    handler: async () => {
      throw ApiError.of('upgrade_required', `${LIVE_PATH} takes WebSocket upgrades only (Connection: Upgrade, Upgrade: websocket)`);
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      // Upgrades finish asynchronously: the check above may have let one too many through.
      if (hub.isFull) {
        socket.close(CLOSE_TRY_AGAIN_LATER, 'too many connections; try again later');
        return;
      }
      const session = new LiveSession(socket, {
        node,
        metrics,
        tokenCheck,
        limiter,
        address: request.ip,
        settings: hub.settings,
        logError: (error) => request.log.error({ err: error }, 'WebSocket operation failed'),
      });
      hub.add(session);
      metrics.connectionOpened();
      // The TCP socket says when it has flushed what it buffered; ws does not.
      const tcp = request.raw.socket;
      const onDrain = (): void => session.drained();
      tcp.on('drain', onDrain);
      socket.on('message', (data, isBinary) => session.receive(textOf(data, isBinary)));
      socket.once('close', () => {
        tcp.off('drain', onDrain);
        session.close();
        hub.remove(session);
        metrics.connectionClosed();
      });
    },
  });
};
