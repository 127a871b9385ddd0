import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { type DecodeResult, decodeMessage, encodeMessage, MAX_CONTACTS_PER_MESSAGE } from '../../src/protocol/codec.js';
import { isErrorCode } from '../../src/protocol/errors.js';
import { decodeIp, encodeIp } from '../../src/protocol/ip-address.js';
import type { Message, WireContact } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { bytes, contact, ipBytes, nameHost, sealed } from './arbitraries.js';
import { plain } from './fixtures.js';

const NUM_RUNS = 400;

const encoded = sealed.map(({ message, sender }) => encodeMessage(message, sender));

/** Decodes without letting an exception escape the assertion, and returns the result. */
const decodeSafely = (input: Uint8Array): DecodeResult => {
  let result: DecodeResult | undefined;
  expect(() => (result = decodeMessage(input))).not.toThrow();
  return result!;
};

const expectRefused = (result: DecodeResult): void => {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(isErrorCode(result.error.code)).toBe(true);
};

const nodesEnvelope = { requestId: new Uint8Array(16), replyPort: 4000, version: PROTOCOL_VERSION, recipientId: new Uint8Array(64) };

describe('contacts, on random input', () => {
  const sender = Identity.fromSeed(new Uint8Array(32).fill(7));
  const decodeNodes = (nodes: WireContact[]): readonly WireContact[] => {
    const result = decodeSafely(encodeMessage({ type: 'nodes', ...nodesEnvelope, senderPublicKey: sender.publicKey, nodes } as Message, sender));
    expect(result.ok).toBe(true);
    if (!result.ok || result.value.message.type !== 'nodes') throw new Error('expected a Nodes message');
    return result.value.message.nodes;
  };

  it('give every IP address back as valid canonical text that encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.array(contact, { minLength: 1, maxLength: MAX_CONTACTS_PER_MESSAGE }), (nodes) => {
        const decoded = decodeNodes(nodes);
        expect(decoded.map((c) => c.host)).toEqual(nodes.map((c) => c.host));
        for (const { host } of decoded) {
          expect(isIP(host)).not.toBe(0);
          expect(decodeIp(encodeIp(host)!)).toBe(host);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decode any text form of an address to the canonical form of its bytes', () => {
    // Every group written out in full, in capitals: the longest valid text, never canonical.
    const fullText = (b: Uint8Array) =>
      b.length === 4 ? Array.from(b).join('.') : Buffer.from(b).toString('hex').toUpperCase().match(/.{4}/g)!.join(':');
    fc.assert(
      fc.property(ipBytes, bytes(32), (ip, publicKey) => {
        const [only] = decodeNodes([{ publicKey, host: fullText(ip), port: 1 }]);
        expect(only.host).toBe(decodeIp(ip));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('leave out exactly the contacts whose host is not an IP address, keeping the order', () => {
    const mixed = fc.array(fc.oneof(contact, fc.record({ publicKey: bytes(32), host: nameHost, port: fc.integer({ min: 1, max: 65535 }) })), {
      maxLength: MAX_CONTACTS_PER_MESSAGE,
    });
    fc.assert(
      fc.property(mixed, (nodes) => {
        const decoded = decodeNodes(nodes);
        expect(plain(decoded)).toEqual(plain(nodes.filter((c) => isIP(c.host) !== 0)));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('the codec, on random input', () => {
  it('decodes every encoded message back to an equal message from the same sender', () => {
    fc.assert(
      fc.property(sealed, ({ message, sender }) => {
        const result = decodeSafely(encodeMessage(message, sender));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(plain(result.value.message)).toEqual(plain(message));
        expect(plain(result.value.senderId)).toEqual(plain(sender.nodeId));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses random bytes with a protocol error code and never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (input) => expectRefused(decodeSafely(input))),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding with any one bit flipped', () => {
    fc.assert(
      fc.property(encoded, fc.nat(), fc.integer({ min: 0, max: 7 }), (input, at, bit) => {
        const flipped = Buffer.from(input);
        flipped[at % flipped.length] ^= 1 << bit;
        expectRefused(decodeSafely(flipped));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding cut short anywhere', () => {
    fc.assert(
      fc.property(encoded, fc.nat(), (input, cut) => expectRefused(decodeSafely(input.subarray(0, cut % input.length)))),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding with bytes appended', () => {
    fc.assert(
      fc.property(encoded, fc.uint8Array({ minLength: 1, maxLength: 80 }), (input, extra) =>
        expectRefused(decodeSafely(Buffer.concat([input, extra]))),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses a valid encoding with random bytes overwritten in its body', () => {
    fc.assert(
      fc.property(encoded, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (input, at, patch) => {
        const changed = Buffer.from(input);
        const start = at % Math.max(1, changed.length - 64 - patch.length);
        const before = Buffer.from(changed.subarray(start, start + patch.length));
        changed.set(patch, start);
        fc.pre(!before.equals(changed.subarray(start, start + patch.length)));
        expectRefused(decodeSafely(changed));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
