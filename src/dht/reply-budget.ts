/**
 * Fitting a reply into a byte budget: to an address that has not proven it
 * receives what we send (docs/protocol.md, "Reflection"), a node sends no
 * more bytes than the request brought. A Nodes reply loses its farthest
 * contacts; a Value too big becomes a small Error 4 that says so (the
 * requester earns the full reply by answering our challenge); a reply that
 * cannot shrink enough is not sent. Pure: the caller encodes and sends.
 */
import { ErrorCode } from '../protocol/errors.js';
import { errorReply, type ReplyBody } from './handlers/context.js';

/** Bytes of one IPv4 contact in a Nodes reply: the fallback step when shrinking. */
const CONTACT_BYTES = 44;

/** The details key of an Error 4 sent instead of a Value too big for an unproven address: the Value's size. */
export const UNPROVEN_DETAIL = 'unproven_reply_bytes';

export interface FittedReply {
  readonly body: ReplyBody;
  readonly bytes: Buffer;
  /** True when the body is not the one the handler gave (fewer contacts, or an Error for a Value). */
  readonly shrunk: boolean;
}

export const fitReply = (body: ReplyBody, encode: (body: ReplyBody) => Buffer, budgetBytes: number): FittedReply | undefined => {
  const full = encode(body);
  if (full.length <= budgetBytes) return { body, bytes: full, shrunk: false };
  if (body.type === 'nodes') {
    let count = body.nodes.length;
    let size = full.length;
    while (count > 0) {
      count = Math.max(0, count - Math.max(1, Math.ceil((size - budgetBytes) / CONTACT_BYTES)));
      const smaller: ReplyBody = { type: 'nodes', nodes: body.nodes.slice(0, count) };
      const bytes = encode(smaller);
      if (bytes.length <= budgetBytes) return { body: smaller, bytes, shrunk: true };
      size = bytes.length;
    }
    return undefined;
  }
  if (body.type === 'value') {
    const refusal = errorReply(ErrorCode.RequestTooBig, 'the value is larger than your request, and your address is not proven yet: answer our Ping, then ask again', {
      [UNPROVEN_DETAIL]: String(full.length),
    });
    const bytes = encode(refusal);
    if (bytes.length <= budgetBytes) return { body: refusal, bytes, shrunk: true };
    const bare = errorReply(ErrorCode.RequestTooBig, 'unproven address', { [UNPROVEN_DETAIL]: String(full.length) });
    const bareBytes = encode(bare);
    return bareBytes.length <= budgetBytes ? { body: bare, bytes: bareBytes, shrunk: true } : undefined;
  }
  return undefined;
};
