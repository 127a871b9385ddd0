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
