/**
 * Hand-built sealed requests for tests that play a peer without running a
 * node: floods, spoofed sources, oversized asks. Request ids come from a
 * seeded random source, so runs repeat.
 */
import { sha512 } from '../../src/crypto/hash.js';
import { Identity } from '../../src/crypto/identity.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import type { Message, MessageBody, Request } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import type { Random } from '../../src/runtime/random.js';

export const identityOf = (label: string): Identity => Identity.fromSeed(sha512(Buffer.from(label)).subarray(0, 32));

export interface RawRequestOptions {
  readonly replyPort?: number;
  /** Pads the sealed message to at least this many bytes (0: no padding). */
  readonly padToBytes?: number;
  /** Seal with the session key shared with the recipient instead of a signature. */
  readonly mac?: boolean;
}

/** A request from `sender` to `to`, sealed as a peer would seal it. */
export const rawRequest = (sender: Identity, to: DrogulusNode, body: MessageBody<Request>, random: Random, options: RawRequestOptions = {}): Buffer => {
  const message = {
    ...body,
    requestId: Buffer.from(random.bytes(16)),
    senderPublicKey: sender.publicKey,
    replyPort: options.replyPort ?? 1908,
    version: PROTOCOL_VERSION,
    recipientId: to.nodeId,
  } as Message;
  return encodeMessage(message, sender, options.mac ? sender.agree(to.publicKey) : undefined, { padToBytes: options.padToBytes ?? 0 });
};
