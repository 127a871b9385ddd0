import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity, NODE_ID_BYTES, nodeIdOf, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifySignature } from '../../src/crypto/identity.js';

const RFC8032_TEST1 = {
  seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  emptyMessageSignature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};

const seedOf = (byte: number): Buffer => Buffer.alloc(32, byte);

describe('Identity', () => {
  it('derives the same key pair from the same seed every time', () => {
    const a = Identity.fromSeed(seedOf(7));
    const b = Identity.fromSeed(seedOf(7));
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    expect(toHex(a.nodeId)).toBe(toHex(b.nodeId));
    expect(toHex(a.sign(Buffer.from('x')))).toBe(toHex(b.sign(Buffer.from('x'))));
  });

  it('derives different keys from different seeds', () => {
    expect(toHex(Identity.fromSeed(seedOf(1)).publicKey)).not.toBe(toHex(Identity.fromSeed(seedOf(2)).publicKey));
  });

  it('gives back the seed it was made from', () => {
    expect(toHex(Identity.fromSeed(seedOf(9)).seed())).toBe(toHex(seedOf(9)));
  });

  it('matches RFC 8032 test 1 for the public key and the signature of the empty message', () => {
    const identity = Identity.fromSeed(Buffer.from(RFC8032_TEST1.seed, 'hex'));
    expect(toHex(identity.publicKey)).toBe(RFC8032_TEST1.publicKey);
    expect(toHex(identity.sign(new Uint8Array(0)))).toBe(RFC8032_TEST1.emptyMessageSignature);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => Identity.fromSeed(new Uint8Array(31))).toThrow(RangeError);
    expect(() => Identity.fromSeed(new Uint8Array(33))).toThrow(RangeError);
  });

  it('generates distinct identities whose keys and ids have the protocol sizes', () => {
    const a = Identity.generate();
    const b = Identity.generate();
    expect(a.publicKey).toHaveLength(PUBLIC_KEY_BYTES);
    expect(a.nodeId).toHaveLength(NODE_ID_BYTES);
    expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
    expect(toHex(a.seed())).not.toBe(toHex(b.seed()));
  });
});

describe('signatures', () => {
  const identity = Identity.fromSeed(seedOf(3));
  const other = Identity.fromSeed(seedOf(4));
  const message = Buffer.from('the message');
  const signature = identity.sign(message);

  it('verify with the signer public key', () => {
    expect(signature).toHaveLength(SIGNATURE_BYTES);
    expect(verifySignature(identity.publicKey, message, signature)).toBe(true);
  });

  it('do not verify with another public key', () => {
    expect(verifySignature(other.publicKey, message, signature)).toBe(false);
  });

  it('do not verify for an altered message or an altered signature', () => {
    expect(verifySignature(identity.publicKey, Buffer.from('the messagE'), signature)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[10] ^= 1;
    expect(verifySignature(identity.publicKey, message, flipped)).toBe(false);
  });

  it('are simply invalid, not an exception, when the key or signature has the wrong length', () => {
    expect(verifySignature(identity.publicKey.subarray(0, 31), message, signature)).toBe(false);
    expect(verifySignature(Buffer.concat([identity.publicKey, Buffer.alloc(1)]), message, signature)).toBe(false);
    expect(verifySignature(identity.publicKey, message, signature.subarray(0, 63))).toBe(false);
    expect(verifySignature(identity.publicKey, message, Buffer.concat([signature, Buffer.alloc(1)]))).toBe(false);
    expect(verifySignature(new Uint8Array(0), message, new Uint8Array(0))).toBe(false);
  });
});

describe('nodeIdOf', () => {
  it('is the SHA-512 of the raw 32-byte public key', () => {
    const identity = Identity.fromSeed(seedOf(5));
    const expected = createHash('sha512').update(identity.publicKey).digest('hex');
    expect(toHex(nodeIdOf(identity.publicKey))).toBe(expected);
    expect(toHex(identity.nodeId)).toBe(expected);
  });
});
