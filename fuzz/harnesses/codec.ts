/**
 * Harness 1, the codec. Every input is used twice:
 *  - as message bytes: decodeMessage (without and with session keys) and
 *    inspectMessage must not throw, must refuse with a code 1..8 or accept a
 *    message whose seal really verifies and whose fields obey the spec;
 *  - as fuzz data building a message of any type (FuzzedDataProvider style),
 *    with at most one field broken on purpose: decode(encode(m)) must equal m
 *    when m is valid, and refuse with the spec's code when it is not.
 */
import { DEFAULT_CODEC_OPTIONS, type CodecOptions, decodeMessage, encodeMessage, inspectMessage } from '../../src/protocol/codec.js';
import type { Message } from '../../src/protocol/messages.js';
import { buildMessage, T0_MS } from '../lib/build.js';
import { checkDecodeResult, MAX_MESSAGE_BYTES, plain, samePlain } from '../lib/checks.js';
import { DataProvider } from '../lib/data-provider.js';
import { check, type Harness } from '../lib/harness.js';
import { PEERS, RECEIVER, sessionKeyBetween } from '../lib/identities.js';
import { mutateTree } from '../lib/msgpack-mutate.js';
import { seedBodies, withEnvelope } from '../lib/seed-messages.js';
import { messageDictionary, plausibleValues, reseal } from '../lib/plausible.js';
import type { Rng } from '../lib/rng.js';

const sessionKeyFor = (pk: Uint8Array): Buffer | undefined => sessionKeyBetween(RECEIVER, pk);
const WITH_SESSIONS: CodecOptions = { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor };

const decodeBytes = (data: Buffer): void => {
  const plainResult = decodeMessage(data);
  checkDecodeResult(plainResult, data, undefined);
  const withSessions = decodeMessage(data, WITH_SESSIONS);
  checkDecodeResult(withSessions, data, sessionKeyFor);
  if (data[0] !== 0xc1) {
    check(plainResult.ok === withSessions.ok, 'session keys changed the outcome for a signed message');
  } else if (plainResult.ok) {
    check(false, 'accepted a MAC-sealed message without session keys');
  }
  const inspected = inspectMessage(data, WITH_SESSIONS);
  checkDecodeResult(inspected, data, sessionKeyFor, false);
  if (withSessions.ok) {
    check(inspected.ok && samePlain(inspected.value.message, withSessions.value.message), 'inspectMessage disagrees with decodeMessage');
  }
};

const roundTrip = (data: Buffer): void => {
  const p = new DataProvider(data);
  const sender = p.pick(PEERS);
  const mac = p.bool();
  const built = buildMessage(p, { sender, recipientId: RECEIVER.nodeId, nowMs: T0_MS, breakFields: true });
  const sessionKey = mac ? sessionKeyBetween(sender, RECEIVER.publicKey) : undefined;
  const bytes = encodeMessage(built.message, sender, sessionKey);
  const result = decodeMessage(bytes, WITH_SESSIONS);
  checkDecodeResult(result, bytes, sessionKeyFor);
  // Step 1 of "Decoding": size first, whatever else is wrong.
  const refusal = bytes.length > MAX_MESSAGE_BYTES ? new Set([4]) : built.refusal;
  if (refusal === undefined) {
    check(result.ok, () => `a valid message was refused\n${built.message.type}: ${result.ok ? '' : `${result.error.code} ${result.error.message}`}`);
    if (!result.ok) return;
    check(samePlain(result.value.message, built.expected), () => `decode(encode(m)) differs from m\n${JSON.stringify(plain(result.value.message))}\n${JSON.stringify(plain(built.expected))}`);
    const expectMac = sessionKey !== undefined && built.message.recipientId.length === 64;
    check(result.value.sealKind === (expectMac ? 'mac' : 'signature'), `sealed as ${result.value.sealKind}`);
  } else {
    const codes = [...refusal].join(' or ');
    check(!result.ok, () => `a message that must be refused was accepted\n${built.message.type} must be refused with ${codes}: ${JSON.stringify(plain((result as { value: { message: Message } }).value.message))}`);
    if (!result.ok) check(refusal.has(result.error.code), () => `refused with another code than the spec's\n${result.error.code} (${result.error.message}), expected ${codes}`);
  }
};

const seeds = (): Array<{ name: string; data: Buffer }> =>
  seedBodies(PEERS[0], RECEIVER.nodeId, PEERS.slice(0, 3)).flatMap(([name, body], i) =>
    [false, true].map((mac) => {
      const sender = PEERS[i % PEERS.length];
      const message = withEnvelope(body, sender, RECEIVER.nodeId);
      return { name: `${name}-${mac ? 'mac' : 'signed'}.bin`, data: encodeMessage(message, sender, mac ? sessionKeyBetween(sender, RECEIVER.publicKey) : undefined) };
    }),
  );

export const codecHarness: Harness = {
  name: 'codec',
  description: 'decodeMessage/inspectMessage on arbitrary bytes; decode(encode(m)) = m for messages built from fuzz data',
  maxLength: 4096,
  run: (data) => {
    decodeBytes(data);
    roundTrip(data);
  },
  seeds,
  dictionary: messageDictionary([RECEIVER]),
  mutate: (data: Buffer, rng: Rng) => {
    const tree = mutateTree(data, { rng, plausible: plausibleValues([RECEIVER], rng) });
    return tree ? reseal(tree, RECEIVER, rng) : undefined;
  },
};
