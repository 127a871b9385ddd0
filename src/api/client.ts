/**
 * A typed client of the local HTTP API (docs/api.md), on the global fetch so
 * it runs in Node and in browsers: no Node built-ins here. `live()` opens
 * the WebSocket API (live-client.ts). Every failure is an
 * ApiError: the server's {error} body with its HTTP status, or status 0 with
 * code 'unreachable' when no answer came. An aborted signal rejects with the
 * signal's reason, as fetch does.
 */
import { ApiError, isErrorBody } from './errors.js';
import { globalWebSocket, LiveConnection, liveUrl, type LiveOptions } from './live-client.js';
import type { ErrorJson, ItemJson, PeersJson, PutItemBody, ReplicationEvent, ReplicationJson, StatusJson, WhoisJson } from './types.js';

export { ApiError, API_ERRORS, type ApiErrorCode } from './errors.js';
export {
  LiveConnection,
  liveUrl,
  type LiveGetOptions,
  type LiveItem,
  type LiveOperationOptions,
  type LiveOptions,
  type LiveProgress,
  type LiveSubscription,
  type SubscribeOptions,
  type WebSocketConstructor,
} from './live-client.js';
export type * from './types.js';

export interface DrogulusClientOptions {
  /** Where the API listens, e.g. http://127.0.0.1:1909; a path prefix is kept. */
  readonly baseUrl: string;
  /** The bearer token writes need (the node's api-token file). */
  readonly token?: string;
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export interface GetItemOptions extends RequestOptions {
  /** Ask the network even when the node holds a copy (Cache-Control: no-cache). */
  readonly fresh?: boolean;
}

/** Progress of a write, before its outcome. */
export type ReplicationProgress = Extract<ReplicationEvent, { type: 'lookup-done' | 'replica' }>;

export interface WriteOptions extends RequestOptions {
  /** When given, the write streams its progress (application/x-ndjson) and this sees each event. */
  readonly onProgress?: (event: ReplicationProgress) => void;
}

const NDJSON = 'application/x-ndjson';

interface Call {
  readonly method: 'GET' | 'PUT' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export class DrogulusClient {
  private readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetch: typeof fetch;

  constructor(options: DrogulusClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  status(options: RequestOptions = {}): Promise<StatusJson> {
    return this.json({ method: 'GET', path: '/api/v1/status', signal: options.signal });
  }

  /** The item under `key` (128 hex characters); not_found (404) when there is none. */
  getItem(key: string, options: GetItemOptions = {}): Promise<ItemJson> {
    return this.json({ method: 'GET', path: `/api/v1/items/${encodeURIComponent(key)}`, headers: freshness(options), signal: options.signal });
  }

  /** The item `publicKey` (64 hex characters) published under `name`. */
  getItemByName(publicKey: string, name: string, options: GetItemOptions = {}): Promise<ItemJson> {
    const query = new URLSearchParams({ public_key: publicKey, name });
    return this.json({ method: 'GET', path: `/api/v1/items?${query}`, headers: freshness(options), signal: options.signal });
  }

  /** Signs `body.value` under `name` with the node's key and replicates it (needs the token). */
  putItem(name: string, body: PutItemBody, options: WriteOptions = {}): Promise<ReplicationJson> {
    return this.write({ method: 'PUT', path: `/api/v1/items/${encodeURIComponent(name)}`, body, headers: this.authorization(), signal: options.signal }, options.onProgress);
  }

  /** Replicates an item signed elsewhere; its json and text fields are ignored. */
  postItem(item: ItemJson, options: WriteOptions = {}): Promise<ReplicationJson> {
    return this.write({ method: 'POST', path: '/api/v1/items', body: item, signal: options.signal }, options.onProgress);
  }

  /** The profile the node with `publicKey` published; not_found (404) when there is none. */
  whois(publicKey: string, options: RequestOptions = {}): Promise<WhoisJson> {
    return this.json({ method: 'GET', path: `/api/v1/whois/${encodeURIComponent(publicKey)}`, signal: options.signal });
  }

  peers(options: RequestOptions = {}): Promise<PeersJson> {
    return this.json({ method: 'GET', path: '/api/v1/peers', signal: options.signal });
  }

  /**
   * A WebSocket connection to the live API (GET /api/v1/ws), authenticated
   * with this client's token when it has one: gets and sets with their
   * progress, and the node's event feed. Close it when done.
   */
  live(options: LiveOptions = {}): LiveConnection {
    return new LiveConnection(liveUrl(this.baseUrl), this.token, options.WebSocket ?? globalWebSocket());
  }

  private authorization(): Record<string, string> {
    return this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
  }

  private async write(call: Call, onProgress: WriteOptions['onProgress']): Promise<ReplicationJson> {
    if (!onProgress) return this.json(call);
    const response = await this.send({ ...call, headers: { ...call.headers, accept: `${NDJSON}, application/json` } });
    if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith(NDJSON)) return this.parse(response);
    let outcome: ReplicationEvent | undefined;
    await this.lines(response, call.signal, (line) => {
      const event = parseJson(line) as ReplicationEvent | undefined;
      if (event?.type === 'lookup-done' || event?.type === 'replica') onProgress(event);
      else if (event?.type === 'result' || event?.type === 'error') outcome = event;
    });
    if (outcome?.type === 'result') return outcome.result;
    if (outcome?.type === 'error') throw errorFrom(outcome.status, outcome.error);
    throw new ApiError(response.status, 'unexpected_response', 'the progress stream ended without an outcome');
  }

  private async json<T>(call: Call): Promise<T> {
    return this.parse<T>(await this.send(call));
  }

  private async send(call: Call): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetch(`${this.baseUrl}${call.path}`, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.signal,
      });
    } catch (error) {
      throw this.unreachable(error, call.signal);
    }
  }

  private async parse<T>(response: Response): Promise<T> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.unreachable(error);
    }
    const body = parseJson(text);
    if (response.ok) {
      if (body === undefined) throw new ApiError(response.status, 'unexpected_response', `HTTP ${response.status} with a body that is not JSON`);
      return body as T;
    }
    if (isErrorBody(body)) throw errorFrom(response.status, body.error);
    throw new ApiError(response.status, 'unexpected_response', `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }

  /** Calls `onLine` for each line of an NDJSON body as it arrives. */
  private async lines(response: Response, signal: AbortSignal | undefined, onLine: (line: string) => void): Promise<void> {
    if (!response.body) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        buffered += decoder.decode(value, { stream: !done });
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) if (line.trim()) onLine(line);
        if (done) break;
      }
    } catch (error) {
      throw this.unreachable(error, signal);
    }
    if (buffered.trim()) onLine(buffered);
  }

  private unreachable(error: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) return error;
    const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error)?.message;
    return new ApiError(0, 'unreachable', `cannot reach the API at ${this.baseUrl}${why ? ` (${why})` : ''}`, { cause: error });
  }
}

const freshness = (options: GetItemOptions): Record<string, string> => (options.fresh ? { 'cache-control': 'no-cache' } : {});

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

const errorFrom = (status: number, error: ErrorJson): ApiError =>
  new ApiError(status, error.code, error.message, { protocolCode: error.protocol_code, details: error.details });
