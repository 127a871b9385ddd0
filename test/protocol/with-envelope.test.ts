/**
 * withEnvelope builds each message as one literal (messages.ts says why); it
 * must give what spreading the body and envelope gave, difficulty 0 left out.
 * The decoder's bins are views of its own copy of the body: reusing the
 * input buffer afterwards must not change a decoded message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/protocol/codec.js';
import { type Envelope, withEnvelope } from '../../src/protocol/messages.js';
import { sealed } from './arbitraries.js';
import { plain } from './fixtures.js';

describe('withEnvelope', () => {
  it('gives the body and the envelope together, difficulty only when above 0', () => {
    fc.assert(
      fc.property(sealed, fc.integer({ min: 0, max: 64 }), ({ message }, difficulty) => {
        const { requestId, senderPublicKey, replyPort, version, recipientId, ...body } = message;
        const envelope: Envelope = { requestId, senderPublicKey, replyPort, version, recipientId, difficulty };
        const expected = difficulty > 0 ? { ...body, ...envelope } : { ...body, requestId, senderPublicKey, replyPort, version, recipientId };
        expect(withEnvelope(body, envelope)).toStrictEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('decodeMessage', () => {
  it('keeps nothing of the input buffer: overwriting it leaves the decoded message as it was', () => {
    fc.assert(
      fc.property(sealed, ({ message, sender }) => {
        const input = Buffer.from(encodeMessage(message, sender));
        const decoded = decodeMessage(input);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        const before = plain(decoded.value.message);
        input.fill(0xaa);
        expect(plain(decoded.value.message)).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});
