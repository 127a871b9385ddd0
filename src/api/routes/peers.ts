/**
 * GET /api/v1/peers: the contacts in the routing table, in bucket order.
 */
import type { FastifyInstance } from 'fastify';
import { toHex } from '../../crypto/bytes.js';
import type { Contact } from '../../routing/contact.js';
import type { PeerJson, PeersJson } from '../types.js';
import type { RouteContext } from './context.js';

export const peerToJson = (contact: Contact): PeerJson => ({
  node_id: contact.idHex,
  public_key: toHex(contact.publicKey),
  host: contact.host,
  port: contact.port,
  last_seen: contact.lastSeenMs,
  failures: contact.failures,
  rtt_ms: contact.rttMs ?? null,
});

export const registerPeerRoutes = (app: FastifyInstance, { node }: RouteContext): void => {
  app.get('/api/v1/peers', async (): Promise<PeersJson> => ({ peers: node.table.contacts().map(peerToJson) }));
};
