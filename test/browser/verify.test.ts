/**
 * The UI's own provenance check (src/api/ui/verify.ts) against the protocol's
 * test vectors: Web Crypto only, as in the browser, so a page can tell a
 * forged item from a real one without trusting the node that served it.
 */
import { describe, expect, it } from 'vitest';
import type { ItemJson } from '../../src/api/types.js';
import { bytesToHex, itemKeyHex, sharedPrefixBits, signingBytes, verifyItem } from '../../src/api/ui/verify.js';
import { loadVectors, type ItemVector } from '../vectors/vectors.js';

const vectors = loadVectors().items;

const asJson = (v: ItemVector): ItemJson => ({
  key: v.key,
  value_type: 'json' in v.value ? 'json' : 'bytes',
  value: 'json' in v.value ? v.value.json : Buffer.from(v.value.bytes, 'hex').toString('base64'),
  timestamp: v.timestamp,
  expires: v.expires,
  created_with: v.createdWith,
  public_key: v.publicKey,
  name: v.name,
  meta: Object.fromEntries(v.meta),
  signature: v.signature,
});

describe('the web UI provenance check', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('rebuilds the signing bytes and key of vector %s and verifies its signature', async (_id, v) => {
    const item = asJson(v);
    expect(bytesToHex(signingBytes(item))).toBe(v.signingBytes);
    expect(await itemKeyHex(v.publicKey, v.name)).toBe(v.key);
    expect(await verifyItem(item)).toEqual({ keyMatches: true, signature: 'valid', verified: true });
  });

  it('refuses an item whose value was changed after signing', async () => {
    const item = asJson(vectors.find((v) => 'json' in v.value)!);
    expect(await verifyItem({ ...item, value: '{"forged":true}' })).toEqual({ keyMatches: true, signature: 'invalid', verified: false });
  });

  it('refuses an item whose key does not belong to its public key and name', async () => {
    const item = asJson(vectors[0]);
    const result = await verifyItem({ ...item, name: `${item.name}-other` });
    expect(result.keyMatches).toBe(false);
    expect(result.verified).toBe(false);
  });

  it('counts the leading bits two ids share', () => {
    expect(sharedPrefixBits('ff', 'ff')).toBe(8);
    expect(sharedPrefixBits('80', '00')).toBe(0);
    expect(sharedPrefixBits('0f00', '0e00')).toBe(7);
    expect(sharedPrefixBits('00ff', '0001')).toBe(8);
  });
});
