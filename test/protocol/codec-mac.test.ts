/**
 * MAC seals: a message to a peer whose key is known is sealed with a MAC under
 * the session key the two share, which only its recipient can check.
 */
import { describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { SessionKeys } from '../../src/crypto/session-keys.js';
import { DEFAULT_CODEC_OPTIONS, decodeMessage, encodeMessage, inspectMessage, MAC_MARKER } from '../../src/protocol/codec.js';
import type { Message } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';

const alice = Identity.fromSeed(Buffer.alloc(32, 1));
const bob = Identity.fromSeed(Buffer.alloc(32, 2));
const carol = Identity.fromSeed(Buffer.alloc(32, 3));

const findNode = (to: Identity): Message => ({
  type: 'find-node',
  requestId: Buffer.alloc(16, 7),
  senderPublicKey: alice.publicKey,
  replyPort: 1908,
  version: PROTOCOL_VERSION,
  recipientId: to.nodeId,
  key: Buffer.alloc(64, 9),
});

const keysOf = (identity: Identity) => ({ ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk: Uint8Array) => identity.agree(pk) });

describe('MAC-sealed messages', () => {
  it('derive the same session key at both ends, and none for an invalid key', () => {
    expect(alice.agree(bob.publicKey)!.equals(bob.agree(alice.publicKey)!)).toBe(true);
    expect(alice.agree(bob.publicKey)!.equals(alice.agree(carol.publicKey)!)).toBe(false);
    expect(alice.agree(Buffer.alloc(32))).toBeUndefined();
    expect(alice.agree(Buffer.alloc(31, 1))).toBeUndefined();
  });

  it('start with the marker byte, end with a 32-byte MAC, and are 31 bytes shorter than signed ones', () => {
    const signed = encodeMessage(findNode(bob), alice);
    const maced = encodeMessage(findNode(bob), alice, alice.agree(bob.publicKey));
    expect(maced[0]).toBe(MAC_MARKER);
    expect(signed[0]).not.toBe(MAC_MARKER);
    expect(maced.length).toBe(signed.length - 64 + 32 + 1);
  });

  it('decode at their recipient to the message sent, marked as MAC-sealed', () => {
    const message = findNode(bob);
    const decoded = decodeMessage(encodeMessage(message, alice, alice.agree(bob.publicKey)), keysOf(bob));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value.sealKind).toBe('mac');
    expect(decoded.value.message).toEqual(message);
    expect(decoded.value.senderId.equals(alice.nodeId)).toBe(true);
  });

  it('are refused with 6 anywhere but at their recipient, so they cannot be replayed to another node', () => {
    const bytes = encodeMessage(findNode(bob), alice, alice.agree(bob.publicKey));
    const atCarol = decodeMessage(bytes, keysOf(carol));
    expect(atCarol.ok ? undefined : atCarol.error.code).toBe(6);
    const withoutKeys = decodeMessage(bytes);
    expect(withoutKeys.ok ? undefined : withoutKeys.error.code).toBe(6);
  });

  it('are refused with 6 when the sender is forged or any byte changes', () => {
    const bytes = encodeMessage(findNode(bob), alice, alice.agree(bob.publicKey));
    for (let i = 1; i < bytes.length; i++) {
      const corrupt = Buffer.from(bytes);
      corrupt[i] ^= 0x01;
      const decoded = decodeMessage(corrupt, keysOf(bob));
      expect(decoded.ok, `byte ${i}`).toBe(false);
    }
    // Carol claims to be Alice but only holds her own key.
    const forged = encodeMessage({ ...findNode(bob), senderPublicKey: carol.publicKey }, carol, carol.agree(bob.publicKey));
    const asAlice = Buffer.from(forged);
    const decodedForged = decodeMessage(asAlice, { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => (pk.length === 32 && Buffer.from(pk).equals(carol.publicKey) ? bob.agree(alice.publicKey) : undefined) });
    expect(decodedForged.ok ? undefined : decodedForged.error.code).toBe(6);
  });

  it('must name their recipient, and a marker alone is too short', () => {
    const ping: Message = { type: 'ping', requestId: Buffer.alloc(16, 1), senderPublicKey: alice.publicKey, replyPort: 1908, version: PROTOCOL_VERSION, recipientId: Buffer.alloc(0) };
    // With no recipient the encoder signs instead.
    expect(encodeMessage(ping, alice, alice.agree(bob.publicKey))[0]).not.toBe(MAC_MARKER);
    const tooShort = decodeMessage(Buffer.from([MAC_MARKER, 1, 2, 3]), keysOf(bob));
    expect(tooShort.ok ? undefined : tooShort.error.code).toBe(1);
  });

  it('can be read without checking by inspectMessage, for captures', () => {
    const bytes = encodeMessage(findNode(bob), alice, alice.agree(bob.publicKey));
    const seen = inspectMessage(bytes);
    expect(seen.ok && seen.value.message.type).toBe('find-node');
  });

  it('match the vector in docs/protocol.md: session key and MAC-sealed ping of seeds 01 and 02', () => {
    expect(alice.agree(bob.publicKey)!.toString('hex')).toBe('98c8d339a5965d3939fad11b0eed9735c8920918efd76bbc97ea69a6f179d364');
    const ping: Message = { type: 'ping', requestId: Buffer.alloc(16, 7), senderPublicKey: alice.publicKey, replyPort: 1908, version: PROTOCOL_VERSION, recipientId: bob.nodeId };
    expect(encodeMessage(ping, alice, alice.agree(bob.publicKey)).toString('hex')).toBe('c186a17601a17401a26964c41007070707070707070707070707070707a2706bc4208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5ca4706f7274cd0774a2746fc4400b080c6f41ac1802a0432fc865371fc4f2a6feab3ae9db5142449e27ad3db68f9a4ff6cc233a571354c95b73668062f92604d3ab2b4e1d1fcf2bd4bb1bf8f8ee2e35ea51a64c3c673bd597c429a6e4faf3a4c63d64996c42caa38f190d06e49a');
  });

  it('cost one key derivation per peer, cached', () => {
    const keys = new SessionKeys(alice, 2);
    keys.keyFor(bob.publicKey);
    keys.keyFor(bob.publicKey);
    expect(keys.derivations).toBe(1);
    keys.keyFor(carol.publicKey);
    keys.keyFor(Identity.fromSeed(Buffer.alloc(32, 4)).publicKey);
    expect(keys.size).toBe(2);
    keys.keyFor(bob.publicKey); // evicted as least recently used: derived again
    expect(keys.derivations).toBe(4);
  });
});
