/// <reference lib="dom" />
/**
 * The UI's side of the WebSocket API at /api/v1/ws (docs/api.md): requests
 * tagged with an id, whose progress messages stream back under the same id
 * until a final one (auth-ok, item, not-found, result or error). It
 * reconnects by itself, and then authenticates again and resubscribes to the
 * event feed. Every message is JSON; nothing received is ever treated as markup.
 */

export interface LiveMessage {
  readonly id?: string | null;
  readonly type: string;
  readonly [field: string]: unknown;
}

export type LiveState = 'connecting' | 'open' | 'closed';

/** Message types that end a request. */
const FINAL = new Set(['auth-ok', 'item', 'not-found', 'result', 'error']);
const MAX_RETRY_MS = 10_000;

export class LiveError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LiveError';
  }
}

interface Pending {
  readonly onMessage: (message: LiveMessage) => void;
  readonly resolve: (message: LiveMessage) => void;
  readonly reject: (error: Error) => void;
}

export const liveUrl = (location: Location): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;

export class LiveConnection {
  private socket: WebSocket | undefined;
  private lastId = 0;
  private readonly pending = new Map<string, Pending>();
  /** Subscriptions, re-sent with the same id after a reconnect. */
  private readonly subscriptions = new Map<string, { readonly request: Record<string, unknown>; readonly onMessage: (message: LiveMessage) => void }>();
  private token: string | undefined;
  private retryMs = 500;
  private stateNow: LiveState = 'closed';
  private readonly stateListeners = new Set<(state: LiveState) => void>();

  constructor(private readonly url: string) {}

  get state(): LiveState {
    return this.stateNow;
  }

  /** Calls `listener` with every change of state, and now with the current one. */
  onState(listener: (state: LiveState) => void): void {
    this.stateListeners.add(listener);
    listener(this.stateNow);
  }

  start(): void {
    if (this.socket) return;
    this.setState('connecting');
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = 500;
      this.setState('open');
      if (this.token !== undefined) this.send({ id: this.newId(), type: 'auth', token: this.token });
      for (const [id, { request }] of this.subscriptions) this.send({ ...request, id });
    });
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', () => {
      this.socket = undefined;
      for (const [, pending] of this.pending) pending.reject(new LiveError('closed', 'the live connection to the node closed'));
      this.pending.clear();
      this.setState('closed');
      this.scheduleReconnect();
    });
  }

  /** Resolves true once open, or false when it is not open within `timeoutMs`. */
  whenOpen(timeoutMs: number): Promise<boolean> {
    if (this.stateNow === 'open') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stateListeners.delete(listener);
        resolve(false);
      }, timeoutMs);
      const listener = (state: LiveState): void => {
        if (state !== 'open') return;
        clearTimeout(timer);
        this.stateListeners.delete(listener);
        resolve(true);
      };
      this.stateListeners.add(listener);
    });
  }

  /**
   * Sends a request and calls `onMessage` with each progress message; resolves
   * with the final one, or rejects with a LiveError for an error answer.
   */
  request(request: Record<string, unknown>, onMessage: (message: LiveMessage) => void = () => undefined): Promise<LiveMessage> {
    const id = this.newId();
    return new Promise<LiveMessage>((resolve, reject) => {
      if (this.stateNow !== 'open') {
        reject(new LiveError('closed', 'there is no live connection to the node'));
        return;
      }
      this.pending.set(id, { onMessage, resolve, reject });
      this.send({ ...request, id });
    });
  }

  /** Authenticates this connection (and every reconnect) for writes. */
  async authenticate(token: string): Promise<void> {
    await this.request({ type: 'auth', token });
    this.token = token;
  }

  forgetToken(): void {
    this.token = undefined;
  }

  /** Streams the node's events to `onEvent` from now on, across reconnects. */
  subscribeEvents(onEvent: (event: Record<string, unknown>) => void): void {
    const id = this.newId();
    this.subscriptions.set(id, {
      request: { type: 'subscribe-events' },
      onMessage: (message) => {
        if (message.type === 'event' && typeof message.event === 'object' && message.event !== null) onEvent(message.event as Record<string, unknown>);
        // The node could not send some events while this page was not reading: say so in the feed.
        else if (message.type === 'events-dropped') onEvent({ type: 'events-dropped', count: message.count });
      },
    });
    if (this.stateNow === 'open') this.send({ id, type: 'subscribe-events' });
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: LiveMessage;
    try {
      message = JSON.parse(data) as LiveMessage;
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return;
    const id = String(message.id);
    const subscription = this.subscriptions.get(id);
    if (subscription) {
      subscription.onMessage(message);
      return;
    }
    const pending = this.pending.get(id);
    if (!pending) return;
    if (!FINAL.has(message.type)) {
      pending.onMessage(message);
      return;
    }
    this.pending.delete(id);
    if (message.type === 'error') {
      const error = (message.error ?? {}) as { code?: unknown; message?: unknown };
      pending.reject(new LiveError(String(error.code ?? 'error'), String(error.message ?? 'the node answered with an error')));
    } else pending.resolve(message);
  }

  private send(message: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify(message));
  }

  /** Ids are strings (of 1 to 128 characters), unique among this connection's requests. */
  private newId(): string {
    return `ui-${++this.lastId}`;
  }

  private scheduleReconnect(): void {
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    setTimeout(() => this.start(), wait);
  }

  private setState(state: LiveState): void {
    if (state === this.stateNow) return;
    this.stateNow = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }
}
