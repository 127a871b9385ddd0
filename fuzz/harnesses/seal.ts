/**
 * Harness 2, seals and item signatures. From fuzz data it builds an item
 * (usually genuine, sometimes outside the limits, signed by the wrong peer or
 * changed after signing: the builder knows which) and a message carrying it,
 * sealed with a signature or a MAC and then possibly altered. It checks:
 *  - itemSigningBytes equals the spec's layout, written independently;
 *  - checkItem never throws and answers exactly what "Checking an item"
 *    requires: the limit's code, then 6 unless the signature is genuine, then
 *    7 for a wrong key, then 1 when expired; so only genuine signatures pass;
 *  - decodeMessage accepts a sealed message only as it was sealed, for its
 *    recipient: any changed byte, another pair's MAC, a seal moved from another
 *    message or a MAC checked at another node is refused with 6 (or an earlier code).
 */
import { checkItem, checkItemShape, DEFAULT_ITEM_LIMITS, itemSigningBytes } from '../../src/protocol/item.js';
import { type CodecOptions, DEFAULT_CODEC_OPTIONS, decodeMessage, encodeMessage } from '../../src/protocol/codec.js';
import type { Message } from '../../src/protocol/messages.js';
import { buildItem, T0_MS } from '../lib/build.js';
import { checkDecodeResult } from '../lib/checks.js';
import { DataProvider } from '../lib/data-provider.js';
import { check, type Harness } from '../lib/harness.js';
import { PEERS, RECEIVER, sessionKeyBetween } from '../lib/identities.js';
import { specCheck, specSigningBytes } from '../lib/spec-item.js';
import { frame, MAC_MARKER, unframe } from '../lib/wire.js';

const receiverOptions: CodecOptions = { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => sessionKeyBetween(RECEIVER, pk) };
/** Another node, where a MAC sealed for RECEIVER must not verify. */
const BYSTANDER = PEERS[7];
const bystanderOptions: CodecOptions = { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => sessionKeyBetween(BYSTANDER, pk) };

const checkItemAgainstSpec = (p: DataProvider): ReturnType<typeof buildItem> => {
  const nowMs = p.oneIn(4) ? p.time(T0_MS) : T0_MS;
  const built = buildItem(p, T0_MS);
  const { item } = built;
  const shape = checkItemShape(item, DEFAULT_ITEM_LIMITS);
  const answer = checkItem(item, nowMs);
  if (built.breaches.size > 0) {
    check(shape !== undefined && built.breaches.has(shape.code as 1 | 4), () => `checkItemShape missed a limit\ngot ${shape?.code}, breaches ${[...built.breaches]}`);
    check(answer !== undefined && built.breaches.has(answer.code as 1 | 4), () => `checkItem did not refuse an item outside the limits with the limit's code\ngot ${answer?.code} (${answer?.message}), expected ${[...built.breaches].join(' or ')}`);
    return built;
  }
  check(shape === undefined, () => `checkItemShape refused an item within the limits\n${shape?.code} ${shape?.message}`);
  check(itemSigningBytes(item).equals(specSigningBytes(item)), 'itemSigningBytes differs from the spec layout');
  const expected = Number.isInteger(nowMs) && nowMs >= 0 ? specCheck(item, nowMs, built.genuine) : undefined;
  if (expected !== undefined || (Number.isInteger(nowMs) && nowMs >= 0)) {
    check(answer?.code === expected, () => `checkItem disagrees with the spec\ngot ${answer?.code} (${answer?.message}), expected ${expected} (genuine ${built.genuine})`);
  }
  return built;
};

type Alteration = 'none' | 'flip-body' | 'flip-seal' | 'other-seal' | 'other-pair' | 'bystander' | 'marker' | 'truncate' | 'append';
const ALTERATIONS: readonly Alteration[] = ['none', 'flip-body', 'flip-seal', 'other-seal', 'other-pair', 'bystander', 'marker', 'truncate', 'append'];

const checkSeal = (p: DataProvider, built: ReturnType<typeof buildItem>): void => {
  const sender = p.pick(PEERS.slice(0, 7));
  const mac = p.bool();
  const body = built.breaches.size === 0 && p.bool() ? { type: 'store' as const, item: built.item } : { type: 'ping' as const };
  const message = { ...body, requestId: p.bytes(16), senderPublicKey: sender.publicKey, replyPort: 1908, version: 1, recipientId: RECEIVER.nodeId } as Message;
  const sessionKey = mac ? sessionKeyBetween(sender, RECEIVER.publicKey) : undefined;
  const sealed = encodeMessage(message, sender, sessionKey);
  const framed = unframe(sealed)!;
  const alteration = p.pick(ALTERATIONS);
  let bytes: Buffer = sealed;
  let options = receiverOptions;
  switch (alteration) {
    case 'flip-body':
    case 'flip-seal': {
      bytes = Buffer.from(sealed);
      const start = alteration === 'flip-seal' ? sealed.length - framed.seal.length : mac ? 1 : 0;
      const end = alteration === 'flip-seal' ? sealed.length : sealed.length - framed.seal.length;
      bytes[start + p.int(end - start - 1)] ^= 1 << p.int(7);
      break;
    }
    case 'other-seal': {
      // The seal of the same body sent by another peer: right form, wrong signer.
      const other = p.pick(PEERS.filter((x) => x !== sender));
      const resealed = frame(framed.body, other, mac ? sessionKeyBetween(other, RECEIVER.publicKey) : undefined);
      bytes = Buffer.concat([sealed.subarray(0, sealed.length - framed.seal.length), resealed.subarray(resealed.length - framed.seal.length)]);
      break;
    }
    case 'other-pair':
      // A MAC under the key the sender shares with someone else.
      bytes = frame(framed.body, sender, sessionKeyBetween(sender, BYSTANDER.publicKey));
      break;
    case 'bystander':
      options = bystanderOptions;
      break;
    case 'marker':
      bytes = mac ? sealed.subarray(1) : Buffer.concat([Buffer.from([MAC_MARKER]), sealed]);
      break;
    case 'truncate':
      bytes = sealed.subarray(0, p.int(sealed.length - 1));
      break;
    case 'append':
      bytes = Buffer.concat([sealed, p.bytes(1 + p.int(63))]);
      break;
    default:
      break;
  }
  const result = decodeMessage(bytes, options);
  checkDecodeResult(result, bytes, options.sessionKeyFor);
  // A bystander can check a signature (that is the point of one), never a MAC.
  const genuine = bytes.equals(sealed) && (alteration !== 'bystander' || !mac);
  if (genuine) {
    check(result.ok, () => `a genuinely sealed message was refused\n${result.ok ? '' : `${result.error.code} ${result.error.message}`}`);
  } else {
    check(!result.ok, () => `an altered seal was accepted\n${alteration}, ${mac ? 'MAC' : 'signature'}`);
  }
};

export const sealHarness: Harness = {
  name: 'seal',
  description: 'checkItem/itemSigningBytes against the spec on items built from fuzz data; message seals and MACs accept only what was sealed, for its recipient',
  maxLength: 2048,
  run: (data) => {
    const p = new DataProvider(data);
    const built = checkItemAgainstSpec(p);
    checkSeal(p, built);
  },
  seeds: () => Array.from({ length: 16 }, (_, i) => ({ name: `seed-${i}.bin`, data: Buffer.from(Array.from({ length: 96 }, (_, j) => (i * 37 + j * 11) & 0xff)) })),
};
