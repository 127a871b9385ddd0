/**
 * Shared builders for the protocol tests: identities from fixed seeds, message
 * envelopes, and hand-made sealed bodies for fields the encoder would never write.
 */
import { Packr, Unpackr } from 'msgpackr';
import { Identity } from '../../src/crypto/identity.js';
import { SEAL_BYTES, SEAL_DOMAIN } from '../../src/protocol/codec.js';
import type { Envelope, Message, MessageBody } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';

/** The identity whose seed is 32 copies of `byte`. */
export const identityOf = (byte: number): Identity => Identity.fromSeed(Buffer.alloc(32, byte));

export const alice = identityOf(1);
export const bob = identityOf(2);

export const T0_MS = Date.UTC(2026, 0, 1);

export const envelope = (sender: Identity, overrides: Partial<Envelope> = {}): Envelope => ({
  requestId: Buffer.alloc(16, 0xab),
  senderPublicKey: sender.publicKey,
  replyPort: 4000,
  version: PROTOCOL_VERSION,
  recipientId: bob.nodeId,
  ...overrides,
});

export const message = (body: MessageBody, sender: Identity = alice, overrides: Partial<Envelope> = {}): Message =>
  ({ ...envelope(sender, overrides), ...body }) as Message;

// The codec's own msgpack settings, so a hand-made body differs only where a test says.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** The body of an encoded message as a plain map, to change a field and seal it again. */
export const wireOf = (encoded: Uint8Array): Record<string, unknown> => unpackr.unpack(encoded.subarray(0, encoded.length - SEAL_BYTES));

/** Packs `fields` as a msgpack map and seals it as `sender` would. */
export const sealRaw = (fields: Record<string, unknown>, sender: Identity = alice): Buffer => {
  const body = packr.pack(fields);
  return Buffer.concat([body, sender.sign(Buffer.concat([Buffer.from(SEAL_DOMAIN, 'utf8'), body]))]);
};

/**
 * A deep copy with every byte array (Buffer or Uint8Array alike) as `{ hex }`,
 * so equality compares bytes, not which class holds them.
 */
export const plain = (x: unknown): unknown => {
  if (x instanceof Uint8Array) return { hex: Buffer.from(x.buffer, x.byteOffset, x.length).toString('hex') };
  if (Array.isArray(x)) return x.map(plain);
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
};
