/** Ping → Pong: proves liveness and, sealed over the ping's id, the address. */
import type { HandlerContext, ReplyBody } from './context.js';

export const handlePing = (_ctx: HandlerContext): ReplyBody => ({ type: 'pong' });
