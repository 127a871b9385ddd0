/**
 * What a node reports as it works: routing table changes, items stored and
 * expired, blacklistings. The API's event feed and the metrics read these.
 */
import type { Item } from '../protocol/item.js';
import type { Request } from '../protocol/messages.js';
import type { LookupKind } from './lookup.js';
import type { RpcFailureReason } from './rpc.js';

export type NodeEvent =
  | { readonly type: 'contact-added'; readonly idHex: string; readonly host: string; readonly port: number }
  | { readonly type: 'contact-moved'; readonly idHex: string; readonly host: string; readonly port: number }
  | { readonly type: 'contact-evicted'; readonly idHex: string }
  | { readonly type: 'blacklisted'; readonly idHex: string; readonly reason: string }
  | { readonly type: 'item-stored'; readonly item: Item; readonly refreshed: boolean }
  | { readonly type: 'item-refused'; readonly keyHex: string; readonly code: number; readonly reason: string }
  | { readonly type: 'item-expired'; readonly keyHex: string }
  | { readonly type: 'item-dropped'; readonly keyHex: string; readonly reason: string }
  | { readonly type: 'message-dropped'; readonly reason: string };

export type NodeEventListener = (event: NodeEvent) => void;

/**
 * A timing of the node's own work, for every request and lookup whoever
 * started it (the API, maintenance, replication): what the metrics'
 * histograms observe. Times are the injected clock's milliseconds.
 */
export type Measurement =
  | { readonly type: 'rpc'; readonly request: Request['type']; readonly outcome: 'answered' | RpcFailureReason; readonly ms: number }
  | { readonly type: 'lookup'; readonly kind: LookupKind; readonly outcome: 'done' | 'failed'; readonly rounds: number | undefined; readonly ms: number };

export type MeasurementListener = (measurement: Measurement) => void;
