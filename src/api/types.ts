/**
 * The JSON shapes of the local HTTP API (docs/api.md, docs/openapi.json),
 * shared by the server and the client. Types only: the client imports this
 * file in browsers, so it must stay free of Node built-ins.
 */

/** An item as the API shows it: hex for binary fields, times in ms since the epoch. */
export interface ItemJson {
  /** 128 hex characters. */
  readonly key: string;
  readonly value_type: 'bytes' | 'json';
  /** base64 of the bytes ('bytes'), or the exact signed JSON text ('json'). */
  readonly value: string;
  /** The parsed JSON, for convenience ('json' only; `value` is the authority). */
  readonly json?: unknown;
  /** The bytes as a UTF-8 string, when they are valid UTF-8 ('bytes' only). */
  readonly text?: string;
  readonly timestamp: number;
  /** 0 = never. */
  readonly expires: number;
  readonly created_with: string;
  /** 64 hex characters. */
  readonly public_key: string;
  readonly name: string;
  readonly meta: Readonly<Record<string, string>>;
  /** 128 hex characters. */
  readonly signature: string;
}

export type PutValueType = 'json' | 'text' | 'bytes';

/** The body of PUT /api/v1/items/{name}. */
export interface PutItemBody {
  /** Any JSON ('json', the default), a string ('text'), or base64 ('bytes'). */
  readonly value: unknown;
  readonly value_type?: PutValueType;
  /** Lifetime in seconds; 0 or omitted = never expires. */
  readonly expires?: number;
  /** How many nodes to store it on, 1 to K. */
  readonly duplicate?: number;
  readonly meta?: Readonly<Record<string, string>>;
}

export interface ReplicaJson {
  /** The replica's node id in hex, or "self". */
  readonly peer: string;
  readonly status: 'stored' | 'refused' | 'failed';
  /** The protocol error code of a refusal. */
  readonly code?: number;
  /** Why it was refused or failed. */
  readonly message?: string;
}

/** What a write reports: PUT and POST /api/v1/items. */
export interface ReplicationJson {
  readonly key: string;
  readonly stored: number;
  readonly attempted: number;
  readonly replicas: readonly ReplicaJson[];
}

/** Progress of a write, streamed as NDJSON when the request accepts application/x-ndjson. */
export type ReplicationEvent =
  | { readonly type: 'lookup-done'; /** Replicas about to be asked (an estimate: peers that fail during the lookup are not counted out). */ readonly replicas: number }
  | ({ readonly type: 'replica' } & ReplicaJson)
  | { readonly type: 'result'; readonly status: number; readonly result: ReplicationJson }
  | { readonly type: 'error'; readonly status: number; readonly error: ErrorJson };

export interface StatusJson {
  readonly public_key: string;
  readonly node_id: string;
  readonly version: string;
  /** The node's DHT port (not the API's). */
  readonly port: number;
  readonly peers: number;
  readonly items: number;
}

export interface PeerJson {
  readonly node_id: string;
  readonly public_key: string;
  readonly host: string;
  readonly port: number;
  /** When it last answered or sent a valid message (ms since the epoch). */
  readonly last_seen: number;
  readonly failures: number;
  /** Smoothed round-trip time; null until measured. */
  readonly rtt_ms: number | null;
}

export interface PeersJson {
  readonly peers: readonly PeerJson[];
}

export interface WhoisJson {
  readonly public_key: string;
  readonly profile: Readonly<Record<string, string>>;
}

export interface ErrorJson {
  readonly code: string;
  readonly message: string;
  /** The protocol's error code (docs/protocol.md) when one applies. */
  readonly protocol_code?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface ErrorBody {
  readonly error: ErrorJson;
}

// ---- The WebSocket API at GET /api/v1/ws (docs/api.md, "WebSocket API") ----

/** Client → server. Every message carries an `id` the client chooses; the answers carry it back. */
export type LiveRequest =
  | { readonly id: string; readonly type: 'auth'; /** The API token, as for HTTP writes. */ readonly token: string }
  | ({ readonly id: string; readonly type: 'get'; /** Ask the network even when the node holds a copy. */ readonly fresh?: boolean } & LiveQuery)
  | ({ readonly id: string; readonly type: 'set'; readonly name: string } & PutItemBody)
  | { readonly id: string; readonly type: 'subscribe-events' }
  | { readonly id: string; readonly type: 'unsubscribe-events' }
  | { readonly id: string; /** Cancels the running operation with this id. */ readonly type: 'cancel' };

export type LiveRequestType = LiveRequest['type'];

/** What to get: an item key (128 hex), or a public key (64 hex) and a name. */
export type LiveQuery = { readonly key: string } | { readonly public_key: string; readonly name: string };

/** A peer as lookup progress shows it. */
export interface LivePeerJson {
  readonly node_id: string;
  readonly host: string;
  readonly port: number;
}

/** One step of a lookup, as it happens. */
export interface LookupProgressJson {
  /** asked: a request went out; answered: it answered (new_contacts it taught us); failed: it did not (reason);
   * closer: the closest peer so far changed (distance_bits: bits its id shares with the target);
   * value: it answered with the item; bad-value: it answered with a forged item (code, reason) and was blacklisted. */
  readonly event: 'asked' | 'answered' | 'failed' | 'closer' | 'value' | 'bad-value';
  readonly peer: LivePeerJson;
  readonly distance_bits?: number;
  readonly new_contacts?: number;
  readonly code?: number;
  readonly reason?: string;
}

/** A node event as the event feed shows it: binary fields as hex, items as key and name, never values. */
export type NodeEventJson =
  | { readonly type: 'contact-added' | 'contact-moved'; readonly node_id: string; readonly host: string; readonly port: number }
  | { readonly type: 'contact-evicted'; readonly node_id: string }
  | { readonly type: 'blacklisted'; readonly node_id: string; readonly reason: string }
  | {
      readonly type: 'item-stored';
      readonly key: string;
      readonly name: string;
      readonly public_key: string;
      readonly timestamp: number;
      readonly expires: number;
      /** True when it was a copy the node held already, stored again. */
      readonly refreshed: boolean;
    }
  | { readonly type: 'item-refused'; readonly key: string; readonly code: number; readonly reason: string }
  | { readonly type: 'item-expired'; readonly key: string }
  | { readonly type: 'item-dropped'; readonly key: string; readonly reason: string }
  | { readonly type: 'message-dropped'; readonly reason: string };

/** Server → client. Every message carries the id of the request it answers (null for an error about a message without one). */
export type LiveMessage =
  | { readonly id: string; readonly type: 'auth-ok' }
  | ({ readonly id: string; readonly type: 'lookup' } & LookupProgressJson)
  | { readonly id: string; readonly type: 'item'; readonly item: ItemJson; readonly source: 'local' | 'network' }
  | { readonly id: string; readonly type: 'not-found' }
  | { readonly id: string; readonly type: 'lookup-done'; /** Replicas about to be asked, this node included. */ readonly replicas: number }
  | ({ readonly id: string; readonly type: 'replica' } & ReplicaJson)
  | { readonly id: string; readonly type: 'result'; readonly result: ReplicationJson }
  | { readonly id: string; readonly type: 'cancelled' }
  | { readonly id: string; readonly type: 'subscribed' }
  | { readonly id: string; readonly type: 'unsubscribed' }
  | { readonly id: string; readonly type: 'event'; readonly event: NodeEventJson }
  | { readonly id: string; readonly type: 'events-dropped'; /** Events not sent while the client was not reading. */ readonly count: number }
  | { readonly id: string | null; readonly type: 'error'; readonly error: ErrorJson };

export type LiveMessageType = LiveMessage['type'];
