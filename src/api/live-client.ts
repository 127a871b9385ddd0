/**
 * The WebSocket side of the client (docs/api.md, "WebSocket API"): gets and
 * sets with their progress, and the node's event feed, over one connection.
 * It runs in browsers on the global WebSocket and in Node on the `ws`
 * package's, passed in; no Node built-ins here. Every failure is an ApiError,
 * as with DrogulusClient; an aborted signal cancels the operation on the
 * server and rejects with the signal's reason.
 */
import { API_ERRORS, ApiError, type ApiErrorCode } from './errors.js';
import type { ErrorJson, ItemJson, LiveMessage, LiveQuery, LiveRequest, NodeEventJson, PutItemBody, ReplicationJson } from './types.js';

/** What the connection uses of a WebSocket: the part browsers and `ws` share. */
interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket class: the browser's, or `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string) => object;

export interface LiveOptions {
  /** Defaults to the global WebSocket (browsers); in Node 20, pass `WebSocket` from the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
}

/** Progress of an operation, before its outcome. */
export type LiveProgress = Extract<LiveMessage, { type: 'lookup' | 'lookup-done' | 'replica' }>;

export interface LiveOperationOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (progress: LiveProgress) => void;
}

export interface LiveGetOptions extends LiveOperationOptions {
  /** Ask the network even when the node holds a copy. */
  readonly fresh?: boolean;
}

export interface LiveItem {
  readonly item: ItemJson;
  readonly source: 'local' | 'network';
}

export interface SubscribeOptions {
  /** Told how many events the server dropped while this client was not reading fast enough. */
  readonly onDropped?: (count: number) => void;
}

export interface LiveSubscription {
  unsubscribe(): Promise<void>;
}

type Outcome<T> = { readonly value: T } | { readonly error: ApiError } | undefined;
type Body = LiveRequest extends infer R ? (R extends { id: string } ? Omit<R, 'id'> : never) : never;

interface Pending {
  readonly deliver: (message: LiveMessage) => void;
  readonly fail: (error: ApiError) => void;
}

const OPEN = 1;

const errorFrom = (error: ErrorJson): ApiError =>
  new ApiError(API_ERRORS[error.code as ApiErrorCode] ?? 0, error.code, error.message, { protocolCode: error.protocol_code, details: error.details });

/** The WebSocket URL of the API at an http(s) base URL. */
export const liveUrl = (baseUrl: string): string => `${baseUrl.replace(/\/+$/, '').replace(/^http/i, 'ws')}/api/v1/ws`;

export class LiveConnection {
  /** Resolves once the connection is open and, with a token, authenticated; rejects with why not. */
  readonly ready: Promise<void>;
  private readonly socket: SocketLike;
  private readonly opened: Promise<void>;
  private readonly pending = new Map<string, Pending>();
  /** The event feed, under the id of its subscribe-events request. */
  private feed: { readonly id: string; readonly deliver: (message: LiveMessage) => void } | undefined;
  private closedBy: ApiError | undefined;
  private nextId = 1;

  constructor(
    readonly url: string,
    token: string | undefined,
    WebSocketClass: WebSocketConstructor,
  ) {
    this.socket = new WebSocketClass(url) as SocketLike;
    this.opened = new Promise<void>((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = () => reject(this.unreachable('the WebSocket failed'));
    });
    this.socket.onmessage = (event) => this.receive(event.data);
    this.socket.onclose = (event) => {
      const error = this.unreachable(`the WebSocket closed (code ${event.code}${event.reason ? `: ${event.reason}` : ''})`);
      this.closedBy ??= error;
      for (const pending of [...this.pending.values()]) pending.fail(this.closedBy);
      this.pending.clear();
    };
    const authenticated = token === undefined ? this.opened : this.operation<void>({ type: 'auth', token }, {}, (m) => (m.type === 'auth-ok' ? { value: undefined } : undefined));
    this.ready = authenticated;
    // A failed open or auth is reported through `ready` and each operation, never as an unhandled rejection.
    this.opened.catch(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** The item under `query.key`, or `query.public_key` published under `query.name`; not_found (404) when none is found. */
  get(query: LiveQuery, options: LiveGetOptions = {}): Promise<LiveItem> {
    const body: Body = { type: 'get', ...query, ...(options.fresh === undefined ? {} : { fresh: options.fresh }) };
    return this.operation<LiveItem>(body, options, (message) => {
      if (message.type === 'item') return { value: { item: message.item, source: message.source } };
      if (message.type === 'not-found') return { error: ApiError.of('not_found', 'no node had the item') };
      if (message.type === 'lookup') options.onEvent?.(message);
      return undefined;
    });
  }

  /** Signs `body.value` under `name` with the node's key and stores it; needs the token. */
  set(name: string, body: PutItemBody, options: LiveOperationOptions = {}): Promise<ReplicationJson> {
    return this.operation<ReplicationJson>({ type: 'set', name, ...body }, options, (message) => {
      if (message.type === 'result') return { value: message.result };
      if (message.type === 'lookup' || message.type === 'lookup-done' || message.type === 'replica') options.onEvent?.(message);
      return undefined;
    });
  }

  /** Feeds the node's events to `onEvent` until unsubscribed. One feed per connection: a new subscription replaces the last. */
  subscribe(onEvent: (event: NodeEventJson) => void, options: SubscribeOptions = {}): Promise<LiveSubscription> {
    const id = this.newId();
    const unsubscribe = async (): Promise<void> => {
      if (this.feed?.id !== id) return;
      this.feed = undefined;
      await this.operation<void>({ type: 'unsubscribe-events' }, {}, (message) => (message.type === 'unsubscribed' ? { value: undefined } : undefined));
    };
    return this.operation<LiveSubscription>(
      { type: 'subscribe-events' },
      {},
      (message) => {
        if (message.type !== 'subscribed') return undefined;
        // Installed at once: events may follow in the same network read.
        this.feed = {
          id,
          deliver: (m) => {
            if (m.type === 'event') onEvent(m.event);
            else if (m.type === 'events-dropped') options.onDropped?.(m.count);
          },
        };
        return { value: { unsubscribe } };
      },
      id,
    );
  }

  close(): void {
    this.closedBy ??= this.unreachable('the connection was closed by the client');
    this.socket.close(1000, 'done');
  }

  /** Sends `body` under a new id and settles with what `handle` makes of the answers. */
  private operation<T>(body: Body, options: LiveOperationOptions, handle: (message: LiveMessage) => Outcome<T>, id = this.newId()): Promise<T> {
    const { signal } = options;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (this.closedBy) return reject(this.closedBy);
      const finish = (): void => {
        this.pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        if (this.socket.readyState === OPEN) this.socket.send(JSON.stringify({ id, type: 'cancel' }));
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        deliver: (message) => {
          const outcome = message.type === 'error' ? { error: errorFrom(message.error) } : handle(message);
          if (!outcome) return;
          finish();
          if ('error' in outcome) reject(outcome.error);
          else resolve(outcome.value);
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      });
      this.opened.then(
        () => {
          if (this.pending.has(id) && this.socket.readyState === OPEN) this.socket.send(JSON.stringify({ ...body, id }));
        },
        (error: unknown) => {
          finish();
          reject(error);
        },
      );
    });
  }

  private receive(data: unknown): void {
    let message: LiveMessage;
    try {
      message = JSON.parse(typeof data === 'string' ? data : String(data)) as LiveMessage;
    } catch {
      return;
    }
    if (typeof message?.id !== 'string') return;
    if ((message.type === 'event' || message.type === 'events-dropped') && message.id === this.feed?.id) this.feed.deliver(message);
    else this.pending.get(message.id)?.deliver(message);
  }

  private newId(): string {
    return `c${this.nextId++}`;
  }

  private unreachable(why: string): ApiError {
    return new ApiError(0, 'unreachable', `cannot use the WebSocket API at ${this.url}: ${why}`);
  }
}

/** The global WebSocket, where there is one (browsers, Node 22 and later). */
export const globalWebSocket = (): WebSocketConstructor => {
  const found = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!found) throw new TypeError('there is no global WebSocket here (Node 20): pass one, e.g. client.live({ WebSocket }) with WebSocket from the ws package');
  return found;
};
