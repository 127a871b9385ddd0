/**
 * FindValue → Value when we hold a live copy (and note the read, which keeps a
 * cached copy alive), otherwise Nodes as for FindNode.
 */
import { isExpired } from '../../protocol/item.js';
import type { FindValue } from '../../protocol/messages.js';
import type { HandlerContext, ReplyBody } from './context.js';
import { handleFindNode } from './find-node.js';

export const handleFindValue = (ctx: HandlerContext, request: FindValue, senderId: Uint8Array): ReplyBody => {
  const held = ctx.store.get(request.key);
  if (held && !isExpired(held.item, ctx.now())) {
    ctx.store.touch(request.key, ctx.now());
    return { type: 'value', item: held.item };
  }
  return handleFindNode(ctx, request, senderId);
};
