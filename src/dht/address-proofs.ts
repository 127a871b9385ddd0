/**
 * What a node knows about proven addresses (docs/protocol.md, "Reflection"):
 * which peers (a key at an address) answered a fresh request id of ours, so
 * that full replies may go to them; which peers we answered, so that they
 * have proven our address and our requests to them need no padding; and
 * which requests we saw lately, so that a replay from the sender's own
 * address draws nothing. Bounded, on the injected clock; no I/O.
 */
import { asBuffer } from '../crypto/bytes.js';
import { type Address, formatAddress } from '../routing/contact.js';
import type { Clock } from '../runtime/clock.js';
import type { NodeOptions } from './defaults.js';
import { RecentKeys } from './recent-keys.js';

/** A key at an address: what a round trip proves. */
// latin1: one character per byte of the id, half as long as hex to build and to hash, and as exact.
const peerKey = (id: Uint8Array, address: Address): string => `${asBuffer(id).toString('latin1')}@${formatAddress(address)}`;

type Options = Pick<NodeOptions, 'maxProvenAddresses' | 'provenAddressTtlMs' | 'maxRecentRequests' | 'replayWindowMs' | 'rpcTimeoutMs'>;

export class AddressProofs {
  private readonly proven: RecentKeys;
  private readonly answered: RecentKeys;
  private readonly recentRequests: RecentKeys;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly clock: Clock,
    private readonly options: Options,
  ) {
    this.proven = new RecentKeys(options.maxProvenAddresses, options.provenAddressTtlMs);
    this.answered = new RecentKeys(options.maxProvenAddresses, options.provenAddressTtlMs);
    this.recentRequests = new RecentKeys(options.maxRecentRequests, options.replayWindowMs);
  }

  /** The last key made, for the same id and address objects: one request asks for it three or four times. */
  private lastKey: { id: Uint8Array; address: Address; host: string; port: number; key: string } | undefined;

  private keyOf(id: Uint8Array, address: Address): string {
    const last = this.lastKey;
    // Ids are never changed in place; the address's fields are compared, as it is a plain object.
    if (last && last.id === id && last.address === address && last.host === address.host && last.port === address.port) return last.key;
    const key = peerKey(id, address);
    this.lastKey = { id, address, host: address.host, port: address.port, key };
    return key;
  }

  get sizes(): { provenAddresses: number; answeredAddresses: number; recentRequests: number } {
    return { provenAddresses: this.proven.size, answeredAddresses: this.answered.size, recentRequests: this.recentRequests.size };
  }

  /** `id` answered a fresh request id of ours sent to `address`. */
  proved(id: Uint8Array, address: Address): void {
    this.proven.add(this.keyOf(id, address), this.clock.now());
  }

  isProven(id: Uint8Array, address: Address): boolean {
    return this.proven.has(this.keyOf(id, address), this.clock.now());
  }

  /** True, and remembered, unless this request was seen from this sender at this address within the replay window. */
  firstSight(senderId: Uint8Array, from: Address, requestId: Uint8Array): boolean {
    const key = `${this.keyOf(senderId, from)}#${asBuffer(requestId).toString('latin1')}`;
    if (this.recentRequests.has(key, this.clock.now())) return false;
    this.recentRequests.add(key, this.clock.now());
    return true;
  }

  /** We answered a request of `id` at `from`: that peer has now proven our address. Wakes whoever waits for it. */
  answeredRequestOf(id: Uint8Array, from: Address): void {
    const key = this.keyOf(id, from);
    this.answered.add(key, this.clock.now());
    const waiting = this.waiters.get(key);
    if (!waiting) return;
    this.waiters.delete(key);
    for (const wake of waiting) wake();
  }

  /** True when we answered a request of that peer lately (so it holds our address proven). */
  hasProvenUs(id: Uint8Array, address: Address): boolean {
    return this.answered.has(this.keyOf(id, address), this.clock.now());
  }

  /** The peer says it does not hold our address proven after all. */
  forgetProvenUs(id: Uint8Array, address: Address): void {
    this.answered.delete(this.keyOf(id, address));
  }

  /** Resolves once we answer a request of `peer` (its challenge, usually), or after one RPC timeout, or on abort. */
  nextAnswerTo(peer: Address & { readonly id: Uint8Array }, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const key = this.keyOf(peer.id, peer);
      const waiting = this.waiters.get(key) ?? new Set<() => void>();
      this.waiters.set(key, waiting);
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        waiting.delete(done);
        if (waiting.size === 0 && this.waiters.get(key) === waiting) this.waiters.delete(key);
        resolve();
      };
      const timer = this.clock.setTimeout(done, this.options.rpcTimeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      waiting.add(done);
    });
  }
}
