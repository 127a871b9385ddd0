/**
 * The JSON shapes of the read-only routes the web UI needs (routes/ui-data.ts,
 * docs/api.md "The web UI"), shared by the server and the browser code.
 * Types only: no DOM and no Node built-ins, so both sides can import it.
 */
import type { PeerJson } from '../types.js';

/** A routing-table contact, with how many leading bits its id shares with this node's. */
export interface TableContactJson extends PeerJson {
  readonly shared_prefix_bits: number;
}

export interface BucketJson {
  readonly index: number;
  /** Bits every id in the bucket shares with this node's id (the last bucket: at least this many). */
  readonly prefix_bits: number;
  /** The last bucket, which covers this node's own id and is the only one that splits. */
  readonly covers_own_id: boolean;
  /** When a lookup last reached into the bucket (ms since the epoch). */
  readonly last_touched: number;
  readonly contacts: readonly TableContactJson[];
  /** Verified peers waiting for a place (Kademlia's replacement cache), newest last. */
  readonly replacements: readonly TableContactJson[];
}

/** GET /api/v1/table */
export interface TableJson {
  readonly node_id: string;
  /** Contacts per bucket, and the replacement cache's size (Kademlia's K). */
  readonly k: number;
  /** Bits in a node id. */
  readonly id_bits: number;
  readonly size: number;
  readonly buckets: readonly BucketJson[];
  /** Node ids (hex) that never re-enter the table. */
  readonly blacklist: readonly string[];
}

export interface HeldItemJson {
  readonly key: string;
  readonly name: string;
  readonly public_key: string;
  readonly value_type: 'bytes' | 'json';
  /** Bytes of the value (the JSON text's UTF-8 for json). */
  readonly size_bytes: number;
  readonly timestamp: number;
  /** 0 = never. */
  readonly expires: number;
  /** When this node last stored or re-stored its copy. */
  readonly updated: number;
  /** When this node last served it (a FindValue or a local get). */
  readonly last_read: number;
  /** Up to 120 characters of the value as text, or null for bytes that are not UTF-8. Plain text: never markup. */
  readonly preview: string | null;
}

/** GET /api/v1/items-held */
export interface ItemsHeldJson {
  /** Items the node holds. */
  readonly total: number;
  /** Items that match the search (before the limit). */
  readonly matched: number;
  /** The matches, most recently stored first, at most `limit`. */
  readonly items: readonly HeldItemJson[];
}

/** GET /api/v1/profile */
export interface ProfileJson {
  readonly public_key: string;
  readonly node_id: string;
  /** The whoami profile this node publishes, or null when it has none (or it cannot be found). */
  readonly profile: Readonly<Record<string, string>> | null;
}
