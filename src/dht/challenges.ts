/**
 * When to challenge a sender (docs/protocol.md, "Routing rules"): a request
 * from an unknown sender, or from a known one at a new address, is answered
 * and followed by a Ping to that address; only its Pong may add or move the
 * contact. One challenge per id and address per interval, so that two nodes
 * that do not keep each other do not challenge each other's challenges
 * forever, and at most maxPendingChallenges remembered. Pure bookkeeping on
 * the injected clock: the node sends the Ping.
 */
import { asBuffer } from '../crypto/bytes.js';
import type { Address } from '../routing/contact.js';
import type { RoutingTable } from '../routing/routing-table.js';
import type { NodeOptions } from './defaults.js';

const challengeKey = (id: Uint8Array, address: Address): string => `${asBuffer(id).toString('latin1')}@${address.host}:${address.port}`;

export type ChallengeDecision = 'known' | 'not-due' | 'table-full' | 'due';

export class Challenges {
  private readonly sentAt = new Map<string, number>();

  constructor(
    private readonly table: RoutingTable,
    private readonly options: Pick<NodeOptions, 'challengeIntervalMs' | 'maxPendingChallenges'>,
  ) {}

  get size(): number {
    return this.sentAt.size;
  }

  /**
   * Refreshes a sender the table holds at that address ('known'), or says
   * whether a challenge is due. A sender the diversity caps keep out is still
   * challenged: the round trip proves its address, which earns it full replies.
   */
  decide(id: Buffer, address: Address, nowMs: number): ChallengeDecision {
    if (this.table.touch(id, address, nowMs)) return 'known';
    const placement = this.table.placement(id);
    if (placement === 'self' || placement === 'blacklisted' || placement === 'inadmissible') return 'not-due';
    const last = this.sentAt.get(challengeKey(id, address));
    if (last !== undefined && nowMs - last < this.options.challengeIntervalMs) return 'not-due';
    if (last === undefined && this.sentAt.size >= this.options.maxPendingChallenges) this.prune(nowMs);
    if (last === undefined && this.sentAt.size >= this.options.maxPendingChallenges) return 'table-full';
    return 'due';
  }

  record(id: Uint8Array, address: Address, nowMs: number): void {
    this.sentAt.set(challengeKey(id, address), nowMs);
  }

  private prune(nowMs: number): void {
    for (const [key, at] of this.sentAt) if (nowMs - at >= this.options.challengeIntervalMs) this.sentAt.delete(key);
  }
}
