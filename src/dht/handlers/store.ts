/**
 * Store → Pong or Error, with the checks in the reference's order: signature
 * (6, sender blacklisted), key (7, sender blacklisted), expiry and clock skew
 * (1), then the held version: an older item gets 8 with the held timestamp,
 * the identical item is a refresh, a newer one replaces it; last the quotas
 * (4 when a full store can evict nothing fairly: src/storage/quota.ts).
 */
import { toHex } from '../../crypto/bytes.js';
import { ErrorCode } from '../../protocol/errors.js';
import { checkItem, compareItemVersions, type Item } from '../../protocol/item.js';
import { planStore } from '../../storage/quota.js';
import { errorReply, type HandlerContext, type ReplyBody } from './context.js';

export type StoreOutcome = { readonly stored: true; readonly refreshed: boolean } | { readonly stored: false; readonly code: ErrorCode; readonly message: string; readonly heldTimestamp?: number };

/** Applies the store rules to an item, from the network or from our own API. */
export const acceptItem = (ctx: HandlerContext, item: Item): StoreOutcome => {
  const now = ctx.now();
  const problem = checkItem(item, now);
  if (problem) return { stored: false, code: problem.code, message: problem.message };
  if (item.timestamp > now + ctx.options.maxClockSkewMs) {
    return { stored: false, code: ErrorCode.BadRequest, message: `the item timestamp is more than ${ctx.options.maxClockSkewMs} ms in the future` };
  }
  const held = ctx.store.get(item.key);
  if (held) {
    const order = compareItemVersions(item, held.item);
    if (order < 0) {
      return { stored: false, code: ErrorCode.SupersededValue, message: 'a newer version of this item is held', heldTimestamp: held.item.timestamp };
    }
    if (order === 0) {
      ctx.store.markUpdated(item.key, now);
      return { stored: true, refreshed: true };
    }
  }
  const { maxStoredItems, maxStoredBytes, maxItemsPerPublisher, maxBytesPerPublisher } = ctx.options;
  const limits = { maxItems: maxStoredItems, maxBytes: maxStoredBytes, maxItemsPerPublisher, maxBytesPerPublisher };
  const plan = planStore(ctx.store, item, now, limits, (key) => ctx.isCachedCopy(key));
  if (!plan.ok) return { stored: false, code: ErrorCode.RequestTooBig, message: plan.message };
  for (const { stored, reason } of plan.evict) {
    ctx.store.delete(stored.item.key);
    ctx.emit({ type: 'item-dropped', keyHex: toHex(stored.item.key), reason: `evicted for a new item (${reason})` });
  }
  ctx.store.put(item, now);
  return { stored: true, refreshed: false };
};

export const handleStore = (ctx: HandlerContext, item: Item, senderPublicKey: Uint8Array): ReplyBody => {
  const outcome = acceptItem(ctx, item);
  if (outcome.stored) {
    ctx.emit({ type: 'item-stored', item, refreshed: outcome.refreshed });
    return { type: 'pong' };
  }
  ctx.emit({ type: 'item-refused', keyHex: toHex(item.key), code: outcome.code, reason: outcome.message });
  if (outcome.code === ErrorCode.UnverifiableProvenance || outcome.code === ErrorCode.KeyMismatch) {
    ctx.blacklist(senderPublicKey, `sent a forged item: ${outcome.message}`);
    return errorReply(outcome.code, `${outcome.message}; you have been blacklisted`);
  }
  const extra: Record<string, string> = outcome.heldTimestamp !== undefined ? { timestamp: String(outcome.heldTimestamp) } : {};
  return errorReply(outcome.code, outcome.message, extra);
};
