/** FindNode → Nodes: the K contacts we know closest to the key, never the asker itself. */
import type { FindNode } from '../../protocol/messages.js';
import { type HandlerContext, type ReplyBody, toWireContacts } from './context.js';

export const handleFindNode = (ctx: HandlerContext, request: Pick<FindNode, 'key'>, senderId: Uint8Array): ReplyBody =>
  toWireContacts(ctx.table.closest(request.key, ctx.options.k, senderId));
