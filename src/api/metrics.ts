/**
 * The node's metrics for GET /metrics (docs/api.md, "Metrics"), in a
 * prom-client Registry of this API's own: two servers in one process never
 * share counters. Gauges and the node's traffic counters are read from the
 * node when scraped; the round-trip and lookup histograms observe the node's
 * measurements of every request and lookup, whoever started it.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DrogulusNode } from '../dht/node.js';
import type { Measurement } from '../dht/events.js';

const ROUND_TRIP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LOOKUP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LOOKUP_ROUND_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20];

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly roundTrip: Histogram<'type'>;
  private readonly lookupRounds: Histogram<'kind'>;
  private readonly lookupDuration: Histogram<'kind' | 'outcome'>;
  private readonly apiErrors: Counter<'code'>;
  private readonly nodeEvents: Counter<'type'>;
  private readonly liveConnections: Gauge;
  private readonly eventsDropped: Counter;
  private readonly slowCloses: Counter;
  private readonly rpcFailures: Counter<'type' | 'reason'>;
  private readonly unsubscribe: Array<() => void>;

  constructor(private readonly node: DrogulusNode) {
    const registers = [this.registry];
    const { stats } = node;
    mirror(registers, 'drogulus_messages_in_total', 'Protocol messages received and decoded, by type.', 'type', () => stats.messagesIn);
    mirror(registers, 'drogulus_messages_out_total', 'Protocol messages sent, by type.', 'type', () => stats.messagesOut);
    mirror(registers, 'drogulus_protocol_errors_sent_total', 'Error replies sent, by protocol error code.', 'code', () => stats.errorsSent);
    mirror(registers, 'drogulus_inputs_dropped_total', 'Inputs dropped (undecodable, misdirected, unmatched replies...), by reason.', 'reason', () => stats.dropped);
    mirrorTotal(registers, 'drogulus_message_bytes_in_total', 'Bytes of protocol messages received and decoded.', () => stats.bytesIn);
    mirrorTotal(registers, 'drogulus_message_bytes_out_total', 'Bytes of protocol messages sent.', () => stats.bytesOut);
    mirrorTotal(registers, 'drogulus_lookups_total', 'Iterative lookups the node started, for any reason.', () => stats.lookups);
    reading(registers, 'drogulus_rpc_pending_requests', 'Requests sent and waiting for a reply.', () => node.pendingRequests);
    reading(registers, 'drogulus_routing_table_contacts', 'Contacts in the routing table.', () => node.table.size);
    reading(registers, 'drogulus_blacklisted_nodes', 'Node ids on the blacklist.', () => node.table.blacklistSize);
    reading(registers, 'drogulus_items_stored', 'Items in the store.', () => node.store.size);
    reading(registers, 'drogulus_item_value_bytes', 'Bytes of the values in the store.', () => node.store.valueBytes);

    this.roundTrip = new Histogram({
      name: 'drogulus_rpc_round_trip_seconds',
      help: 'Round trip of the requests this node sent and got an answer to, by request type (timeouts are in drogulus_rpc_failures_total).',
      labelNames: ['type'],
      buckets: ROUND_TRIP_BUCKETS_S,
      registers,
    });
    this.lookupRounds = new Histogram({
      name: 'drogulus_lookup_rounds',
      help: 'Rounds (hops) of the lookups this node finished, by kind (value: reads, node: writes, joins, refreshes).',
      labelNames: ['kind'],
      buckets: LOOKUP_ROUND_BUCKETS,
      registers,
    });
    this.lookupDuration = new Histogram({
      name: 'drogulus_lookup_duration_seconds',
      help: 'Duration of the lookups this node ran, by kind (value: reads, node: writes, joins, refreshes) and outcome (done, failed).',
      labelNames: ['kind', 'outcome'],
      buckets: LOOKUP_DURATION_BUCKETS_S,
      registers,
    });
    this.apiErrors = new Counter({ name: 'drogulus_api_errors_total', help: 'Errors this API answered (HTTP and WebSocket), by error code.', labelNames: ['code'], registers });
    this.nodeEvents = new Counter({ name: 'drogulus_node_events_total', help: 'Events the node reported (contacts, items, blacklistings), by type.', labelNames: ['type'], registers });
    this.liveConnections = new Gauge({ name: 'drogulus_ws_connections', help: 'Open WebSocket connections.', registers });
    this.eventsDropped = new Counter({ name: 'drogulus_ws_events_dropped_total', help: 'Event feed messages not sent because the client was not reading.', registers });
    this.slowCloses = new Counter({ name: 'drogulus_ws_slow_closes_total', help: 'WebSocket connections closed because the client read too slowly.', registers });
    this.rpcFailures = new Counter({ name: 'drogulus_rpc_failures_total', help: 'Requests this node sent that got no answer, by request type and reason (timeout, aborted, overloaded, closed).', labelNames: ['type', 'reason'], registers });
    this.unsubscribe = [node.onEvent((event) => this.nodeEvents.inc({ type: event.type })), node.onMeasurement((m) => this.observe(m))];
  }

  private observe(measurement: Measurement): void {
    if (measurement.type === 'rpc') {
      if (measurement.outcome === 'answered') this.roundTrip.observe({ type: measurement.request }, measurement.ms / 1000);
      else this.rpcFailures.inc({ type: measurement.request, reason: measurement.outcome });
      return;
    }
    this.lookupDuration.observe({ kind: measurement.kind, outcome: measurement.outcome }, measurement.ms / 1000);
    if (measurement.rounds !== undefined) this.lookupRounds.observe({ kind: measurement.kind }, measurement.rounds);
  }

  countError(code: string): void {
    this.apiErrors.inc({ code });
  }

  connectionOpened(): void {
    this.liveConnections.inc();
  }

  connectionClosed(): void {
    this.liveConnections.dec();
  }

  eventDropped(): void {
    this.eventsDropped.inc();
  }

  slowClientClosed(): void {
    this.slowCloses.inc();
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }
}

/** A counter that shows a labelled count the node keeps. */
const mirror = (registers: Registry[], name: string, help: string, label: string, read: () => Readonly<Record<string, number>>): void => {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      for (const [value, count] of Object.entries(read())) this.inc({ [label]: value }, count);
    },
  });
};

/** A counter that shows a total the node keeps. */
const mirrorTotal = (registers: Registry[], name: string, help: string, read: () => number): void => {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
};

/** A gauge read from the node when scraped. */
const reading = (registers: Registry[], name: string, help: string, read: () => number): void => {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
};
