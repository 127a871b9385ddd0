/**
 * A bounded memory of keys, each with the time it was last seen, on the
 * injected clock; least recently seen out first, and forgotten after a TTL.
 * The node keeps three: peers (a key at an address) that answered a fresh
 * request id of ours, so full replies may go there; peers whose requests it
 * answered, which have thereby proven our address, so requests to them need
 * no padding; and recent request ids, so a replayed request is dropped.
 */
export class RecentKeys {
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.seenAt.size;
  }

  add(key: string, nowMs: number): void {
    this.seenAt.delete(key);
    if (this.seenAt.size >= this.capacity) this.seenAt.delete(this.seenAt.keys().next().value!);
    this.seenAt.set(key, nowMs);
  }

  has(key: string, nowMs: number): boolean {
    const at = this.seenAt.get(key);
    return at !== undefined && nowMs - at < this.ttlMs;
  }

  delete(key: string): void {
    this.seenAt.delete(key);
  }
}
