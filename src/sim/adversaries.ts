/**
 * Malicious behaviours for real nodes of the simulator, without a line of
 * test code in the node: an Adversary takes over a node's transport handler
 * (the transport has one receiver; this one passes through what it does not
 * want) and answers with the node's own keys. Behaviours: drop everything;
 * answer lookups with colluders only; serve forged copies; keep serving the
 * first version of an item; flood Stores under fresh keys. An OnPathReplayer
 * taps links and replays what it sees. Used by attack-simulation.ts.
 */
import { nodeIdOf } from '../crypto/identity.js';
import { Identity } from '../crypto/identity.js';
import type { DrogulusNode } from '../dht/node.js';
import { encodeMessage, inspectMessage } from '../protocol/codec.js';
import { createItem, type Item } from '../protocol/item.js';
import type { Message, MessageBody, Reply, Request, WireContact } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import type { Address } from '../routing/contact.js';
import type { Random } from '../runtime/random.js';
import type { MemoryNetwork, MemoryTransport } from '../transport/memory-network.js';
import { ClosestIndex } from './closest-index.js';

export type Behaviour =
  | { readonly kind: 'honest' }
  /** Answers nothing at all, not even Pings: a black hole that honest tables evict in time. */
  | { readonly kind: 'drop' }
  /** Answers FindNode and FindValue with the colluders closest to the key, never a value; Pings and Stores as usual. */
  | { readonly kind: 'collude' }
  /** Serves a copy with a changed value (its signature no longer verifies) for any key it holds; otherwise as `otherwise`. */
  | { readonly kind: 'forge'; readonly otherwise: 'honest' | 'collude' }
  /** Keeps the first version it stored of each key and serves that, acknowledging newer ones without keeping them. */
  | { readonly kind: 'stale' };

/** The malicious nodes that name each other: a FindNode to any of them returns the colluders closest to the key. */
export class Colluders {
  private readonly members = new Map<string, WireContact & { id: Buffer }>();
  private index: ClosestIndex | undefined;

  add(node: DrogulusNode): void {
    const id = node.nodeId;
    this.members.set(id.toString('hex'), { publicKey: node.publicKey, host: node.address.host, port: node.address.port, id });
    this.index = undefined;
  }

  clear(): void {
    this.members.clear();
    this.index = undefined;
  }

  get size(): number {
    return this.members.size;
  }

  closest(key: Uint8Array, count: number, exclude?: Uint8Array): WireContact[] {
    this.index ??= new ClosestIndex([...this.members.values()].map((m) => m.id));
    return this.index.closest(key, count, exclude).map((id) => {
      const m = this.members.get(id.toString('hex'))!;
      return { publicKey: m.publicKey, host: m.host, port: m.port };
    });
  }
}

export interface AdversaryCounters {
  dropped: number;
  collusiveReplies: number;
  forgedValues: number;
  staleValues: number;
  updatesIgnored: number;
  storesFlooded: number;
}

/** Takes over `node`'s transport handler; honest until told otherwise. */
export class Adversary {
  behaviour: Behaviour = { kind: 'honest' };
  readonly counters: AdversaryCounters = { dropped: 0, collusiveReplies: 0, forgedValues: 0, staleValues: 0, updatesIgnored: 0, storesFlooded: 0 };

  constructor(
    readonly node: DrogulusNode,
    private readonly transport: MemoryTransport,
    private readonly colluders: Colluders,
  ) {
    // The node registered its own handler when it started; this one replaces it and forwards to the node.
    transport.onReceive((bytes, from) => this.receive(bytes, from));
  }

  private receive(bytes: Uint8Array, from: Address): void {
    const kind = this.behaviour.kind;
    if (kind === 'honest') return this.node.receive(bytes, from);
    if (kind === 'drop') {
      this.counters.dropped++;
      return;
    }
    const decoded = inspectMessage(bytes, { maxMessageBytes: this.node.options.maxMessageBytes, itemLimits: this.node.options.itemLimits });
    const message = decoded.ok ? decoded.value.message : undefined;
    if (!message || (message.type !== 'find-node' && message.type !== 'find-value' && message.type !== 'store')) return this.node.receive(bytes, from);
    const answer = this.answer(message as Request);
    if (answer === undefined) return this.node.receive(bytes, from);
    this.transport.send(from, this.seal(message as Request, answer));
  }

  /** The reply this behaviour gives instead of the node's own, or undefined to let the node answer. */
  private answer(request: Request): MessageBody<Reply> | undefined {
    const b = this.behaviour;
    const k = this.node.options.k;
    const collude = (key: Uint8Array): MessageBody<Reply> => {
      this.counters.collusiveReplies++;
      return { type: 'nodes', nodes: this.colluders.closest(key, k, nodeIdOf(request.senderPublicKey)) };
    };
    if (request.type === 'ping') return undefined;
    if (request.type === 'store') {
      if (b.kind !== 'stale' || !this.node.store.get(request.item.key)) return undefined;
      this.counters.updatesIgnored++;
      return { type: 'pong' };
    }
    if (b.kind === 'collude') return collude(request.key);
    if (b.kind === 'forge' && request.type === 'find-value') {
      const held = this.node.store.get(request.key);
      if (held) {
        this.counters.forgedValues++;
        return { type: 'value', item: forge(held.item) };
      }
      return b.otherwise === 'collude' ? collude(request.key) : undefined;
    }
    if (b.kind === 'forge' && b.otherwise === 'collude') return collude(request.key);
    if (b.kind === 'stale' && request.type === 'find-value' && this.node.store.get(request.key)) this.counters.staleValues++;
    return undefined;
  }

  private seal(request: Request, body: MessageBody<Reply>): Buffer {
    const message = {
      ...body,
      requestId: request.requestId,
      senderPublicKey: this.node.publicKey,
      replyPort: this.node.address.port,
      version: PROTOCOL_VERSION,
      recipientId: nodeIdOf(request.senderPublicKey),
      ...(this.node.options.difficulty ? { difficulty: this.node.options.difficulty } : {}),
    } as Message;
    return encodeMessage(message, this.node.identity, this.node.sessionKeys?.keyFor(request.senderPublicKey));
  }

  /**
   * Sends `count` Stores of junk items, each under a fresh key pair (keys
   * cost nothing without the puzzle), to peers drawn from `targets`;
   * resolves with how many were acknowledged.
   */
  async floodStores(targets: readonly DrogulusNode[], count: number, valueBytes: number, random: Random): Promise<{ stored: number; refused: number; failed: number }> {
    let stored = 0;
    let refused = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const target = targets[random.int(targets.length)];
        const junk = createItem(Identity.fromSeed(random.bytes(32)), { name: `junk-${i}`, value: Buffer.from(random.bytes(valueBytes)), timestamp: this.node.clock.now() });
        this.counters.storesFlooded++;
        try {
          const reply = await this.node.request({ publicKey: target.publicKey, id: target.nodeId, ...target.address }, { type: 'store', item: junk });
          if (reply.message.type === 'pong') stored++;
          else refused++;
        } catch {
          failed++;
        }
      }),
    );
    return { stored, refused, failed };
  }
}

/** A copy of `item` with its value changed: the signature no longer verifies (code 6 at whoever checks it). */
export const forge = (item: Item): Item => ({ ...item, value: typeof item.value === 'string' ? JSON.stringify('forged') : Buffer.from('forged') });

/**
 * An attacker on the path of some links: it sees every packet to or from the
 * hosts it taps and sends a copy again later, from the same (forged) source,
 * to the same destination or to another node.
 */
export class OnPathReplayer {
  readonly counters = { seen: 0, replayed: 0, redirected: 0 };
  private readonly stopTap: () => void;

  constructor(
    network: MemoryNetwork,
    tapped: ReadonlySet<string>,
    others: () => readonly Address[],
    random: Random,
    options: { readonly fraction: number; readonly delayMs: number; readonly schedule: (fn: () => void, ms: number) => void },
  ) {
    const replaying = new Set<Uint8Array>();
    this.stopTap = network.tap((packet) => {
      if (replaying.has(packet.bytes)) return;
      if (!tapped.has(packet.from.host) && !tapped.has(packet.to.host)) return;
      this.counters.seen++;
      if (random.float() >= options.fraction) return;
      const candidates = others();
      const redirect = random.float() < 0.5 && candidates.length > 0;
      const to = redirect ? candidates[random.int(candidates.length)] : packet.to;
      options.schedule(() => {
        replaying.add(packet.bytes);
        network.inject(packet.from, to, packet.bytes);
        replaying.delete(packet.bytes);
        if (redirect) this.counters.redirected++;
        else this.counters.replayed++;
      }, options.delayMs);
    });
  }

  stop(): void {
    this.stopTap();
  }
}
