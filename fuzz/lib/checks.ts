/**
 * Checks shared by the harnesses: what any decode result must look like, by
 * the spec ("Decoding", "Message types"), whatever bytes it came from.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { DecodeResult } from '../../src/protocol/codec.js';
import type { Message } from '../../src/protocol/messages.js';
import { check } from './harness.js';
import { specLimitBreaches } from './spec-item.js';
import { MAC_MARKER, sealVerifies, unframe } from './wire.js';

export const MAX_MESSAGE_BYTES = 84_352;

/** A deep copy with byte arrays as hex, so equality compares bytes, not classes; -0 is 0, as it is on the wire. */
export const plain = (x: unknown): unknown => {
  if (x === 0) return 0;
  if (x instanceof Uint8Array) return `hex:${Buffer.from(x.buffer, x.byteOffset, x.length).toString('hex')}`;
  if (Array.isArray(x)) return x.map(plain);
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
};

export const samePlain = (a: unknown, b: unknown): boolean => isDeepStrictEqual(plain(a), plain(b));

const isBytes = (x: unknown, length: number): boolean => x instanceof Uint8Array && x.length === length;
const isPort = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 65535;

/** The fields of an accepted message obey the spec's tables. */
export const checkMessageShape = (m: Message): void => {
  check(m.version === 1, `accepted version ${m.version}`);
  check(isBytes(m.requestId, 16), 'accepted a request id that is not 16 bytes');
  check(isBytes(m.senderPublicKey, 32), 'accepted a sender key that is not 32 bytes');
  check(isPort(m.replyPort), `accepted port ${m.replyPort}`);
  check(isBytes(m.recipientId, 64) || (m.type === 'ping' && isBytes(m.recipientId, 0)), `accepted a ${m.type} with a ${m.recipientId.length}-byte recipient`);
  switch (m.type) {
    case 'find-node':
    case 'find-value':
      check(isBytes(m.key, 64), 'accepted a key that is not 64 bytes');
      break;
    case 'store':
    case 'value': {
      const breaches = specLimitBreaches(m.item);
      check(breaches.size === 0, () => `accepted an item outside the limits (codes ${[...breaches].join(', ')})`);
      check(isBytes(m.item.signature, 64), 'accepted an item signature that is not 64 bytes');
      break;
    }
    case 'nodes':
      check(m.nodes.length <= 64, `accepted ${m.nodes.length} contacts`);
      for (const c of m.nodes) {
        check(isBytes(c.publicKey, 32) && isIP(c.host) !== 0 && isPort(c.port), () => `accepted contact ${c.host}:${c.port}`);
      }
      break;
    case 'error':
      check(Number.isInteger(m.code) && m.code >= 1 && m.code <= 8, `accepted error code ${m.code}`);
      check(typeof m.title === 'string' && m.title.length <= 128, 'accepted an over-long title');
      check(Object.keys(m.details).length <= 16, 'accepted more than 16 details');
      for (const [k, v] of Object.entries(m.details)) check(typeof v === 'string' && k.length + v.length <= 1024, 'accepted an over-long detail');
      break;
    default:
      break;
  }
};

/**
 * Any decode result of `bytes`: a refusal carries a code 1..8 and a message; an
 * acceptance has a genuine seal (checked independently), fields within the
 * spec, and the sender id SHA-512(pk). `sessionKey` is the receiver's key for a sender.
 */
export const checkDecodeResult = (result: DecodeResult, bytes: Uint8Array, sessionKey: ((pk: Uint8Array) => Uint8Array | undefined) | undefined, sealChecked = true): void => {
  check(typeof result === 'object' && result !== null && typeof result.ok === 'boolean', 'decode returned no result');
  if (!result.ok) {
    const { code, message } = result.error;
    check(Number.isInteger(code) && code >= 1 && code <= 8, `refused with code ${code}`);
    check(typeof message === 'string' && message.length > 0, 'refused without a message');
    if (bytes.length > MAX_MESSAGE_BYTES) check(code === 4, `refused an oversized message with ${code}, not 4`);
    if (result.error.requestId !== undefined) check(isBytes(result.error.requestId, 16), 'a refusal hints a request id that is not 16 bytes');
    if (result.error.senderPublicKey !== undefined) check(isBytes(result.error.senderPublicKey, 32), 'a refusal hints a key that is not 32 bytes');
    if (result.error.replyPort !== undefined) check(isPort(result.error.replyPort), 'a refusal hints a bad port');
    return;
  }
  const { message, sealKind, senderId } = result.value;
  check(bytes.length <= MAX_MESSAGE_BYTES, `accepted a ${bytes.length}-byte message`);
  checkMessageShape(message);
  check(sealKind === (bytes[0] === MAC_MARKER ? 'mac' : 'signature'), `seal kind ${sealKind} for first byte ${bytes[0]}`);
  check(Buffer.from(senderId).equals(createHash('sha512').update(message.senderPublicKey).digest()), 'sender id is not SHA-512(pk)');
  if (sealChecked) {
    const framed = unframe(bytes);
    check(framed !== undefined, 'accepted a message too short for its seal');
    check(sealVerifies(framed!, message.senderPublicKey, sessionKey?.(message.senderPublicKey)), 'accepted a message whose seal does not verify');
    if (sealKind === 'mac') check(message.recipientId.length === 64, 'accepted a MAC-sealed message without a recipient');
  }
};
