/**
 * FindNode → Nodes: the K contacts we know closest to the key, never the asker
 * itself. Contacts that failed their last request are offered only when too
 * few healthy ones are known: after a wave of departures, dead contacts would
 * otherwise crowd live ones out of every answer and hide them from lookups.
 */
import type { FindNode } from '../../protocol/messages.js';
import { compareDistance } from '../../routing/distance.js';
import { type HandlerContext, type ReplyBody, toWireContacts } from './context.js';

export const handleFindNode = (ctx: HandlerContext, request: Pick<FindNode, 'key'>, senderId: Uint8Array): ReplyBody => {
  const k = ctx.options.k;
  const candidates = ctx.table.closest(request.key, 2 * k, senderId);
  const healthy = candidates.filter((c) => c.failures === 0);
  if (healthy.length >= k || healthy.length === candidates.length) return toWireContacts(healthy.slice(0, k));
  const chosen = healthy.concat(candidates.filter((c) => c.failures > 0).slice(0, k - healthy.length));
  chosen.sort((a, b) => compareDistance(a.id, b.id, request.key));
  return toWireContacts(chosen);
};
