/**
 * One k-bucket: up to K contacts, least recently seen first, and a replacement
 * cache of verified contacts (most recent last) that refills it on eviction
 * (Kademlia sections 2.2 and 4.1). The routing table changes both lists, so
 * that it can keep its per-IP counts.
 */
import type { Contact } from './contact.js';

export class Bucket {
  contacts: Contact[] = [];
  replacements: Contact[] = [];

  constructor(
    /** Contacts here share exactly this many leading bits with our id (at least, for the last bucket). */
    readonly prefixBits: number,
    public lastTouchedMs: number,
  ) {}

  indexOf(idHex: string): number {
    return this.contacts.findIndex((c) => c.idHex === idHex);
  }

  replacementIndexOf(idHex: string): number {
    return this.replacements.findIndex((c) => c.idHex === idHex);
  }

  /** indexOf by the id's bytes, without making its hex. */
  indexOfId(id: Uint8Array): number {
    return findId(this.contacts, id);
  }

  replacementIndexOfId(id: Uint8Array): number {
    return findId(this.replacements, id);
  }

  /** Moves a contact to the most-recently-seen end with its new state. */
  refresh(index: number, updated: Contact): void {
    this.contacts.splice(index, 1);
    this.contacts.push(updated);
  }
}

const findId = (list: readonly Contact[], id: Uint8Array): number => {
  for (let i = 0; i < list.length; i++) {
    const other = list[i].id;
    // Ids are hashes: a different id almost always differs in its first bytes, so the full comparison runs about once.
    if (other[0] === id[0] && other[1] === id[1] && other.length === id.length && other.equals(id)) return i;
  }
  return -1;
};
