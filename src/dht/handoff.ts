/**
 * Kademlia's store-on-join (section 2.5): a node that learns of a new
 * neighbour hands it the items it is now among the K closest to, instead of
 * leaving them to the hourly republish. Under heavy churn replicas otherwise
 * die faster than republishing replaces them. Only the items we hold as one of
 * their K closest (not cached copies) are handed over, only to a contact that
 * is among the K closest we know to our own id (the items we hold lie near it;
 * a farther newcomer cannot be among their closest), each item to each
 * newcomer once, and only by the SENDERS holders closest to the key (the
 * paper lets only the closest send, against K holders all sending the same
 * item; three, so that one closer holder that is dead or lying cannot keep a
 * newcomer from the item): we send when fewer than SENDERS contacts we know,
 * other than the newcomer and those whose last request failed, are closer to
 * the key than we are. New contacts are gathered and handled in one pass a moment
 * later, so that a burst of arrivals costs one scan of the store.
 */
import { compareDistance } from '../routing/distance.js';
import type { Contact } from '../routing/contact.js';
import { isExpired, type Item } from '../protocol/item.js';

/** How many of the holders closest to a key hand it to a newcomer. */
const SENDERS = 3;

export interface HandoffDeps {
  readonly ownId: Buffer;
  readonly k: number;
  readonly now: () => number;
  /** The K closest contacts we know to a key. */
  readonly closest: (key: Uint8Array, count: number) => readonly Contact[];
  /** The contact as the table holds it now; undefined once gone. */
  readonly current: (id: Uint8Array) => Contact | undefined;
  readonly isAmongClosest: (key: Uint8Array) => boolean;
  readonly items: () => Iterable<{ readonly item: Item }>;
  /** Sends one Store; its outcome does not matter here (a failed one is the republish's to repair). */
  readonly send: (to: Contact, item: Item) => Promise<unknown>;
  readonly concurrency: number;
}

export class Handoff {
  private readonly waiting = new Map<string, Contact>();

  constructor(private readonly deps: HandoffDeps) {}

  get pending(): number {
    return this.waiting.size;
  }

  /** Notes a contact that just entered the table; returns true when a pass should be scheduled. */
  noteNewContact(contact: Contact): boolean {
    const wasEmpty = this.waiting.size === 0;
    this.waiting.set(contact.idHex, contact);
    return wasEmpty;
  }

  /** Hands every waiting newcomer the items it should hold; resolves with the number of Stores sent. */
  async pass(): Promise<number> {
    const { deps } = this;
    const newcomers = [...this.waiting.values()].filter((c) => deps.current(c.id) !== undefined);
    this.waiting.clear();
    if (newcomers.length === 0) return 0;
    const neighbours = deps.closest(deps.ownId, deps.k);
    const farthest = neighbours.length < deps.k ? undefined : neighbours[neighbours.length - 1];
    const near = newcomers.filter((c) => farthest === undefined || compareDistance(c.id, farthest.id, deps.ownId) <= 0);
    if (near.length === 0) return 0;
    const work: Array<() => Promise<unknown>> = [];
    const now = deps.now();
    for (const { item } of deps.items()) {
      if (isExpired(item, now) || !deps.isAmongClosest(item.key)) continue;
      const closest = deps.closest(item.key, deps.k);
      const last = closest.length < deps.k ? undefined : closest[closest.length - 1];
      // Contacts we know, alive as far as we can tell, that are closer to the key than we are.
      const closerThanUs = closest.filter((c) => c.failures === 0 && compareDistance(c.id, deps.ownId, item.key) < 0);
      for (const contact of near) {
        if (last !== undefined && compareDistance(contact.id, last.id, item.key) > 0) continue;
        // The newcomer itself does not count: its arrival must not make us think someone else will tell it.
        const others = closerThanUs.length - (closerThanUs.some((c) => c.idHex === contact.idHex) ? 1 : 0);
        if (others < SENDERS) work.push(() => deps.send(contact, item));
      }
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) await work[next++]().catch(() => undefined);
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, work.length) }, worker));
    return work.length;
  }
}
