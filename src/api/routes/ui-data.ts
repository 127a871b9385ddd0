/**
 * Read-only views the web UI needs (docs/api.md, "The web UI"):
 * GET /api/v1/table (buckets, replacement caches, blacklist),
 * GET /api/v1/items-held (the node's store, searchable) and
 * GET /api/v1/profile (this node's whoami profile). They read the node's
 * state and change nothing, so none needs the token.
 */
import type { FastifyInstance } from 'fastify';
import { toHex } from '../../crypto/bytes.js';
import type { DrogulusNode } from '../../dht/node.js';
import type { Contact } from '../../routing/contact.js';
import { commonPrefixLength, ID_BITS } from '../../routing/distance.js';
import type { StoredItem } from '../../storage/item-store.js';
import type { HeldItemJson, ItemsHeldJson, ProfileJson, TableContactJson, TableJson } from '../ui/data-types.js';
import { peerToJson } from './peers.js';

export const ITEMS_HELD_DEFAULT_LIMIT = 100;
export const ITEMS_HELD_MAX_LIMIT = 1000;
const PREVIEW_CHARS = 120;
const SEARCH_MAX_CHARS = 256;

const hexString = (chars: number) => ({ type: 'string', pattern: `^[0-9a-f]{${chars}}$` }) as const;
const peerProperties = {
  node_id: hexString(ID_BITS / 4),
  public_key: hexString(64),
  host: { type: 'string' },
  port: { type: 'integer' },
  last_seen: { type: 'integer' },
  failures: { type: 'integer' },
  rtt_ms: { type: ['number', 'null'] },
  shared_prefix_bits: { type: 'integer' },
} as const;
const contactSchema = { type: 'object', required: Object.keys(peerProperties), properties: peerProperties } as const;

export const tableResponseSchema = {
  type: 'object',
  required: ['node_id', 'k', 'id_bits', 'size', 'buckets', 'blacklist'],
  properties: {
    node_id: { type: 'string' },
    k: { type: 'integer' },
    id_bits: { type: 'integer' },
    size: { type: 'integer' },
    buckets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'prefix_bits', 'covers_own_id', 'last_touched', 'contacts', 'replacements'],
        properties: {
          index: { type: 'integer' },
          prefix_bits: { type: 'integer' },
          covers_own_id: { type: 'boolean' },
          last_touched: { type: 'integer' },
          contacts: { type: 'array', items: contactSchema },
          replacements: { type: 'array', items: contactSchema },
        },
      },
    },
    blacklist: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const itemsHeldQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    search: { type: 'string', maxLength: SEARCH_MAX_CHARS },
    // Query values arrive as strings and the API does not coerce types.
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  },
} as const;

export const itemsHeldResponseSchema = {
  type: 'object',
  required: ['total', 'matched', 'items'],
  properties: {
    total: { type: 'integer' },
    matched: { type: 'integer' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'name', 'public_key', 'value_type', 'size_bytes', 'timestamp', 'expires', 'updated', 'last_read', 'preview'],
        properties: {
          key: { type: 'string' },
          name: { type: 'string' },
          public_key: { type: 'string' },
          value_type: { enum: ['bytes', 'json'] },
          size_bytes: { type: 'integer' },
          timestamp: { type: 'integer' },
          expires: { type: 'integer' },
          updated: { type: 'integer' },
          last_read: { type: 'integer' },
          preview: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export const profileResponseSchema = {
  type: 'object',
  required: ['public_key', 'node_id', 'profile'],
  properties: {
    public_key: { type: 'string' },
    node_id: { type: 'string' },
    profile: { anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: { type: 'string' } }] },
  },
} as const;

const contactToJson = (ownId: Uint8Array) => (contact: Contact): TableContactJson => ({
  ...peerToJson(contact),
  shared_prefix_bits: commonPrefixLength(contact.id, ownId),
});

export const tableToJson = (node: DrogulusNode): TableJson => {
  const toJson = contactToJson(node.nodeId);
  return {
    node_id: toHex(node.nodeId),
    k: node.options.k,
    id_bits: ID_BITS,
    size: node.table.size,
    buckets: node.table.bucketViews().map((bucket) => ({
      index: bucket.index,
      prefix_bits: bucket.prefixBits,
      covers_own_id: bucket.coversOwnId,
      last_touched: bucket.lastTouchedMs,
      contacts: bucket.contacts.map(toJson),
      replacements: bucket.replacements.map(toJson),
    })),
    blacklist: node.table.toSnapshot().blacklist,
  };
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

const previewOf = (value: Uint8Array | string): string | null => {
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = utf8.decode(value.subarray(0, PREVIEW_CHARS * 4));
    } catch {
      // Cut inside a multi-byte character, or not UTF-8 at all: retry the whole value once.
      try {
        text = utf8.decode(value);
      } catch {
        return null;
      }
    }
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
};

const heldToJson = ({ item, updatedMs, accessedMs }: StoredItem): HeldItemJson => ({
  key: toHex(item.key),
  name: item.name,
  public_key: toHex(item.publicKey),
  value_type: typeof item.value === 'string' ? 'json' : 'bytes',
  size_bytes: typeof item.value === 'string' ? new TextEncoder().encode(item.value).length : item.value.length,
  timestamp: item.timestamp,
  expires: item.expires,
  updated: updatedMs,
  last_read: accessedMs,
  preview: previewOf(item.value),
});

/** Case-insensitive: a name or value that contains the search, or a key or publisher that starts with it. */
const matches = (held: HeldItemJson, search: string): boolean => {
  if (search === '') return true;
  return (
    held.name.toLowerCase().includes(search) ||
    held.key.startsWith(search) ||
    held.public_key.startsWith(search) ||
    (held.preview?.toLowerCase().includes(search) ?? false)
  );
};

export const itemsHeld = (node: DrogulusNode, search: string, limit: number): ItemsHeldJson => {
  const wanted = search.trim().toLowerCase();
  const all = [...node.store.entries()].map(heldToJson);
  const found = all.filter((held) => matches(held, wanted)).sort((a, b) => b.updated - a.updated || a.key.localeCompare(b.key));
  return { total: all.length, matched: found.length, items: found.slice(0, limit) };
};

export const registerUiDataRoutes = (app: FastifyInstance, node: DrogulusNode): void => {
  app.get('/api/v1/table', { schema: { response: { 200: tableResponseSchema } } }, async (): Promise<TableJson> => tableToJson(node));

  app.get<{ Querystring: { search?: string; limit?: string } }>(
    '/api/v1/items-held',
    { schema: { querystring: itemsHeldQuerySchema, response: { 200: itemsHeldResponseSchema } } },
    async (request): Promise<ItemsHeldJson> => {
      const limit = Math.min(Math.max(Number(request.query.limit ?? ITEMS_HELD_DEFAULT_LIMIT), 1), ITEMS_HELD_MAX_LIMIT);
      return itemsHeld(node, request.query.search ?? '', limit);
    },
  );

  app.get('/api/v1/profile', { schema: { response: { 200: profileResponseSchema } } }, async (): Promise<ProfileJson> => {
    // whois answers from the node's own copy when it holds one, and looks it up otherwise.
    const profile = await node.whois(node.publicKey).catch(() => undefined);
    return { public_key: toHex(node.publicKey), node_id: toHex(node.nodeId), profile: profile ?? null };
  });
};
