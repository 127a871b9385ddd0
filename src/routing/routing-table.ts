/**
 * The routing table (Kademlia section 2.4): buckets by shared-prefix length
 * with our id, where only the last bucket, the one covering our own id, splits.
 * It is a pure data structure: it never sends a message or reads the clock.
 * Callers add a contact only once it has proven its address with a sealed
 * answer to a fresh request of ours (docs/protocol.md, "Routing rules").
 */
import { toHex } from '../crypto/bytes.js';
import { nodeIdOf } from '../crypto/identity.js';
import { Bucket } from './bucket.js';
import { type Address, type Contact, type ContactInfo, makeContact, sameAddress } from './contact.js';
import { commonPrefixLength, compareDistance, ID_BITS } from './distance.js';

export interface RoutingTableOptions {
  /** Contacts per bucket and replacement-cache size (Kademlia's K). */
  readonly k: number;
  /** Failed requests after which a contact is evicted. */
  readonly allowedFails: number;
}

export type AddOutcome = 'added' | 'updated' | 'cached' | 'blacklisted' | 'self';

/** What adding this id would do, so the caller knows whether a challenge is worth sending. */
export type Placement = 'self' | 'blacklisted' | 'known' | 'room' | 'cache';

export interface TableSnapshot {
  readonly version: 1;
  readonly nodeId: string;
  readonly contacts: ReadonlyArray<{ publicKey: string; host: string; port: number }>;
  readonly blacklist: readonly string[];
}

export interface BucketView {
  readonly index: number;
  readonly prefixBits: number;
  readonly coversOwnId: boolean;
  readonly lastTouchedMs: number;
  readonly contacts: readonly Contact[];
  readonly replacements: readonly Contact[];
}

export class RoutingTable {
  private readonly buckets: Bucket[];
  private readonly blacklisted = new Set<string>();
  private readonly ownIdHex: string;

  constructor(
    readonly ownId: Buffer,
    private readonly options: RoutingTableOptions,
    nowMs: number,
  ) {
    this.ownIdHex = toHex(ownId);
    this.buckets = [new Bucket(0, nowMs)];
  }

  get size(): number {
    let n = 0;
    for (const b of this.buckets) n += b.contacts.length;
    return n;
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  get blacklistSize(): number {
    return this.blacklisted.size;
  }

  /** Adds or refreshes a verified contact; a new address replaces the old one. */
  add(info: ContactInfo, nowMs: number, rttMs?: number): AddOutcome {
    const fresh = makeContact(info, nowMs);
    if (fresh.idHex === this.ownIdHex) return 'self';
    if (this.blacklisted.has(fresh.idHex)) return 'blacklisted';
    for (;;) {
      const bucket = this.bucketFor(fresh.id);
      const index = bucket.indexOf(fresh.idHex);
      if (index >= 0) {
        const old = bucket.contacts[index];
        bucket.refresh(index, { ...old, host: fresh.host, port: fresh.port, lastSeenMs: nowMs, failures: 0, rttMs: smooth(old.rttMs, rttMs) });
        bucket.lastTouchedMs = nowMs;
        return 'updated';
      }
      if (bucket.contacts.length < this.options.k) {
        const cached = bucket.replacementIndexOf(fresh.idHex);
        if (cached >= 0) bucket.replacements.splice(cached, 1);
        bucket.contacts.push({ ...fresh, rttMs: smooth(undefined, rttMs) });
        bucket.lastTouchedMs = nowMs;
        return 'added';
      }
      if (!this.canSplit(bucket)) {
        bucket.addReplacement({ ...fresh, rttMs: smooth(undefined, rttMs) }, this.options.k);
        return 'cached';
      }
      this.splitLast(nowMs);
    }
  }

  /** Where a new contact with this id would go; does not change the table. */
  placement(id: Uint8Array): Placement {
    const idHex = toHex(id);
    if (idHex === this.ownIdHex) return 'self';
    if (this.blacklisted.has(idHex)) return 'blacklisted';
    const bucket = this.bucketFor(id);
    if (bucket.indexOf(idHex) >= 0) return 'known';
    if (bucket.contacts.length < this.options.k || this.canSplit(bucket)) return 'room';
    return 'cache';
  }

  /**
   * Marks a known contact (in a bucket or a replacement cache) as seen, only
   * if the message came from the address the table holds for it. Returns false
   * when it is unknown or has moved: then only a challenge round trip may add
   * or move it.
   */
  touch(id: Uint8Array, address: Address, nowMs: number): boolean {
    const idHex = toHex(id);
    const bucket = this.bucketFor(id);
    const index = bucket.indexOf(idHex);
    if (index >= 0) {
      const old = bucket.contacts[index];
      if (!sameAddress(old, address)) return false;
      bucket.refresh(index, { ...old, lastSeenMs: nowMs });
      return true;
    }
    const cached = bucket.replacementIndexOf(idHex);
    if (cached < 0 || !sameAddress(bucket.replacements[cached], address)) return false;
    bucket.addReplacement({ ...bucket.replacements[cached], lastSeenMs: nowMs }, this.options.k);
    return true;
  }

  get(id: Uint8Array): Contact | undefined {
    const bucket = this.bucketFor(id);
    const index = bucket.indexOf(toHex(id));
    return index >= 0 ? bucket.contacts[index] : undefined;
  }

  /**
   * Counts a failed request. The contact is evicted once it has failed
   * `allowedFails` times in a row, or at once when `force` is set; the most
   * recent replacement then takes its place.
   */
  recordFailure(id: Uint8Array, force = false): 'evicted' | 'counted' | 'unknown' {
    const idHex = toHex(id);
    const bucket = this.bucketFor(id);
    const index = bucket.indexOf(idHex);
    if (index < 0) {
      const cached = bucket.replacementIndexOf(idHex);
      if (cached >= 0) bucket.replacements.splice(cached, 1);
      return 'unknown';
    }
    const old = bucket.contacts[index];
    const failures = old.failures + 1;
    if (!force && failures < this.options.allowedFails) {
      bucket.contacts[index] = { ...old, failures };
      return 'counted';
    }
    bucket.contacts.splice(index, 1);
    const replacement = bucket.takeReplacement();
    if (replacement) bucket.contacts.push(replacement);
    return 'evicted';
  }

  remove(id: Uint8Array): boolean {
    return this.recordFailure(id, true) === 'evicted';
  }

  /** Removes a node for good: it never re-enters, not even from a snapshot. */
  blacklist(publicKeyOrId: Uint8Array): void {
    const id = publicKeyOrId.length === 32 ? nodeIdOf(publicKeyOrId) : Buffer.from(publicKeyOrId);
    this.remove(id);
    const bucket = this.bucketFor(id);
    const cached = bucket.replacementIndexOf(toHex(id));
    if (cached >= 0) bucket.replacements.splice(cached, 1);
    this.blacklisted.add(toHex(id));
  }

  isBlacklisted(id: Uint8Array): boolean {
    return this.blacklisted.has(toHex(id));
  }

  /** The `count` known contacts closest to `target` by XOR, closest first. */
  closest(target: Uint8Array, count: number, excludeId?: Uint8Array): Contact[] {
    const excludeHex = excludeId ? toHex(excludeId) : undefined;
    const all: Contact[] = [];
    for (const bucket of this.buckets) {
      for (const c of bucket.contacts) if (c.idHex !== excludeHex) all.push(c);
    }
    all.sort((a, b) => compareDistance(a.id, b.id, target));
    return all.length > count ? all.slice(0, count) : all;
  }

  contacts(): Contact[] {
    return this.buckets.flatMap((b) => b.contacts);
  }

  /** Records that a lookup reached into the bucket covering `key` (Kademlia section 2.3). */
  touchBucketFor(key: Uint8Array, nowMs: number): void {
    this.bucketFor(key).lastTouchedMs = nowMs;
  }

  /** Buckets untouched for `refreshAfterMs`, each with the prefix a refresh target must share. */
  bucketsToRefresh(nowMs: number, refreshAfterMs: number): Array<{ index: number; prefixBits: number; coversOwnId: boolean }> {
    const due: Array<{ index: number; prefixBits: number; coversOwnId: boolean }> = [];
    this.buckets.forEach((b, index) => {
      if (nowMs - b.lastTouchedMs >= refreshAfterMs) {
        due.push({ index, prefixBits: b.prefixBits, coversOwnId: index === this.buckets.length - 1 });
      }
    });
    return due;
  }

  markBucketRefreshed(index: number, nowMs: number): void {
    const bucket = this.buckets[index];
    if (bucket) bucket.lastTouchedMs = nowMs;
  }

  bucketViews(): BucketView[] {
    return this.buckets.map((b, index) => ({
      index,
      prefixBits: b.prefixBits,
      coversOwnId: index === this.buckets.length - 1,
      lastTouchedMs: b.lastTouchedMs,
      contacts: b.contacts.slice(),
      replacements: b.replacements.slice(),
    }));
  }

  toSnapshot(): TableSnapshot {
    return {
      version: 1,
      nodeId: this.ownIdHex,
      contacts: this.contacts().map((c) => ({ publicKey: toHex(c.publicKey), host: c.host, port: c.port })),
      blacklist: [...this.blacklisted].sort(),
    };
  }

  /** Restores contacts and blacklist from a snapshot; malformed entries are skipped and counted. */
  restore(snapshot: TableSnapshot, nowMs: number): { restored: number; skipped: number } {
    let restored = 0;
    let skipped = 0;
    const list = (x: unknown): unknown[] => {
      if (Array.isArray(x)) return x;
      if (x !== undefined) skipped++;
      return [];
    };
    for (const id of list(snapshot.blacklist)) {
      // blacklist() also evicts the contact and its cache entry if we hold it already.
      if (typeof id === 'string' && /^[0-9a-f]{128}$/.test(id)) this.blacklist(Buffer.from(id, 'hex'));
      else skipped++;
    }
    for (const entry of list(snapshot.contacts)) {
      const c = entry as { publicKey?: unknown; host?: unknown; port?: unknown } | null;
      if (
        typeof c?.publicKey !== 'string' ||
        !/^[0-9a-f]{64}$/.test(c.publicKey) ||
        typeof c.host !== 'string' ||
        typeof c.port !== 'number' ||
        !Number.isInteger(c.port) ||
        c.port <= 0 ||
        c.port >= 65536
      ) {
        skipped++;
        continue;
      }
      const outcome = this.add({ publicKey: Buffer.from(c.publicKey, 'hex'), host: c.host, port: c.port }, nowMs);
      if (outcome === 'added' || outcome === 'updated') restored++;
      else if (outcome !== 'cached') skipped++;
    }
    return { restored, skipped };
  }

  private bucketFor(id: Uint8Array): Bucket {
    const cpl = commonPrefixLength(this.ownId, id);
    return this.buckets[Math.min(cpl, this.buckets.length - 1)];
  }

  private canSplit(bucket: Bucket): boolean {
    return bucket === this.buckets[this.buckets.length - 1] && this.buckets.length < ID_BITS;
  }

  /** Splits the last bucket: contacts sharing more than its prefix move to a new last bucket. */
  private splitLast(nowMs: number): void {
    const old = this.buckets[this.buckets.length - 1];
    const depth = this.buckets.length - 1;
    const next = new Bucket(depth + 1, nowMs);
    const stays = (c: Contact): boolean => commonPrefixLength(this.ownId, c.id) === depth;
    next.contacts = old.contacts.filter((c) => !stays(c));
    old.contacts = old.contacts.filter(stays);
    next.replacements = old.replacements.filter((c) => !stays(c));
    old.replacements = old.replacements.filter(stays);
    this.buckets.push(next);
  }
}

/** Exponentially weighted RTT, as TCP does (RFC 6298, alpha = 1/8). */
const smooth = (previous: number | undefined, sample: number | undefined): number | undefined => {
  if (sample === undefined) return previous;
  if (previous === undefined) return sample;
  return previous + (sample - previous) / 8;
};
