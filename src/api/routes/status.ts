/**
 * GET /api/v1/status: who this node is and how much it knows.
 */
import type { FastifyInstance } from 'fastify';
import { toHex } from '../../crypto/bytes.js';
import type { StatusJson } from '../types.js';
import type { RouteContext } from './context.js';

export const registerStatusRoutes = (app: FastifyInstance, { node, version }: RouteContext): void => {
  app.get('/api/v1/status', async (): Promise<StatusJson> => ({
    public_key: toHex(node.publicKey),
    node_id: toHex(node.nodeId),
    version,
    port: node.address.port,
    peers: node.table.size,
    items: node.store.size,
  }));
};
