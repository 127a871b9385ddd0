/**
 * The two optional envelope fields: `pad`, zeros that make a request large
 * enough to earn a large reply from a node that has not proven our address,
 * covered by the seal; and `d`, the Sybil puzzle difficulty of the sender's
 * network, which a node checks, with the key's puzzle, before the seal.
 */
import { describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { grindIdentity, puzzleBits } from '../../src/crypto/puzzle.js';
import { Packr } from 'msgpackr';
import { DEFAULT_CODEC_OPTIONS, decodeMessage, encodeMessage, SEAL_DOMAIN } from '../../src/protocol/codec.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { Message } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { SeededRandom } from '../../src/runtime/random.js';

const alice = Identity.fromSeed(Buffer.alloc(32, 1));
const bob = Identity.fromSeed(Buffer.alloc(32, 2));

const findNode = (sender: Identity, extra: Partial<Message> = {}): Message =>
  ({
    type: 'find-node',
    requestId: Buffer.alloc(16, 7),
    senderPublicKey: sender.publicKey,
    replyPort: 1908,
    version: PROTOCOL_VERSION,
    recipientId: bob.nodeId,
    key: Buffer.alloc(64, 9),
    ...extra,
  }) as Message;

const bobReads = (difficulty = 0) => ({ ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk: Uint8Array) => bob.agree(pk), difficulty });

describe('the pad field', () => {
  it('pads a signed or MAC-sealed message to at least the size asked, at most 6 bytes over, at every size up to 1,400 bytes', () => {
    for (const key of [undefined, alice.agree(bob.publicKey)]) {
      const plain = encodeMessage(findNode(alice), alice, key).length;
      for (let target = 0; target <= 1400; target += 1) {
        const bytes = encodeMessage(findNode(alice), alice, key, { padToBytes: target });
        // The field costs 6 bytes before any zeros, so a target just above the plain size is overshot by up to 6
        // (and one size, where the bin header grows from 2 to 3 bytes, by 1); every other size is hit exactly.
        const over = bytes.length - Math.max(plain, target);
        expect(over).toBeGreaterThanOrEqual(0);
        expect(over).toBeLessThanOrEqual(target > plain + 6 ? 1 : 6);
        const decoded = decodeMessage(bytes, bobReads());
        expect(decoded.ok).toBe(true);
      }
    }
  });

  it('is covered by the seal: changing a pad byte fails the seal', () => {
    const bytes = encodeMessage(findNode(alice), alice, undefined, { padToBytes: 600 });
    const tampered = Buffer.from(bytes);
    tampered[500] ^= 1;
    expect(decodeMessage(tampered, bobReads())).toMatchObject({ ok: false, error: { code: ErrorCode.UnverifiableProvenance } });
  });

  it('refuses a pad that is not bytes with code 1', () => {
    const body = new Packr({ useRecords: false, variableMapSize: true }).pack({ v: 1, t: 1, id: Buffer.alloc(16), pk: alice.publicKey, port: 1908, to: bob.nodeId, pad: 'zeros' });
    const bytes = Buffer.concat([body, alice.sign(Buffer.concat([Buffer.from(SEAL_DOMAIN, 'utf8'), body]))]);
    expect(decodeMessage(bytes, bobReads())).toMatchObject({ ok: false, error: { code: ErrorCode.BadRequest, message: 'field "pad" must be bytes' } });
  });
});

describe('the difficulty field and the Sybil puzzle', () => {
  const random = new SeededRandom(3);
  const ground = grindIdentity(8, () => random.bytes(32)).identity;

  it('leaves d out at difficulty 0, so a network without the puzzle keeps its bytes', () => {
    expect(encodeMessage(findNode(alice, { difficulty: 0 }), alice)).toEqual(encodeMessage(findNode(alice), alice));
    expect(encodeMessage(findNode(ground, { difficulty: 8 }), ground).includes(Buffer.from([0xa1, 0x64, 0x08]))).toBe(true);
  });

  it('accepts a key meeting the difficulty that announces it, and reads d back', () => {
    expect(puzzleBits(ground.nodeId)).toBeGreaterThanOrEqual(8);
    const decoded = decodeMessage(encodeMessage(findNode(ground, { difficulty: 8 }), ground), bobReads(8));
    expect(decoded.ok && decoded.value.message.difficulty).toBe(8);
  });

  it('refuses with code 5 a message announcing a lower difficulty, even from a key that meets it', () => {
    const decoded = decodeMessage(encodeMessage(findNode(ground, { difficulty: 4 }), ground), bobReads(8));
    expect(decoded).toMatchObject({ ok: false, error: { code: ErrorCode.UnsupportedProtocol, message: expect.stringMatching(/difficulty 4 is below/) } });
  });

  it('refuses with code 5, before checking the seal, a key that does not meet the difficulty', () => {
    const weak = [...Array(64).keys()].map((i) => Identity.fromSeed(Buffer.alloc(32, i + 10))).find((id) => puzzleBits(id.nodeId) < 8)!;
    const bytes = Buffer.from(encodeMessage(findNode(weak, { difficulty: 8 }), weak));
    bytes[bytes.length - 1] ^= 1; // a broken seal too: the puzzle is checked first, for one hash
    expect(decodeMessage(bytes, bobReads(8))).toMatchObject({ ok: false, error: { code: ErrorCode.UnsupportedProtocol, message: expect.stringMatching(/does not meet difficulty 8/) } });
  });

  it('accepts a higher announced difficulty than its own, and refuses a d above 64 with code 1', () => {
    expect(decodeMessage(encodeMessage(findNode(ground, { difficulty: 8 }), ground), bobReads(0)).ok).toBe(true);
    expect(decodeMessage(encodeMessage(findNode(alice, { difficulty: 65 }), alice), bobReads(0))).toMatchObject({ ok: false, error: { code: ErrorCode.BadRequest } });
  });
});
