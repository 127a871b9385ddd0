/**
 * One WebSocket connection of the live API (docs/api.md, "WebSocket API"):
 * it checks each message, runs gets and sets with their progress streamed
 * back under the request's id, and forwards the node's events when asked.
 * What it buffers for a slow client is bounded: event messages are dropped
 * (and counted) above the high-water mark, and a client that cannot take the
 * answers to its own requests is disconnected. Nothing a client sends throws
 * out of here.
 */
import type { DrogulusNode } from '../../dht/node.js';
import { itemKey } from '../../protocol/item.js';
import type { TokenCheck } from '../auth.js';
import { ApiError, internalError } from '../errors.js';
import { findItem } from '../find-item.js';
import { itemToJson, parseKey, parsePublicKey } from '../item-json.js';
import type { ApiMetrics } from '../metrics.js';
import { preparePut } from '../put-item.js';
import type { RateLimiter } from '../rate-limit.js';
import { asApiError, replicaToJson, replicationOutcome } from '../replication-reply.js';
import type { LiveMessage, LiveRequest } from '../types.js';
import { lookupEventToJson } from './event-json.js';
import { parseLiveRequest } from './requests.js';

export interface LiveSettings {
  /** Open connections at once; more are refused (HTTP 503, or close code 1013). */
  readonly maxConnections: number;
  /** Gets and sets running at once on one connection; more get too_many_operations. */
  readonly maxOperationsPerConnection: number;
  /** Above this many bytes waiting to be sent, event feed messages are dropped and counted. */
  readonly highWaterMarkBytes: number;
  /** Above this many bytes waiting to be sent, an answer cannot be queued: the connection is closed with 1013. */
  readonly maxBufferedBytes: number;
}

export const LIVE_DEFAULTS: LiveSettings = Object.freeze({
  maxConnections: 64,
  maxOperationsPerConnection: 16,
  highWaterMarkBytes: 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
});

/** The settings with defaults for what `settings` leaves out; RangeError for one that is not a positive integer. */
export const resolveLiveSettings = (settings: Partial<LiveSettings> = {}): LiveSettings => {
  const resolved: LiveSettings = {
    maxConnections: settings.maxConnections ?? LIVE_DEFAULTS.maxConnections,
    maxOperationsPerConnection: settings.maxOperationsPerConnection ?? LIVE_DEFAULTS.maxOperationsPerConnection,
    highWaterMarkBytes: settings.highWaterMarkBytes ?? LIVE_DEFAULTS.highWaterMarkBytes,
    maxBufferedBytes: settings.maxBufferedBytes ?? LIVE_DEFAULTS.maxBufferedBytes,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`live.${name} must be a positive integer, got ${value}`);
  }
  return resolved;
};

/** Close codes (RFC 6455 section 7.4.1). */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** What the session needs of a WebSocket (ws's WebSocket has it; tests pass a fake). */
export interface LiveSocket {
  readonly readyState: number;
  /** Bytes queued and not yet handed to the network. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
}

const OPEN = 1;

export interface LiveSessionDeps {
  readonly node: DrogulusNode;
  readonly metrics: ApiMetrics;
  readonly tokenCheck: TokenCheck;
  readonly limiter: RateLimiter | undefined;
  /** The client's address, for the rate limit of auth attempts. */
  readonly address: string;
  readonly settings: LiveSettings;
  /** Where unexpected failures go (the cause never goes to the client). */
  readonly logError: (error: unknown) => void;
}

export interface LiveSessionInfo {
  readonly address: string;
  readonly bufferedBytes: number;
  readonly eventsDropped: number;
  readonly operations: number;
  readonly subscribed: boolean;
  readonly authenticated: boolean;
}

export class LiveSession {
  private authenticated = false;
  private readonly operations = new Map<string, AbortController>();
  /** The id of the subscribe-events request, while subscribed. */
  private subscription: string | undefined;
  /** Events dropped since the client was last told. */
  private undelivered = 0;
  private droppedTotal = 0;
  private closed = false;

  constructor(
    private readonly socket: LiveSocket,
    private readonly deps: LiveSessionDeps,
  ) {}

  get info(): LiveSessionInfo {
    return {
      address: this.deps.address,
      bufferedBytes: this.socket.bufferedAmount,
      eventsDropped: this.droppedTotal,
      operations: this.operations.size,
      subscribed: this.subscription !== undefined,
      authenticated: this.authenticated,
    };
  }

  get isSubscribed(): boolean {
    return this.subscription !== undefined;
  }

  /** One message from the client. */
  receive(text: string | undefined): void {
    if (this.closed) return;
    if (text === undefined) return this.fail(null, ApiError.of('bad_request', 'send text messages: JSON objects with an id and a type'));
    const parsed = parseLiveRequest(text, this.deps.node.options.k);
    if (!parsed.ok) return this.fail(parsed.id, parsed.error);
    this.handle(parsed.request);
  }

  /** A node event, already as JSON text: sent to a subscriber unless too much is waiting to be sent. */
  deliverEvent(eventJson: string): void {
    const id = this.subscription;
    if (id === undefined || this.closed || this.socket.readyState !== OPEN) return;
    if (this.socket.bufferedAmount >= this.deps.settings.highWaterMarkBytes) {
      this.undelivered++;
      this.droppedTotal++;
      this.deps.metrics.eventDropped();
      return;
    }
    this.reportDropped();
    this.socket.send(`{"id":${JSON.stringify(id)},"type":"event","event":${eventJson}}`);
  }

  /** The socket has sent what it buffered: tell a subscriber what it missed. */
  drained(): void {
    if (this.socket.bufferedAmount < this.deps.settings.highWaterMarkBytes) this.reportDropped();
  }

  /** The connection has closed: running operations are cancelled. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription = undefined;
    for (const operation of this.operations.values()) operation.abort();
    this.operations.clear();
  }

  private handle(request: LiveRequest): void {
    switch (request.type) {
      case 'auth':
        return this.authenticate(request.id, request.token);
      case 'get':
        return this.start(request.id, (signal, send) => this.get(request, signal, send));
      case 'set':
        if (!this.authenticated) return this.fail(request.id, ApiError.of('unauthorized', 'set needs a successful auth message on this connection first, with the token from the api-token file'));
        return this.start(request.id, (signal, send) => this.set(request, signal, send));
      case 'subscribe-events':
        this.subscription = request.id;
        this.undelivered = 0;
        return this.send({ id: request.id, type: 'subscribed' });
      case 'unsubscribe-events':
        this.subscription = undefined;
        this.undelivered = 0;
        return this.send({ id: request.id, type: 'unsubscribed' });
      case 'cancel':
        return this.cancel(request.id);
    }
  }

  private authenticate(id: string, token: string): void {
    // Every attempt spends from the address's bucket, before the check: a
    // right guess must not get through an empty bucket.
    const decision = this.deps.limiter?.take(this.deps.address);
    if (decision && !decision.ok) {
      return this.fail(id, ApiError.of('too_many_requests', `too many attempts without the token: try again in ${decision.retryAfterS} s`, { details: { retry_after_s: decision.retryAfterS } }));
    }
    this.authenticated = this.deps.tokenCheck(token);
    if (this.authenticated) this.send({ id, type: 'auth-ok' });
    else this.fail(id, ApiError.of('unauthorized', 'the token is wrong: use the one in the api-token file of this node\'s data dir'));
  }

  /** Runs an operation under `id`; its messages stop the moment it is cancelled. */
  private start(id: string, run: (signal: AbortSignal, send: (message: LiveMessage) => void) => Promise<void>): void {
    if (this.operations.has(id)) return this.fail(id, ApiError.of('bad_request', `an operation with id ${JSON.stringify(id)} is running: ids must be unique among running operations`));
    if (this.operations.size >= this.deps.settings.maxOperationsPerConnection) {
      return this.fail(id, ApiError.of('too_many_operations', `this connection runs ${this.operations.size} operations already, the most it may: wait for one to end`));
    }
    if (!this.deps.node.isRunning) return this.fail(id, ApiError.of('unavailable', 'the node is stopped'));
    const controller = new AbortController();
    const { signal } = controller;
    this.operations.set(id, controller);
    const send = (message: LiveMessage): void => {
      if (!signal.aborted) this.send(message);
    };
    run(signal, send)
      .catch((error: unknown) => {
        if (signal.aborted) return;
        const failure = asApiError(error);
        if (!(failure instanceof ApiError)) this.deps.logError(failure);
        this.fail(id, failure instanceof ApiError ? failure : internalError());
      })
      .finally(() => {
        if (this.operations.get(id) === controller) this.operations.delete(id);
      });
  }

  private cancel(id: string): void {
    const operation = this.operations.get(id);
    // An operation that has just ended has sent its outcome: nothing to cancel.
    if (!operation) return;
    this.operations.delete(id);
    operation.abort();
    this.send({ id, type: 'cancelled' });
  }

  private async get(request: Extract<LiveRequest, { type: 'get' }>, signal: AbortSignal, send: (message: LiveMessage) => void): Promise<void> {
    const { node } = this.deps;
    const { id } = request;
    const key = 'key' in request ? parseKey(request.key, 'key') : itemKey(parsePublicKey(request.public_key, 'public_key'), request.name);
    const found = await findItem(node, key, request.fresh ?? false, {
      signal,
      onEvent: (event) => send({ id, type: 'lookup', ...lookupEventToJson(event) }),
    });
    send(found ? { id, type: 'item', item: itemToJson(found.item), source: found.source } : { id, type: 'not-found' });
  }

  private async set(request: Extract<LiveRequest, { type: 'set' }>, signal: AbortSignal, send: (message: LiveMessage) => void): Promise<void> {
    const { node } = this.deps;
    const { id, type: _type, name, ...body } = request;
    const replication = preparePut(node, name, body);
    const report = await replication.run({
      signal,
      onEvent: (event) => send({ id, type: 'lookup', ...lookupEventToJson(event) }),
      onLookupDone: (replicas) => send({ id, type: 'lookup-done', replicas }),
      onReplica: (replica) => send({ id, type: 'replica', ...replicaToJson(replica) }),
    });
    send({ id, type: 'result', result: replicationOutcome(report) });
  }

  private reportDropped(): void {
    if (this.undelivered === 0 || this.subscription === undefined) return;
    const count = this.undelivered;
    this.undelivered = 0;
    this.send({ id: this.subscription, type: 'events-dropped', count });
  }

  private fail(id: string | null, error: ApiError): void {
    this.deps.metrics.countError(error.code);
    this.send({ id, type: 'error', error: error.toJSON().error });
  }

  /**
   * An answer to the client's own request. If too much is waiting already,
   * the client is not reading: rather than buffer without bound, close.
   */
  private send(message: LiveMessage): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    if (this.socket.bufferedAmount >= this.deps.settings.maxBufferedBytes) {
      this.deps.metrics.slowClientClosed();
      this.close();
      this.socket.close(CLOSE_TRY_AGAIN_LATER, 'the client does not read its answers fast enough; try again later');
      return;
    }
    this.socket.send(JSON.stringify(message));
  }
}
