/**
 * One k-bucket: up to K contacts, least recently seen first, and a replacement
 * cache of verified contacts (most recent last) that refills it on eviction
 * (Kademlia sections 2.2 and 4.1).
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

  /** Moves a contact to the most-recently-seen end with its new state. */
  refresh(index: number, updated: Contact): void {
    this.contacts.splice(index, 1);
    this.contacts.push(updated);
  }

  addReplacement(contact: Contact, capacity: number): void {
    const existing = this.replacementIndexOf(contact.idHex);
    if (existing >= 0) this.replacements.splice(existing, 1);
    this.replacements.push(contact);
    if (this.replacements.length > capacity) this.replacements.shift();
  }

  /** Takes the most recently seen replacement, if any. */
  takeReplacement(): Contact | undefined {
    return this.replacements.pop();
  }
}
