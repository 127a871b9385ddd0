/**
 * A drogulus node: the seed's Node class, complete. It receives bytes from an
 * injected transport, answers requests with one handler per message type,
 * runs lookups, and offers the high-level API (set, get, whois). What a peer
 * can make it do is bounded: a rate per source IP, replies no larger than
 * the request to an unproven address, quotas on storage, diversity caps on
 * the routing table (docs/security.md). It reads no clock, timer, random
 * source, socket or file except through its injected dependencies
 * (docs/protocol.md describes what it does on the wire).
 */
import { bytesEqual, toHex } from '../crypto/bytes.js';
import { type Identity, nodeIdOf } from '../crypto/identity.js';
import { meetsDifficulty } from '../crypto/puzzle.js';
import { SessionKeys } from '../crypto/session-keys.js';
import { type CodecOptions, type DecodedMessage, decodeMessage, encodeMessage } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/errors.js';
import { checkItem, compareItemVersions, createItem, type Item, itemKey, type ItemValue } from '../protocol/item.js';
import { isRequest, type Message, type MessageBody, type Reply, type Request, withEnvelope } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { type Address, type ContactInfo, sameAddress } from '../routing/contact.js';
import { compareDistance } from '../routing/distance.js';
import { RoutingTable, type TableSnapshot } from '../routing/routing-table.js';
import { type Clock, seconds, type TimerHandle } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import type { ItemStore } from '../storage/item-store.js';
import { MemoryItemStore } from '../storage/memory-item-store.js';
import { type NodeOptions, resolveOptions } from './defaults.js';
import type { Measurement, MeasurementListener, NodeEvent, NodeEventListener } from './events.js';
import { errorReply, type HandlerContext, type ReplyBody } from './handlers/context.js';
import { handleFindNode } from './handlers/find-node.js';
import { handleFindValue } from './handlers/find-value.js';
import { handlePing } from './handlers/ping.js';
import { acceptItem, handleStore, type StoreOutcome } from './handlers/store.js';
import { clusterSize, type DensityCheck, distanceFraction, estimateNetworkSize } from './density.js';
import { disjointLookup } from './disjoint-lookup.js';
import { type Candidate, lookup, type LookupDeps, type LookupEvent, type LookupControl, type LookupKind, type LookupParams, type LookupResult } from './lookup.js';
import { runMaintenance, type MaintenanceReport } from './maintenance.js';
import { AddressProofs } from './address-proofs.js';
import { Challenges } from './challenges.js';
import { RateLimiter } from './rate-limiter.js';
import { RetransmitTimer } from './retransmit-timer.js';
import { Handoff } from './handoff.js';
import { fitReply, UNPROVEN_DETAIL } from './reply-budget.js';
import { RpcClient, RpcFailure, type RpcReply } from './rpc.js';
import { NodeStats } from './stats.js';
import type { Transport } from './transport.js';

export interface NodeDeps {
  readonly identity: Identity;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: Random;
  readonly store?: ItemStore;
  readonly options?: Partial<NodeOptions>;
  /** The whoami profile, published under our own public key after joining. */
  readonly profile?: Readonly<Record<string, string>>;
}

/** A peer to join through: an address, with its public key when known. */
export interface Seed extends Address {
  readonly publicKey?: Uint8Array;
}

export interface OperationOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: LookupEvent) => void;
  /** Disjoint paths for this operation's lookup; the node's disjointPaths by default. */
  readonly paths?: number;
  /** Copies a get gathers before answering; the node's getQuorum by default. */
  readonly quorum?: number;
}

export type ReplicaOutcome =
  | { readonly peer: string; readonly status: 'stored' }
  | { readonly peer: string; readonly status: 'refused'; readonly code: number; readonly message: string; readonly heldTimestamp?: number }
  | { readonly peer: string; readonly status: 'failed'; readonly reason: string };

export interface RetrieveOptions extends OperationOptions {
  /** Ask the network even when this node holds a live copy. */
  readonly fresh?: boolean;
}

export interface ReplicateOptions extends OperationOptions {
  /** Called once the lookup has chosen the replicas, with how many will be asked (ourselves included). */
  readonly onLookupDone?: (replicas: number) => void;
  readonly onReplica?: (outcome: ReplicaOutcome) => void;
}

export interface ReplicateReport {
  readonly key: string;
  readonly attempted: number;
  readonly stored: number;
  readonly replicas: readonly ReplicaOutcome[];
  readonly lookup: Pick<LookupResult, 'rounds' | 'requests'>;
}

export interface RetrieveReport {
  readonly item: Item | undefined;
  readonly source: 'local' | 'network' | 'none';
  readonly rounds: number;
  readonly requests: number;
  /** Valid copies the lookup gathered (its quorum, or fewer); 1 for a plain lookup that found the item. */
  readonly copies?: number;
  /** Holders of an older version that were sent the newest (read repair). */
  readonly repaired?: number;
}

export interface SetOptions extends ReplicateOptions {
  /** Lifetime in seconds from now; 0, negative or omitted = never expires. */
  readonly expires?: number;
  readonly duplicate?: number;
  readonly meta?: Readonly<Record<string, string>>;
}

export const SELF = 'self';

/** How long new contacts are gathered before one store-on-join pass hands them their items. */
const HANDOFF_DELAY_MS = 1_000;

/** The shortest wait for a FindValue's first peer alone: a scheduling hiccup is not a lost reply. */
const MIN_HEDGE_MS = 20;

export class DrogulusNode {
  readonly identity: Identity;
  readonly options: NodeOptions;
  readonly table: RoutingTable;
  readonly store: ItemStore;
  readonly stats = new NodeStats();
  readonly clock: Clock;
  readonly random: Random;
  private readonly transport: Transport;
  private readonly rpc: RpcClient;
  private readonly codecOptions: CodecOptions;
  /** Pairwise MAC keys; undefined when every message is signed. */
  readonly sessionKeys: SessionKeys | undefined;
  private readonly listeners = new Set<NodeEventListener>();
  private readonly measurementListeners = new Set<MeasurementListener>();
  /** When we last challenged each id@address. */
  private readonly challenges: Challenges;
  /** Unsolicited messages per source IP (docs/protocol.md, "Limits"). */
  private readonly rateLimiter: RateLimiter;
  /** Proven addresses both ways, and recent requests (docs/protocol.md, "Reflection"). */
  private readonly proofs: AddressProofs;
  private challengeBytes: number | undefined;
  private readonly lastTimestamps = new Map<string, number>();
  private readonly context: HandlerContext;
  private readonly profile: Readonly<Record<string, string>> | undefined;
  private maintenanceTimer: TimerHandle | undefined;
  private followUpTimer: TimerHandle | undefined;
  private handoffTimer: TimerHandle | undefined;
  private readonly handoff: Handoff;
  private readonly retransmitTimer: RetransmitTimer;
  private maintenance: Promise<MaintenanceReport> | undefined;
  private running = false;

  constructor(deps: NodeDeps) {
    this.identity = deps.identity;
    this.transport = deps.transport;
    this.clock = deps.clock;
    this.random = deps.random;
    this.options = resolveOptions(deps.options);
    this.retransmitTimer = new RetransmitTimer(this.options.retransmitMinMs, this.options.rpcTimeoutMs / 2);
    this.store = deps.store ?? new MemoryItemStore();
    this.profile = deps.profile;
    const { difficulty } = this.options;
    if (!meetsDifficulty(this.identity.nodeId, difficulty)) throw new RangeError(`this node's key does not meet difficulty ${difficulty}: grind one with grindIdentity`);
    this.table = new RoutingTable(
      this.identity.nodeId,
      {
        k: this.options.k,
        allowedFails: this.options.allowedRpcFails,
        maxPerHostPerBucket: this.options.maxContactsPerHostPerBucket,
        maxPerNetworkPerBucket: this.options.maxContactsPerNetworkPerBucket,
        maxPerHost: this.options.maxContactsPerHost,
        sharedHosts: this.options.sharedHosts,
        admissible: difficulty > 0 ? (id) => meetsDifficulty(id, difficulty) : undefined,
      },
      this.clock.now(),
    );
    this.rateLimiter = new RateLimiter({ perSecond: this.options.requestsPerSecondPerSource, burst: this.options.requestBurstPerSource, maxSources: this.options.maxTrackedSources });
    this.proofs = new AddressProofs(this.clock, this.options);
    this.challenges = new Challenges(this.table, this.options);
    this.handoff = new Handoff({
      ownId: this.nodeId,
      k: this.options.k,
      now: () => this.clock.now(),
      closest: (key, count) => this.table.closest(key, count),
      current: (id) => this.table.get(id),
      isAmongClosest: (key) => this.isAmongClosest(key),
      items: () => this.store.entries(),
      send: (to, item) => this.request(to, { type: 'store', item }),
      concurrency: this.options.republishConcurrency,
    });
    this.sessionKeys = this.options.sessionMacs ? new SessionKeys(this.identity, this.options.sessionKeyCacheSize) : undefined;
    const sessionKeyFor = (publicKey: Uint8Array): Buffer | undefined => this.sessionKeys?.keyFor(publicKey);
    this.codecOptions = { maxMessageBytes: this.options.maxMessageBytes, itemLimits: this.options.itemLimits, sessionKeyFor, difficulty };
    this.rpc = new RpcClient(
      this.identity,
      this.transport,
      this.clock,
      this.random,
      this.options,
      (m, bytes) => this.stats.countOut(m.type, bytes),
      sessionKeyFor,
      (request, outcome, ms) => this.measured({ type: 'rpc', request, outcome, ms }),
    );
    this.context = {
      options: this.options,
      table: this.table,
      store: this.store,
      now: () => this.clock.now(),
      isCachedCopy: (key) => !this.isAmongClosest(key),
      blacklist: (publicKey, reason) => this.blacklist(publicKey, reason),
      emit: (event) => this.emit(event),
    };
  }

  get publicKey(): Buffer {
    return this.identity.publicKey;
  }

  get nodeId(): Buffer {
    return this.identity.nodeId;
  }

  get address(): Address {
    return this.transport.localAddress;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get pendingRequests(): number {
    return this.rpc.pendingCount;
  }

  /** What peers can make this node hold, each bounded by an option (docs/protocol.md, "Limits"). */
  resourceUsage(): { pendingRequests: number; challenges: number; rateLimitedSources: number; provenAddresses: number; answeredAddresses: number; recentRequests: number; sessionKeys: number } {
    return {
      pendingRequests: this.rpc.pendingCount,
      challenges: this.challenges.size,
      rateLimitedSources: this.rateLimiter.trackedSources,
      ...this.proofs.sizes,
      sessionKeys: this.sessionKeys?.size ?? 0,
    };
  }

  /** Starts answering messages and the periodic refresh/republish work. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.transport.onReceive((bytes, from) => this.receive(bytes, from));
    this.scheduleMaintenance();
  }

  /** Stops timers, fails pending requests, saves the routing table. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.maintenanceTimer) this.clock.clearTimeout(this.maintenanceTimer);
    if (this.followUpTimer) this.clock.clearTimeout(this.followUpTimer);
    if (this.handoffTimer) this.clock.clearTimeout(this.handoffTimer);
    this.rpc.close();
    await this.maintenance?.catch(() => undefined);
    this.store.saveTable(this.table.toSnapshot());
    this.transport.close();
    await this.transport.closed;
  }

  onEvent(listener: NodeEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Times every request and lookup of this node, whoever started it (the metrics' histograms). */
  onMeasurement(listener: MeasurementListener): () => void {
    this.measurementListeners.add(listener);
    return () => this.measurementListeners.delete(listener);
  }

  // ---- incoming ----

  /** Everything that arrives goes through here; nothing a peer sends can throw out of it. */
  receive(bytes: Uint8Array, from: Address): void {
    if (!this.running) return;
    try {
      // A source over its rate costs one map lookup, before any decoding. Replies to
      // our own requests are never limited: from a host we await one from, a message
      // is decoded first, and only what is not a reply takes a token.
      const source = this.table.groupOf(from).host;
      const awaited = this.rpc.awaitsReplyFrom(from.host);
      if (!awaited && !this.rateLimiter.take(source, this.clock.now())) return this.drop('rate-limited');
      const decoded = decodeMessage(bytes, this.codecOptions);
      const unsolicited = !decoded.ok || isRequest(decoded.value.message);
      if (awaited && unsolicited && !this.rateLimiter.take(source, this.clock.now())) return this.drop('rate-limited');
      if (!decoded.ok) {
        this.stats.countDrop(`codec-${decoded.error.code}`);
        this.refuseUndecodable(decoded.error, bytes.length, from);
        return;
      }
      const { message } = decoded.value;
      this.stats.countIn(message.type, bytes.length);
      if (isRequest(message)) this.handleRequest(decoded.value, from, bytes.length);
      else if (!this.rpc.handleReply(decoded.value, from)) this.stats.countDrop('unmatched-reply');
    } catch (error) {
      this.stats.countDrop('internal-error');
      this.emit({ type: 'message-dropped', reason: `internal error: ${(error as Error).message}` });
    }
  }

  private handleRequest(decoded: DecodedMessage, from: Address, receivedBytes: number): void {
    const request = decoded.message as Request;
    const senderId = decoded.senderId;
    const addressedToUs = bytesEqual(request.recipientId, this.nodeId) || (request.type === 'ping' && request.recipientId.length === 0);
    if (!addressedToUs) return this.drop('misdirected');
    if (bytesEqual(senderId, this.nodeId)) return this.drop('from-self');
    if (this.table.isBlacklisted(senderId)) return this.drop('blacklisted-sender');
    // A request already answered, from the same sender at the same address, is a replay: the only place its
    // sender's proven address would let a replay draw a full reply, so there it is dropped.
    if (!this.proofs.firstSight(senderId, from, request.requestId)) return this.drop('replayed-request');
    const contactAddress = { host: from.host, port: request.replyPort };
    let body: ReplyBody;
    switch (request.type) {
      case 'ping':
        body = handlePing(this.context);
        break;
      case 'find-node':
        body = handleFindNode(this.context, request, senderId);
        break;
      case 'find-value':
        body = handleFindValue(this.context, request, senderId);
        break;
      case 'store':
        body = handleStore(this.context, request.item, request.senderPublicKey);
        break;
    }
    // No reflection: to an address that has not proven it receives what we send, we send no
    // more bytes than it sent us. Room for our challenge is kept first; when the reply fits
    // only without it, the reply goes and the challenge waits for the sender's next request.
    const proven = this.isProven(senderId, from);
    const challenge = !this.table.isBlacklisted(senderId) && this.challengeDue(senderId, contactAddress);
    const budget = proven ? Infinity : receivedBytes;
    const challengeBytes = challenge ? this.challengeSize() : 0;
    const sent = this.reply(request, senderId, body, from, budget - challengeBytes) ?? (challenge ? this.reply(request, senderId, body, from, budget) : undefined) ?? 0;
    const challenged = challenge && sent + challengeBytes <= budget;
    if (!proven) {
      this.stats.unprovenBytesIn += receivedBytes;
      this.stats.unprovenBytesOut += sent + (challenged ? challengeBytes : 0);
    }
    if (sent > 0) this.proofs.answeredRequestOf(senderId, from);
    if (challenged) this.challenge(request.senderPublicKey, senderId, contactAddress);
    else if (challenge) this.drop('challenge-over-budget');
  }

  /** True when `from` has proven it receives what we send: the table holds the sender there, or it answered us lately. */
  private isProven(senderId: Uint8Array, from: Address): boolean {
    const known = this.table.get(senderId);
    return (known !== undefined && sameAddress(known, from)) || this.proofs.isProven(senderId, from);
  }

  /** Whether a challenge of this sender at this address is due now (see Challenges); challenge() sends it. */
  private challengeDue(id: Buffer, address: Address): boolean {
    const decision = this.challenges.decide(id, address, this.clock.now());
    if (decision === 'table-full') this.drop('challenge-table-full');
    return decision === 'due';
  }

  private challenge(publicKey: Uint8Array, id: Buffer, address: Address): void {
    this.challenges.record(id, address, this.clock.now());
    this.request({ publicKey, id, host: address.host, port: address.port }, { type: 'ping' }).catch(() => this.stats.countDrop('challenge-failed'));
  }

  /** The size of our challenge Ping (it depends only on our port and how we seal). */
  private challengeSize(): number {
    if (this.challengeBytes === undefined) {
      const ping = {
        type: 'ping',
        requestId: Buffer.alloc(16),
        senderPublicKey: this.publicKey,
        replyPort: this.address.port,
        version: PROTOCOL_VERSION,
        recipientId: Buffer.alloc(64),
        ...(this.options.difficulty ? { difficulty: this.options.difficulty } : {}),
      } as Message;
      this.challengeBytes = encodeMessage(ping, this.identity, this.sessionKeys ? Buffer.alloc(32) : undefined).length;
    }
    return this.challengeBytes;
  }

  private refuseUndecodable(error: { code: ErrorCode; message: string; requestId?: Uint8Array; senderPublicKey?: Uint8Array }, receivedBytes: number, from: Address): void {
    // The envelope of bytes that failed to decode is unauthenticated: answer
    // only when the answer is no bigger than what came in, so a forged source
    // address cannot turn this node into an amplifier.
    if (error.code === ErrorCode.UnverifiableProvenance || !error.requestId || !error.senderPublicKey) return;
    const message = {
      ...errorReply(error.code, error.message),
      requestId: error.requestId,
      senderPublicKey: this.publicKey,
      replyPort: this.address.port,
      version: PROTOCOL_VERSION,
      recipientId: nodeIdOf(error.senderPublicKey),
      ...(this.options.difficulty ? { difficulty: this.options.difficulty } : {}),
    } as Message;
    const bytes = encodeMessage(message, this.identity);
    if (bytes.length > receivedBytes) return this.drop('error-reply-suppressed');
    this.stats.countError(error.code);
    // Nothing in undecodable bytes is authenticated: the address counts as unproven.
    this.stats.unprovenBytesIn += receivedBytes;
    this.stats.unprovenBytesOut += bytes.length;
    this.sendBytes(from, message, bytes);
  }

  /** Sends the reply, shrunk to `budgetBytes` if need be; returns the bytes sent, or undefined when nothing fits. */
  private reply(request: Request, senderId: Buffer, body: ReplyBody, to: Address, budgetBytes: number): number | undefined {
    const envelope = {
      requestId: request.requestId,
      senderPublicKey: this.publicKey,
      replyPort: this.address.port,
      version: PROTOCOL_VERSION,
      recipientId: senderId,
      difficulty: this.options.difficulty,
    };
    const sessionKey = this.sessionKeys?.keyFor(request.senderPublicKey);
    const fitted = fitReply(body, (b) => encodeMessage(withEnvelope(b, envelope), this.identity, sessionKey), budgetBytes);
    if (!fitted) {
      this.drop('reply-over-budget');
      return undefined;
    }
    if (fitted.shrunk) this.stats.repliesShrunk[body.type] = (this.stats.repliesShrunk[body.type] ?? 0) + 1;
    this.sendBytes(to, fitted.body, fitted.bytes);
    return fitted.bytes.length;
  }

  private sendBytes(to: Address, message: Pick<Message, 'type'>, bytes: Uint8Array): void {
    this.stats.countOut(message.type, bytes.length);
    try {
      this.transport.send(to, bytes);
    } catch {
      this.drop('send-failed');
    }
  }

  private drop(reason: string): void {
    this.stats.countDrop(reason);
  }

  // ---- outgoing ----

  /**
   * Sends a request to a known peer. A sealed reply adds or refreshes the peer
   * at the address we asked; a timeout counts a failure against the contact,
   * but only if the table holds it at that same address.
   */
  async request(peer: ContactInfo & { id: Uint8Array }, body: MessageBody<Request>, signal?: AbortSignal): Promise<RpcReply> {
    try {
      // Only an address that has answered us is sent a second copy: one that never did may be a victim
      // whose address someone handed us, and must not draw twice the bytes (our challenges go there too).
      // It is given up sooner instead, two retransmission times, so that a lost datagram does not
      // hold a lookup for the whole request timeout.
      const padToBytes = this.padFor(peer, body);
      const retransmitting = this.options.retransmitMinMs > 0;
      const reply =
        retransmitting && this.isProven(peer.id, peer)
          ? await this.requestWithRetransmit(peer, body, signal, padToBytes)
          : await this.rpc.request(peer, body, { publicKey: peer.publicKey, id: peer.id }, {
              signal,
              padToBytes,
              timeoutMs: retransmitting ? Math.min(this.options.rpcTimeoutMs, 2 * this.retransmitTimer.after(undefined)) : undefined,
            });
      this.retransmitTimer.observe(reply.rttMs);
      this.verified(reply);
      return reply;
    } catch (error) {
      if (error instanceof RpcFailure && error.reason === 'timeout') this.failed(peer.id, peer);
      throw error;
    }
  }

  /**
   * A request that is sent once more, under a fresh request id (a receiver
   * drops a replayed one), when no answer came within the peer's
   * retransmission time; the first answer to either copy is the answer, and
   * both run out together at rpcTimeoutMs. A lost datagram on a wide-area
   * network then costs a few round trips, not the whole timeout.
   */
  private requestWithRetransmit(peer: ContactInfo & { id: Uint8Array }, body: MessageBody<Request>, signal: AbortSignal | undefined, padToBytes: number): Promise<RpcReply> {
    const expected = { publicKey: peer.publicKey, id: peer.id };
    const afterMs = this.retransmitTimer.after(this.table.get(peer.id)?.rttMs);
    return new Promise<RpcReply>((resolve, reject) => {
      let settled = false;
      let outstanding = 1;
      let firstFailure: unknown;
      const answered = (reply: RpcReply): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) this.clock.clearTimeout(timer);
        resolve(reply);
      };
      const failed = (error: unknown): void => {
        if (settled) return;
        outstanding--;
        firstFailure ??= error;
        // Only a timeout waits for the other copy; an abort or a closed node ends the request at once.
        const timedOut = error instanceof RpcFailure && error.reason === 'timeout';
        if (timedOut && (outstanding > 0 || timer !== undefined)) return;
        settled = true;
        if (timer !== undefined) this.clock.clearTimeout(timer);
        reject(firstFailure);
      };
      let timer: TimerHandle | undefined = this.clock.setTimeout(() => {
        timer = undefined;
        if (settled) return;
        outstanding++;
        this.stats.retransmits++;
        this.rpc.request(peer, body, expected, { signal, timeoutMs: this.options.rpcTimeoutMs - afterMs, padToBytes }).then(answered, failed);
      }, afterMs);
      this.rpc.request(peer, body, expected, { signal, padToBytes }).then(answered, failed);
    });
  }

  /** Pings an address, with or without knowing its key; resolves with the verified responder. */
  async ping(address: Address, publicKey?: Uint8Array): Promise<RpcReply> {
    const expected = publicKey ? { publicKey, id: nodeIdOf(publicKey) } : undefined;
    const reply = await this.rpc.request(address, { type: 'ping' }, expected, { padToBytes: this.padFor({ ...address, id: expected?.id }, { type: 'ping' }) });
    this.verified(reply);
    return reply;
  }

  /**
   * How far to pad a request (docs/protocol.md, "Reflection"): a peer that
   * has not proven our address answers with no more bytes than we sent, so
   * a request that may draw a large reply is padded, unless we answered a
   * request of that peer lately (its round trip proved our address to it).
   */
  private padFor(peer: Address & { id?: Uint8Array }, body: MessageBody<Request>): number {
    if (body.type === 'store' || (peer.id && this.proofs.hasProvenUs(peer.id, peer))) return 0;
    return body.type === 'ping' ? this.options.padPingsToBytes : this.options.padRequestsToBytes;
  }

  private verified(reply: RpcReply): void {
    this.proofs.proved(reply.responderId, reply.responder);
    if (this.table.isBlacklisted(reply.responderId)) return;
    const before = this.table.get(reply.responderId);
    const outcome = this.table.add({ ...reply.responder, id: reply.responderId }, this.clock.now(), reply.rttMs);
    const { host, port } = reply.responder;
    if (outcome === 'added') {
      this.emit({ type: 'contact-added', idHex: toHex(reply.responderId), host, port });
      if (this.options.storeOnJoin) this.noteNewContact(reply.responderId);
    } else if (outcome === 'updated' && before && !sameAddress(before, reply.responder)) this.emit({ type: 'contact-moved', idHex: toHex(reply.responderId), host, port });
  }

  private failed(id: Uint8Array, address: Address): void {
    const known = this.table.get(id);
    if (!known || !sameAddress(known, address)) return;
    if (this.table.recordFailure(id) === 'evicted') this.emit({ type: 'contact-evicted', idHex: toHex(id) });
  }

  blacklist(publicKey: Uint8Array, reason: string): void {
    const id = nodeIdOf(publicKey);
    if (this.table.isBlacklisted(id)) return;
    this.table.blacklist(id);
    this.emit({ type: 'blacklisted', idHex: toHex(id), reason });
  }

  /**
   * An iterative lookup from our routing table (Kademlia section 2.3); over
   * disjoint paths when disjointPaths > 1, collecting getQuorum copies of a
   * value when that is above 1 (S/Kademlia section 4.4).
   */
  lookup(target: Uint8Array, kind: LookupKind, options: OperationOptions & Pick<LookupParams, 'onClosest'> = {}): Promise<LookupResult> {
    const targetId = Buffer.from(target);
    this.stats.lookups++;
    this.table.touchBucketFor(targetId, this.clock.now());
    const { difficulty } = this.options;
    const disjointPaths = options.paths ?? this.options.disjointPaths;
    const getQuorum = options.quorum ?? this.options.getQuorum;
    if (!Number.isInteger(disjointPaths) || disjointPaths < 1 || !Number.isInteger(getQuorum) || getQuorum < 1) {
      return Promise.reject(new RangeError(`paths and quorum must be integers of at least 1, got ${disjointPaths} and ${getQuorum}`));
    }
    const deps: LookupDeps = {
      ownId: this.nodeId,
      clock: this.clock,
      isBlacklisted: (id) => this.table.isBlacklisted(id),
      isAdmissible: difficulty > 0 ? (id) => meetsDifficulty(id, difficulty) : undefined,
      onForgedValue: (peer, code) => this.blacklist(peer.publicKey, `served a forged value (code ${code})`),
      query: (peer, queryKind, key, signal) => this.query(peer, queryKind, key, signal),
    };
    const density = this.densityCheck();
    const seeds = this.lookupSeeds(targetId, density);
    const params = {
      target: targetId,
      kind,
      seeds,
      k: this.options.k,
      alpha: this.options.alpha,
      timeoutMs: this.options.lookupTimeoutMs,
      signal: options.signal,
      onEvent: options.onEvent,
      groupOf: (address: Address) => this.table.groupOf(address).network,
      maxPerGroup: this.options.maxLookupContactsPerNetwork,
      density,
      // Only a FindValue hedges: a FindNode would not read it, nor should it pay for the estimate.
      hedgeMs: kind === 'value' && this.options.valueHedgeMs > 0 && this.likelyHolder(targetId, seeds[0]?.id, density) ? (peer: Candidate) => this.hedgeFor(peer) : undefined,
    };
    // Over disjoint paths each path would report its own closest: only a single path tells.
    const onClosest = disjointPaths === 1 ? options.onClosest : undefined;
    const startedMs = this.clock.now();
    const running = disjointPaths > 1 || (kind === 'value' && getQuorum > 1) ? disjointLookup(deps, { ...params, paths: disjointPaths, quorum: getQuorum }) : lookup(deps, { ...params, onClosest });
    if (this.measurementListeners.size > 0) {
      running.then(
        (result) => this.measured({ type: 'lookup', kind, outcome: 'done', rounds: result.rounds, ms: this.clock.now() - startedMs }),
        () => this.measured({ type: 'lookup', kind, outcome: 'failed', rounds: undefined, ms: this.clock.now() - startedMs }),
      );
    }
    return running;
  }

  /**
   * Whether the closest contact we know to a key is likely one of its K
   * closest nodes, which hold its value: within twice the distance at which
   * the K-th closest lies in a network of the size we estimate. Only then
   * does a FindValue ask it alone first (valueHedgeMs); far from the key the
   * first peer cannot hold the value, and waiting on it alone costs a round
   * trip for nothing. A table too small to estimate from says yes.
   */
  private likelyHolder(key: Buffer, closestId: Uint8Array | undefined, density: DensityCheck | undefined): boolean {
    if (closestId === undefined) return false;
    const networkSize = density?.networkSize ?? estimateNetworkSize(this.nodeId, this.table.closest(this.nodeId, this.options.k).map((c) => c.id), this.options.k);
    return networkSize === undefined || distanceFraction(closestId, key) <= (2 * this.options.k) / networkSize;
  }

  /** How long a FindValue waits for its first peer alone (see valueHedgeMs): RTT-adaptive, capped. */
  private hedgeFor(peer: Candidate): number {
    const rttMs = this.table.get(peer.id)?.rttMs;
    const cap = this.options.valueHedgeMs;
    return rttMs === undefined ? cap : Math.min(cap, Math.max(MIN_HEDGE_MS, 2 * rttMs));
  }

  /**
   * The density check for our lookups (src/dht/density.ts): the network size
   * estimated from the K contacts closest to our own id; none when it is off
   * or our table holds fewer than K contacts (a network too small to tell).
   */
  densityCheck(): DensityCheck | undefined {
    const { densityCheckFactor: factor, densityCheckMinCluster: minCluster, densityCheckMaxCluster: maxCluster, k } = this.options;
    if (!(factor > 0)) return undefined;
    // Computed afresh each time (one sort of the table): a kept estimate would go stale as the table grows.
    const networkSize = estimateNetworkSize(this.nodeId, this.table.closest(this.nodeId, k).map((c) => c.id), k);
    return networkSize === undefined ? undefined : { networkSize, factor, minCluster, maxCluster };
  }

  /** A lookup starts from the K closest contacts we know, and from an anomalous cluster in front of them as well. */
  private lookupSeeds(target: Buffer, density: DensityCheck | undefined): ReturnType<RoutingTable['closest']> {
    const { k } = this.options;
    if (!density) return this.table.closest(target, k);
    const known = this.table.closest(target, k + density.maxCluster);
    return known.slice(0, clusterSize(known.map((c) => distanceFraction(c.id, target)), density) + k);
  }

  /**
   * One FindNode or FindValue of a lookup. A peer that has not proven our
   * address answers a Value too big for our request with Error 4 and
   * challenges us; once we have answered its challenge we ask once more.
   */
  private async query(peer: Candidate, kind: LookupKind, key: Buffer, signal: AbortSignal): Promise<Reply> {
    const body: MessageBody<Request> = kind === 'value' ? { type: 'find-value', key } : { type: 'find-node', key };
    const reply = (await this.request(peer, body, signal)).message;
    if (reply.type !== 'error' || reply.code !== ErrorCode.RequestTooBig || reply.details[UNPROVEN_DETAIL] === undefined) return reply;
    this.proofs.forgetProvenUs(peer.id, peer);
    await this.proofs.nextAnswerTo(peer, signal);
    return (await this.request(peer, body, signal)).message;
  }

  /**
   * Joins the network through seed addresses or a saved routing table, then
   * looks up our own id to meet our neighbours, then publishes our profile.
   */
  async join(seeds: readonly Seed[] | TableSnapshot, options: OperationOptions = {}): Promise<{ contacts: number; seedsAnswered: number; restored: number }> {
    let seedsAnswered = 0;
    let restored = 0;
    if (Array.isArray(seeds)) {
      const answers = await Promise.allSettled(seeds.map((s) => this.ping(s, s.publicKey)));
      seedsAnswered = answers.filter((a) => a.status === 'fulfilled').length;
    } else {
      // Restored contacts are not pinged first: the lookup below asks them, and failures evict them.
      restored = this.table.restore(seeds as TableSnapshot, this.clock.now()).restored;
    }
    if (this.table.size === 0) throw new Error(`join: none of the ${Array.isArray(seeds) ? seeds.length : 'saved'} seed contacts answered`);
    const found = await this.lookup(this.nodeId, 'node', options);
    // Restored contacts were not pinged: if none of them answered the lookup either, we have not joined anything.
    if (!Array.isArray(seeds) && found.closest.length === 0) throw new Error(`join: none of the ${restored} saved contacts answered`);
    this.scheduleFollowUpLookup(1, seconds(1));
    if (this.profile) await this.set(toHex(this.publicKey), JSON.stringify(this.profile), options);
    return { contacts: this.table.size, seedsAnswered, restored };
  }

  /** Stores a signed item on the `duplicate` closest nodes (ourselves included when we are among them). */
  async replicate(item: Item, duplicate = this.options.duplicationCount, options: ReplicateOptions = {}): Promise<ReplicateReport> {
    if (!Number.isInteger(duplicate) || duplicate < 1) throw new RangeError(`duplicate must be an integer of at least 1, got ${duplicate}`);
    const problem = checkItem(item, this.clock.now());
    if (problem) throw new ItemRefusedError(problem.code, problem.message);
    const count = Math.min(duplicate, this.options.k);
    /**
     * Stores sent while the lookup still runs, by peer. Once the closest
     * candidate has answered, the lookup is in the key's neighbourhood: each
     * of the `count` closest candidates is sent the item at once, those not
     * yet asked instead of a FindNode (the Store's sealed answer proves them
     * alive; those already asked have told what they know). The lookup ends
     * when all of them answered the one or the other, so the slowest replica
     * costs one round trip instead of a FindNode and then a Store. A peer the
     * lookup then pushes out of the closest keeps an extra copy, as a
     * Kademlia cache would.
     */
    const sent = new Map<string, Promise<ReplicaOutcome>>();
    const sendStore = (peer: Candidate): Promise<ReplicaOutcome> => {
      let outcome = sent.get(peer.idHex);
      if (!outcome) sent.set(peer.idHex, (outcome = this.storeRemotely(peer, item, options.signal)));
      return outcome;
    };
    const onClosest = this.options.earlyStores
      ? (closest: readonly Candidate[], cluster: number, control: LookupControl): void => {
          if (closest.length === 0 || !closest.slice(0, this.options.earlyStoresAfter).every((c) => c.state === 'answered')) return;
          // As the final choice will: when we are closer than the last of them, we are a replica and it is not.
          let end = Math.min(closest.length, cluster + count);
          if (end === cluster + count && compareDistance(this.nodeId, closest[end - 1].id, item.key) < 0) end--;
          for (let i = 0; i < end; i++) {
            const peer = closest[i];
            if (sent.has(peer.idHex)) continue;
            if (peer.state === 'new') {
              if (!control.claim(peer)) continue;
              void sendStore(peer).then((outcome) => control.settle(peer, outcome.status !== 'failed'));
            } else if (peer.state === 'answered') void sendStore(peer);
            // One still being asked waits for its answer, which proves its address (a Store to it then may be sent twice).
          }
        }
      : undefined;
    const found = await this.lookup(item.key, 'node', { ...options, onClosest });
    // An anomalous cluster next to the key (density.ts) is stored on as well, but does not count towards the `count` closest.
    const total = found.cluster + count;
    const closest = found.closest.slice(0, total);
    const selfIsReplica = closest.length < total || compareDistance(this.nodeId, closest[total - 1].id, item.key) < 0;
    const remote = selfIsReplica ? closest.slice(0, total - 1) : closest;
    const replicas: ReplicaOutcome[] = [];
    const record = (outcome: ReplicaOutcome): void => {
      replicas.push(outcome);
      options.onReplica?.(outcome);
    };
    options.onLookupDone?.(remote.length + (selfIsReplica ? 1 : 0));
    if (selfIsReplica) record(this.storeLocally(item, SELF));
    const chosen = new Set(remote.map((peer) => peer.idHex));
    this.stats.extraStores += [...sent.keys()].filter((idHex) => !chosen.has(idHex)).length;
    await Promise.all(remote.map(async (peer) => record(await sendStore(peer))));
    return {
      key: toHex(item.key),
      attempted: replicas.length,
      stored: replicas.filter((r) => r.status === 'stored').length,
      replicas,
      lookup: { rounds: found.rounds, requests: found.requests },
    };
  }

  /** Sends a Store and says how it went; never throws. */
  private async storeRemotely(peer: Candidate, item: Item, signal: AbortSignal | undefined): Promise<ReplicaOutcome> {
    try {
      const reply = (await this.request(peer, { type: 'store', item }, signal)).message;
      if (reply.type !== 'error') return { peer: peer.idHex, status: 'stored' };
      const held = Number(reply.details.timestamp);
      const heldTimestamp = reply.code === ErrorCode.SupersededValue && Number.isSafeInteger(held) ? { heldTimestamp: held } : {};
      return { peer: peer.idHex, status: 'refused', code: reply.code, message: reply.details.message ?? reply.title, ...heldTimestamp };
    } catch (error) {
      return { peer: peer.idHex, status: 'failed', reason: (error as Error).message };
    }
  }

  private storeLocally(item: Item, peer: string): ReplicaOutcome {
    const outcome: StoreOutcome = acceptItem(this.context, item);
    if (outcome.stored) {
      this.emit({ type: 'item-stored', item, refreshed: outcome.refreshed });
      return { peer, status: 'stored' };
    }
    return { peer, status: 'refused', code: outcome.code, message: outcome.message, ...(outcome.heldTimestamp !== undefined ? { heldTimestamp: outcome.heldTimestamp } : {}) };
  }

  /**
   * Finds the item under `key`: our own copy if we hold a live one, otherwise
   * a FindValue lookup, after which the value is cached at the closest node
   * asked that did not have it (Kademlia section 2.3).
   */
  async retrieve(key: Uint8Array, options: RetrieveOptions = {}): Promise<RetrieveReport> {
    const now = this.clock.now();
    if (!options.fresh) {
      const held = this.store.get(key);
      if (held && !checkItem(held.item, now)) {
        this.store.touch(key, now);
        return { item: held.item, source: 'local', rounds: 0, requests: 0 };
      }
    }
    const found = await this.lookup(key, 'value', options);
    if (!found.item) return { item: undefined, source: 'none', rounds: found.rounds, requests: found.requests, copies: 0, repaired: 0 };
    const newest = found.item;
    if (found.cacheCandidate) {
      this.request(found.cacheCandidate, { type: 'store', item: newest }).catch(() => this.stats.countDrop('cache-store-failed'));
    }
    // Read repair: holders of an older version are sent the newest.
    const stale = found.copies.filter((c) => compareItemVersions(c.item, newest) < 0);
    for (const holder of stale) this.request(holder.source, { type: 'store', item: newest }).catch(() => this.stats.countDrop('repair-store-failed'));
    return { item: newest, source: 'network', rounds: found.rounds, requests: found.requests, copies: found.copies.length, repaired: stale.length };
  }

  /** Signs `value` under `name` with our key and replicates it. */
  async set(name: string, value: ItemValue, options: SetOptions = {}): Promise<ReplicateReport & { item: Item }> {
    const key = itemKey(this.publicKey, name);
    const keyHex = toHex(key);
    const held = this.store.get(key)?.item.timestamp ?? -1;
    // Two sets within one millisecond must still be ordered, or the second would be refused as superseded.
    const timestamp = Math.max(this.clock.now(), (this.lastTimestamps.get(keyHex) ?? -1) + 1, held + 1);
    this.lastTimestamps.set(keyHex, timestamp);
    const lifetimeS = options.expires ?? 0;
    const item = createItem(this.identity, {
      name,
      value,
      timestamp,
      expires: lifetimeS > 0 ? timestamp + Math.round(lifetimeS * 1000) : 0,
      meta: options.meta,
    }, this.options.itemLimits);
    const report = await this.replicate(item, options.duplicate ?? this.options.duplicationCount, options);
    return { ...report, item };
  }

  async get(publicKey: Uint8Array, name: string, options: RetrieveOptions = {}): Promise<Item | undefined> {
    return (await this.retrieve(itemKey(publicKey, name), options)).item;
  }

  async getByKey(key: Uint8Array, options: RetrieveOptions = {}): Promise<Item | undefined> {
    return (await this.retrieve(key, options)).item;
  }

  /** The whoami profile a node published under its own public key, if any. */
  async whois(publicKey: Uint8Array, options: RetrieveOptions = {}): Promise<Record<string, string> | undefined> {
    const item = await this.get(publicKey, toHex(publicKey), options);
    if (!item || typeof item.value !== 'string') return undefined;
    const parsed: unknown = JSON.parse(item.value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  }

  /** Refreshes stale buckets, deletes expired items, republishes, drops stale cached copies. */
  runMaintenance(): Promise<MaintenanceReport> {
    if (this.maintenance) return this.maintenance;
    this.maintenance = runMaintenance(this).finally(() => {
      this.maintenance = undefined;
    });
    return this.maintenance;
  }

  /** True when we are among the K closest nodes we know to `key`: our copy is a replica, not a cache. */
  isAmongClosest(key: Uint8Array): boolean {
    // Among the K closest beyond an anomalous cluster next to the key, as replicate counts them.
    const closest = this.lookupSeeds(Buffer.from(key), this.densityCheck());
    return closest.length < this.options.k || compareDistance(this.nodeId, closest[closest.length - 1].id, key) < 0;
  }

  private measured(measurement: Measurement): void {
    for (const listener of this.measurementListeners) {
      try {
        listener(measurement);
      } catch {
        this.stats.countDrop('listener-error');
      }
    }
  }

  emit(event: NodeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.stats.countDrop('listener-error');
      }
    }
  }

  /** Gathers a new contact for the next store-on-join pass (handoff.ts), a second from now. */
  private noteNewContact(id: Buffer): void {
    const contact = this.table.get(id);
    if (!contact || !this.running || !this.handoff.noteNewContact(contact)) return;
    this.handoffTimer = this.clock.setTimeout(() => {
      this.handoffTimer = undefined;
      if (!this.running) return;
      this.handoff.pass().then(
        (stores) => (this.stats.handoffStores += stores),
        () => this.stats.countDrop('handoff-error'),
      );
    }, HANDOFF_DELAY_MS);
  }

  /** Repeats the join's self-lookup while the table is short of K contacts (see NodeOptions.joinFollowUpLookups). */
  private scheduleFollowUpLookup(attempt: number, delayMs: number): void {
    if (attempt > this.options.joinFollowUpLookups || !this.running) return;
    if (this.followUpTimer) this.clock.clearTimeout(this.followUpTimer);
    this.followUpTimer = this.clock.setTimeout(() => {
      this.followUpTimer = undefined;
      if (!this.running || this.table.size >= this.options.k) return;
      this.lookup(this.nodeId, 'node')
        .catch(() => undefined)
        .finally(() => this.scheduleFollowUpLookup(attempt + 1, delayMs * 2));
    }, delayMs);
  }

  private scheduleMaintenance(): void {
    this.maintenanceTimer = this.clock.setTimeout(() => {
      if (!this.running) return;
      this.runMaintenance()
        .catch(() => this.stats.countDrop('maintenance-error'))
        .finally(() => {
          if (this.running) this.scheduleMaintenance();
        });
    }, this.options.refreshIntervalMs);
  }
}


export class ItemRefusedError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'ItemRefusedError';
  }
}
