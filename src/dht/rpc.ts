/**
 * Requests and their replies. Every request gets a fresh random id; a reply is
 * accepted only if it echoes a pending id, is addressed to us, comes from the
 * host we asked and (when we know whom we asked) is sealed by that key. Such a
 * reply proves the sender's address with a round trip, which is the only way
 * a contact may enter or move in the routing table.
 */
import { bytesEqual } from '../crypto/bytes.js';
import type { Identity } from '../crypto/identity.js';
import { type DecodedMessage, encodeMessage } from '../protocol/codec.js';
import { type Message, type MessageBody, type Reply, type Request, REQUEST_ID_BYTES, withEnvelope } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { Address, ContactInfo } from '../routing/contact.js';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { Transport } from './transport.js';

export type RpcFailureReason = 'timeout' | 'aborted' | 'overloaded' | 'closed';

export class RpcFailure extends Error {
  constructor(readonly reason: RpcFailureReason, address: Address) {
    super(`request to ${address.host}:${address.port} failed: ${reason}`);
    this.name = 'RpcFailure';
  }
}

/**
 * An RpcFailure without a stack trace: failures are routine (every request a
 * finished lookup cancels ends in one) and V8's stack capture costs more than
 * the rest of the request. Nothing reads their stacks.
 */
const rpcFailure = (reason: RpcFailureReason, address: Address): RpcFailure => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RpcFailure(reason, address);
  } finally {
    Error.stackTraceLimit = limit;
  }
};

/** The recipient id of a Ping to an address whose key we do not know: empty, and only ever read. */
const EMPTY_ID = Buffer.alloc(0);

/** The map key of a request id: its first 48 bits as a number (the whole id is compared on a match). */
const idKey = (id: Uint8Array): number => id[0] * 2 ** 40 + id[1] * 2 ** 32 + (((id[2] << 24) | (id[3] << 16) | (id[4] << 8) | id[5]) >>> 0);

export interface RpcReply {
  readonly message: Reply;
  /** The responder, at the address we sent to: proven by this round trip. */
  readonly responder: ContactInfo;
  readonly responderId: Buffer;
  readonly rttMs: number;
}

interface Pending {
  readonly key: number;
  readonly requestId: Buffer;
  readonly to: Address;
  readonly type: Request['type'];
  readonly expectedPublicKey: Uint8Array | undefined;
  readonly sentMs: number;
  readonly timer: TimerHandle;
  readonly resolve: (reply: RpcReply) => void;
  readonly reject: (error: RpcFailure) => void;
  /** The requests waiting under the same abort signal, this one among them. */
  readonly group: Set<Pending> | undefined;
}

export interface RpcCounters {
  sent: number;
  repliesMatched: number;
  repliesUnmatched: number;
  timeouts: number;
}

export class RpcClient {
  private readonly pending = new Map<number, Pending>();
  /** Requests per abort signal: one listener per signal (a lookup's), not one per request. */
  private readonly bySignal = new WeakMap<AbortSignal, Set<Pending>>();
  /** Requests awaiting a reply, per host asked: replies from there are not rate-limited. */
  private readonly pendingHosts = new Map<string, number>();
  private closed = false;
  readonly counters: RpcCounters = { sent: 0, repliesMatched: 0, repliesUnmatched: 0, timeouts: 0 };

  constructor(
    private readonly identity: Identity,
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly options: { readonly rpcTimeoutMs: number; readonly maxPendingRequests: number; readonly difficulty?: number },
    private readonly onSend: (message: Message, bytes: number) => void = () => undefined,
    /** The session key to MAC-seal a request to a known peer with; undefined signs it. */
    private readonly sessionKeyFor: (publicKey: Uint8Array) => Uint8Array | undefined = () => undefined,
    /** Told how each request ended and after how long. */
    private readonly onSettled: (type: Request['type'], outcome: 'answered' | RpcFailureReason, ms: number) => void = () => undefined,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** True while a request of ours to `host` awaits its reply. */
  awaitsReplyFrom(host: string): boolean {
    return this.pendingHosts.has(host);
  }

  /**
   * Sends `body` to `to`. `expected` is the peer we believe answers there;
   * without it (a bootstrap address) the request must be a Ping.
   */
  request(
    to: Address,
    body: MessageBody<Request>,
    expected: { readonly publicKey: Uint8Array; readonly id: Uint8Array } | undefined,
    options: { timeoutMs?: number; signal?: AbortSignal; padToBytes?: number } = {},
  ): Promise<RpcReply> {
    if (this.closed) return Promise.reject(rpcFailure('closed', to));
    if (options.signal?.aborted) return Promise.reject(rpcFailure('aborted', to));
    if (this.pending.size >= this.options.maxPendingRequests) return Promise.reject(rpcFailure('overloaded', to));
    if (expected === undefined && body.type !== 'ping') throw new Error('only a Ping may be sent to an address whose key is unknown');
    let requestId: Buffer;
    let key: number;
    do {
      requestId = Buffer.from(this.random.bytes(REQUEST_ID_BYTES));
      key = idKey(requestId);
    } while (this.pending.has(key));
    const message = withEnvelope(body, {
      requestId,
      senderPublicKey: this.identity.publicKey,
      replyPort: this.transport.localAddress.port,
      version: PROTOCOL_VERSION,
      recipientId: expected ? expected.id : EMPTY_ID,
      difficulty: this.options.difficulty,
    });
    const bytes = encodeMessage(message, this.identity, expected ? this.sessionKeyFor(expected.publicKey) : undefined, { padToBytes: options.padToBytes });
    return new Promise<RpcReply>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.counters.timeouts++;
        const entry = this.pending.get(key);
        if (entry?.requestId === requestId) this.settle(entry, 'timeout').reject(rpcFailure('timeout', to));
      }, options.timeoutMs ?? this.options.rpcTimeoutMs);
      const group = options.signal ? this.groupFor(options.signal) : undefined;
      const entry: Pending = { key, requestId, to, type: body.type, expectedPublicKey: expected?.publicKey, sentMs: this.clock.now(), timer, resolve, reject, group };
      this.pending.set(key, entry);
      group?.add(entry);
      this.pendingHosts.set(to.host, (this.pendingHosts.get(to.host) ?? 0) + 1);
      this.counters.sent++;
      this.onSend(message, bytes.length);
      this.transport.send(to, bytes);
    });
  }

  /** Offers a decoded reply; returns false when it matches no pending request of ours. */
  handleReply(decoded: DecodedMessage, from: Address): boolean {
    const message = decoded.message;
    const entry = message.requestId.length === REQUEST_ID_BYTES ? this.pending.get(idKey(message.requestId)) : undefined;
    const valid =
      entry !== undefined &&
      bytesEqual(entry.requestId, message.requestId) &&
      entry.to.host === from.host &&
      bytesEqual(message.recipientId, this.identity.nodeId) &&
      (entry.expectedPublicKey === undefined || bytesEqual(entry.expectedPublicKey, message.senderPublicKey));
    if (!valid) {
      this.counters.repliesUnmatched++;
      return false;
    }
    this.settle(entry, 'answered');
    this.counters.repliesMatched++;
    entry.resolve({
      message: message as Reply,
      responder: { publicKey: message.senderPublicKey, host: entry.to.host, port: entry.to.port },
      responderId: decoded.senderId,
      rttMs: this.clock.now() - entry.sentMs,
    });
    return true;
  }

  /** Fails every pending request; later requests fail at once. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.pending.values()]) this.settle(entry, 'closed').reject(rpcFailure('closed', entry.to));
  }

  /** The set of requests under `signal`, with the one listener that fails them all when it fires. */
  private groupFor(signal: AbortSignal): Set<Pending> {
    let group = this.bySignal.get(signal);
    if (!group) {
      const members = new Set<Pending>();
      group = members;
      this.bySignal.set(signal, members);
      signal.addEventListener(
        'abort',
        () => {
          for (const entry of [...members]) if (this.pending.get(entry.key) === entry) this.settle(entry, 'aborted').reject(rpcFailure('aborted', entry.to));
          members.clear();
        },
        { once: true },
      );
    }
    return group;
  }

  private settle(entry: Pending, outcome: 'answered' | RpcFailureReason): Pending {
    this.pending.delete(entry.key);
    entry.group?.delete(entry);
    this.onSettled(entry.type, outcome, this.clock.now() - entry.sentMs);
    const left = (this.pendingHosts.get(entry.to.host) ?? 1) - 1;
    if (left > 0) this.pendingHosts.set(entry.to.host, left);
    else this.pendingHosts.delete(entry.to.host);
    this.clock.clearTimeout(entry.timer);
    return entry;
  }
}
