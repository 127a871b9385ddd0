/**
 * Recomputes test/vectors/item-v1.json from its seeds, and checks the signing
 * bytes and seals against a second, independent reading of docs/protocol.md
 * (node:crypto for SHA-512 and Ed25519, a hand-written byte layout).
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { decodeMessage, encodeMessage, SEAL_BYTES, SEAL_DOMAIN } from '../../src/protocol/codec.js';
import { ITEM_DOMAIN, itemKey, itemSigningBytes } from '../../src/protocol/item.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { buildItem, buildMessage, identityOf, type ItemVector, loadVectors } from '../vectors/vectors.js';
import { plain, wireOf } from './fixtures.js';

const vectors = loadVectors();
const items = new Map(vectors.items.map((v) => [v.id, buildItem(v)]));

const RFC8032_TEST1_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC8032_TEST1_PUBLIC_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

const sha512 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** Ed25519 verification by OpenSSL, from the raw 32-byte key wrapped as SubjectPublicKeyInfo. */
const opensslVerifies = (publicKeyHex: string, message: Uint8Array, signature: Uint8Array): boolean => {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]);
  return verify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature);
};

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const lengthPrefixed = (bytes: Buffer): Buffer => Buffer.concat([u32(bytes.length), bytes]);
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** The signing bytes as docs/protocol.md lays them out, written without src/protocol/item.ts. */
const specSigningBytes = (v: ItemVector): Buffer => {
  const [kind, value] = 'json' in v.value ? [1, utf8(v.value.json)] : [0, Buffer.from(v.value.bytes, 'hex')];
  const meta = v.meta.map(([k, val]) => [utf8(k), utf8(val)]).sort((a, b) => Buffer.compare(a[0], b[0]));
  return Buffer.concat([
    utf8('drogulus/item/v1\0'),
    Buffer.from([kind]),
    lengthPrefixed(value),
    u64(v.timestamp),
    u64(v.expires),
    lengthPrefixed(utf8(v.name)),
    u32(meta.length),
    ...meta.flatMap(([k, val]) => [lengthPrefixed(k), lengthPrefixed(val)]),
    lengthPrefixed(utf8(v.createdWith)),
    Buffer.from(v.publicKey, 'hex'),
    Buffer.from(v.key, 'hex'),
  ]);
};

describe('the item test vectors', () => {
  it('use the protocol version and domain strings of this implementation', () => {
    expect(vectors.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(vectors.itemDomain).toBe(ITEM_DOMAIN);
    expect(vectors.sealDomain).toBe(SEAL_DOMAIN);
  });

  it('include the RFC 8032 test 1 key pair', () => {
    expect(toHex(identityOf(RFC8032_TEST1_SEED).publicKey)).toBe(RFC8032_TEST1_PUBLIC_KEY);
    expect(vectors.items.some((v) => v.seed === RFC8032_TEST1_SEED && v.publicKey === RFC8032_TEST1_PUBLIC_KEY)).toBe(true);
  });

  describe.each(vectors.items.map((v) => [v.id, v] as const))('item %s', (_, v) => {
    const item = items.get(v.id)!;

    it('has the public key and node id its seed gives', () => {
      const identity = identityOf(v.seed);
      expect(toHex(identity.publicKey)).toBe(v.publicKey);
      expect(toHex(identity.nodeId)).toBe(v.nodeId);
      expect(toHex(sha512(identity.publicKey))).toBe(v.nodeId);
    });

    it('has the key its public key and name give', () => {
      const publicKey = Buffer.from(v.publicKey, 'hex');
      const expected = v.name === '' ? sha512(publicKey) : sha512(sha512(publicKey), sha512(utf8(v.name)));
      expect(toHex(expected)).toBe(v.key);
      expect(toHex(itemKey(publicKey, v.name))).toBe(v.key);
      expect(toHex(item.key)).toBe(v.key);
    });

    it('has the signing bytes of the documented layout', () => {
      expect(toHex(specSigningBytes(v))).toBe(v.signingBytes);
      expect(toHex(itemSigningBytes(item))).toBe(v.signingBytes);
    });

    it('has the deterministic Ed25519 signature of its signing bytes', () => {
      expect(toHex(item.signature)).toBe(v.signature);
      expect(opensslVerifies(v.publicKey, Buffer.from(v.signingBytes, 'hex'), Buffer.from(v.signature, 'hex'))).toBe(true);
    });
  });
});

describe('the message test vectors', () => {
  it('cover every message type', () => {
    expect(new Set(vectors.messages.map((v) => v.type)).size).toBe(8);
  });

  describe.each(vectors.messages.map((v) => [v.id, v] as const))('message %s', (_, v) => {
    const message = buildMessage(v, items);
    const encoded = Buffer.from(v.encoded, 'hex');

    it('encodes to exactly the recorded bytes', () => {
      expect(toHex(encodeMessage(message, identityOf(v.seed), undefined, { padToBytes: v.padToBytes }))).toBe(v.encoded);
    });

    it('decodes back to the message it describes', () => {
      const result = decodeMessage(encoded);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(plain(result.value.message)).toEqual(plain(message));
      expect(toHex(result.value.senderId)).toBe(toHex(sha512(Buffer.from(v.publicKey, 'hex'))));
    });

    it('ends with a seal over the domain string and the body', () => {
      const body = encoded.subarray(0, encoded.length - SEAL_BYTES);
      const seal = encoded.subarray(encoded.length - SEAL_BYTES);
      expect(opensslVerifies(v.publicKey, Buffer.concat([utf8('drogulus/message/v1\0'), body]), seal)).toBe(true);
    });
  });
});

describe('the Nodes vectors', () => {
  /** The address bytes of the hosts the vectors use, written out by hand from the text. */
  const IP_BYTES: Readonly<Record<string, string>> = {
    '192.0.2.7': 'c0000207',
    '2001:db8::1': '20010db8000000000000000000000001',
  };
  const nodesVectors = vectors.messages.filter((v) => v.type === 'nodes');

  it('exist, with an IPv4 and an IPv6 contact', () => {
    const hosts = nodesVectors.flatMap((v) => (v.fields as { nodes: ReadonlyArray<readonly [string, string, number]> }).nodes.map(([, host]) => host));
    expect(hosts.some((h) => IP_BYTES[h]?.length === 8)).toBe(true);
    expect(hosts.some((h) => IP_BYTES[h]?.length === 32)).toBe(true);
  });

  it.each(nodesVectors.map((v) => [v.id, v] as const))('%s carries each contact as [pk, ip as bin of 4 or 16 bytes, port]', (_, v) => {
    const wire = wireOf(Buffer.from(v.encoded, 'hex')).nodes as unknown[][];
    const { nodes } = v.fields as { nodes: ReadonlyArray<readonly [string, string, number]> };
    expect(wire.map(([pk, ip, port]) => [toHex(pk as Uint8Array), toHex(ip as Uint8Array), port])).toEqual(
      nodes.map(([pk, host, port]) => [pk, IP_BYTES[host], port]),
    );
    for (const [pk, host, port] of nodes) {
      const ip = IP_BYTES[host];
      const header = ip.length === 8 ? 'c404' : 'c410';
      expect(v.encoded).toContain(`93c420${pk}${header}${ip}`);
      expect(port).toBeGreaterThan(0);
    }
  });
});

describe('docs/protocol.md', () => {
  it('quotes every value of the vectors file', () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    const quoted = [
      ...vectors.items.flatMap((v) => [v.seed, v.publicKey, v.nodeId, v.key, v.signingBytes, v.signature]),
      ...vectors.messages.map((v) => v.encoded),
    ];
    for (const value of quoted) expect(doc).toContain(value);
  });
});
