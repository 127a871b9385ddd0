/**
 * Valid values for named message fields, for the structure-aware mutation to
 * plant, and the resealing that lets a mutated body reach the checks after the
 * seal: a body whose `pk` is one of our identities is sealed again by it.
 */
import { Packr } from 'msgpackr';
import type { Identity } from '../../src/crypto/identity.js';
import { T0_MS } from './build.js';
import { identityOf, PEERS, sessionKeyBetween } from './identities.js';
import type { MessageTree } from './msgpack-mutate.js';
import { FIELD_NAMES, packBody } from './msgpack-mutate.js';
import type { Rng } from './rng.js';
import { frame } from './wire.js';

export const plausibleValues = (recipients: readonly Identity[], rng: Rng) => (field: string): unknown[] => {
  switch (field) {
    case 'v':
      return [1];
    case 't':
      return [1, 2, 3, 4, 5, 6, 7, 8];
    case 'id':
      return [rng.bytes(16)];
    case 'pk':
      return PEERS.map((p) => p.publicKey);
    case 'port':
      return [1, 1908, 65535];
    case 'to':
      return [...recipients.map((r) => r.nodeId), Buffer.alloc(0)];
    case 'key':
    case 'k':
      return [rng.bytes(64), ...recipients.map((r) => r.nodeId)];
    case 'sig':
      return [rng.bytes(64)];
    case 'ts':
      return [T0_MS, T0_MS - 1000];
    case 'exp':
      return [0, T0_MS + 60_000, T0_MS - 1];
    case 'code':
      return [1, 8];
    case 'nodes':
      return [[], [[PEERS[0].publicKey, Buffer.from([10, 0, 0, 1]), 1908]]];
    default:
      return [];
  }
};

/**
 * Seals a mutated body: by the identity its `pk` names when that is one of
 * ours (keeping the original seal kind, switching it one time in eight), with
 * the session key shared with `recipient` for a MAC; otherwise with the old seal.
 */
export const reseal = (tree: MessageTree, recipient: Identity, rng: Pick<Rng, 'chance'>): Buffer => {
  const body = packBody(tree.root);
  const pk = tree.root.get('pk');
  const sender = pk instanceof Uint8Array ? identityOf(pk) : undefined;
  if (!sender || rng.chance(16)) {
    return tree.framed.mac ? Buffer.concat([Buffer.from([0xc1]), body, tree.framed.seal]) : Buffer.concat([body, tree.framed.seal]);
  }
  const mac = rng.chance(8) ? !tree.framed.mac : tree.framed.mac;
  return frame(body, sender, mac ? sessionKeyBetween(sender, recipient.publicKey) : undefined);
};

const packr = new Packr({ useRecords: false, variableMapSize: true });

/** msgpack tokens of the protocol: field names, byte-string headers of each field length, the MAC marker. */
export const messageDictionary = (recipients: readonly Identity[]): Uint8Array[] => [
  ...FIELD_NAMES.map((f) => packr.pack(f)),
  ...[4, 16, 32, 64].map((n) => Buffer.from([0xc4, n])),
  Buffer.from([0xc1]),
  Buffer.from([0xcb, 0x42, 0x79, 0xb7, 0x6d, 0xaa, 0x80, 0x00, 0x00]),
  Buffer.from([0xcd, 0x07, 0x74]),
  ...recipients.map((r) => r.nodeId),
  PEERS[0].publicKey,
];
