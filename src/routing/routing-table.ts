/**
 * The routing table (Kademlia section 2.4): buckets by shared-prefix length
 * with our id, where only the last bucket, the one covering our own id, splits.
 * It is a pure data structure: it never sends a message or reads the clock.
 * Callers add a contact only once it has proven its address with a sealed
 * answer to a fresh request of ours (docs/protocol.md, "Routing rules").
 * Diversity caps keep one IP address, or one /24 (/48), from filling a
 * bucket, and one IP from holding more than a few places in the whole table,
 * replacement caches included; ids that fail the Sybil puzzle never enter.
 */
import { bytesEqual, toHex } from '../crypto/bytes.js';
import { nodeIdOf } from '../crypto/identity.js';
import { type AddressGroup, addressGroup, DEFAULT_SHARED_HOSTS } from './address-group.js';
import { Bucket } from './bucket.js';
import { type Address, type Contact, type ContactInfo, makeContact, sameAddress } from './contact.js';
import { commonPrefixLength, compareDistance, ID_BITS, ID_BYTES } from './distance.js';

export interface RoutingTableOptions {
  /** Contacts per bucket and replacement-cache size (Kademlia's K). */
  readonly k: number;
  /** Failed requests after which a contact is evicted. */
  readonly allowedFails: number;
  /** Contacts of one IP address in one bucket, and separately in its replacement cache. Default: no limit. */
  readonly maxPerHostPerBucket?: number;
  /** Contacts of one /24 (IPv4) or /48 (IPv6) in one bucket, and separately in its replacement cache. Default: no limit. */
  readonly maxPerNetworkPerBucket?: number;
  /** Places (contacts and replacements together) one IP address may hold in the whole table. Default: no limit. */
  readonly maxPerHost?: number;
  /** Hosts where each port counts as a host of its own (a devnet's loopback); default 127.0.0.1 and ::1. */
  readonly sharedHosts?: readonly string[];
  /** Whether an id may enter at all (the Sybil puzzle of docs/protocol.md); default: every id. */
  readonly admissible?: (id: Uint8Array) => boolean;
}

/** `refused`: the address's IP or network already holds its share of the bucket or table; `inadmissible`: the id fails the puzzle. */
export type AddOutcome = 'added' | 'updated' | 'cached' | 'blacklisted' | 'self' | 'refused' | 'inadmissible';

/** What adding this id would do, so the caller knows whether a challenge is worth sending. */
export type Placement = 'self' | 'blacklisted' | 'inadmissible' | 'known' | 'room' | 'cache' | 'refused';

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
  /** Places (contacts and replacements) held per host key, for the table-wide cap. */
  private readonly hostPlaces = new Map<string, number>();
  /** Address groups by host, then port: no key string to build per message. */
  private readonly groups = new Map<string, Map<number, AddressGroup>>();
  private groupCount = 0;
  private readonly perHostPerBucket: number;
  private readonly perNetworkPerBucket: number;
  private readonly perHost: number;
  private readonly sharedHosts: readonly string[];

  constructor(
    readonly ownId: Buffer,
    private readonly options: RoutingTableOptions,
    nowMs: number,
  ) {
    this.ownIdHex = toHex(ownId);
    this.buckets = [new Bucket(0, nowMs)];
    this.perHostPerBucket = options.maxPerHostPerBucket ?? Infinity;
    this.perNetworkPerBucket = options.maxPerNetworkPerBucket ?? Infinity;
    this.perHost = options.maxPerHost ?? Infinity;
    this.sharedHosts = options.sharedHosts ?? DEFAULT_SHARED_HOSTS;
  }

  /** The IP and network an address counts against. */
  groupOf(address: Address): AddressGroup {
    let byPort = this.groups.get(address.host);
    let group = byPort?.get(address.port);
    if (!group) {
      if (this.groupCount >= 8192) {
        this.groups.clear();
        this.groupCount = 0;
        byPort = undefined;
      }
      group = addressGroup(address, this.sharedHosts);
      if (!byPort) this.groups.set(address.host, (byPort = new Map()));
      byPort.set(address.port, group);
      this.groupCount++;
    }
    return group;
  }

  /** Places (contacts and replacements) held by the IP of `address`. */
  placesHeldBy(address: Address): number {
    return this.hostPlaces.get(this.groupOf(address).host) ?? 0;
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

  /**
   * Adds or refreshes a verified contact; a new address replaces the old one
   * unless the new address's IP or network is over its caps (the contact
   * then stays at its old address). A newcomer is refused when its IP or
   * network holds its share of the bucket (or of the cache, for a full
   * bucket) or its IP holds its share of the table. `id`, when the caller
   * has it already, must be nodeIdOf(publicKey): it saves a hash.
   */
  add(info: ContactInfo & { readonly id?: Uint8Array }, nowMs: number, rttMs?: number): AddOutcome {
    // The common case, a known contact answering again, needs neither a hash nor a hex id.
    if (info.id !== undefined && info.id.length === ID_BYTES && this.blacklisted.size === 0) {
      const bucket = this.bucketFor(info.id);
      const index = bucket.indexOfId(info.id);
      if (index >= 0 && sameAddress(bucket.contacts[index], info) && bytesEqual(bucket.contacts[index].publicKey, info.publicKey)) {
        const old = bucket.contacts[index];
        bucket.refresh(index, { ...old, lastSeenMs: nowMs, failures: 0, rttMs: smooth(old.rttMs, rttMs) });
        bucket.lastTouchedMs = nowMs;
        return 'updated';
      }
    }
    const fresh = makeContact(info, nowMs);
    if (fresh.idHex === this.ownIdHex) return 'self';
    if (this.blacklisted.has(fresh.idHex)) return 'blacklisted';
    if (this.options.admissible && !this.options.admissible(fresh.id)) return 'inadmissible';
    for (;;) {
      const bucket = this.bucketFor(fresh.id);
      const index = bucket.indexOfId(fresh.id);
      if (index >= 0) {
        const old = bucket.contacts[index];
        const moved = !sameAddress(old, fresh);
        if (moved && !this.fits(bucket.contacts, fresh, old)) return 'refused';
        if (moved) this.release(old);
        bucket.refresh(index, { ...old, host: fresh.host, port: fresh.port, lastSeenMs: nowMs, failures: 0, rttMs: smooth(old.rttMs, rttMs) });
        if (moved) this.hold(fresh);
        bucket.lastTouchedMs = nowMs;
        return 'updated';
      }
      const cached = bucket.replacementIndexOf(fresh.idHex);
      const cachedContact = cached >= 0 ? bucket.replacements[cached] : undefined;
      if (bucket.contacts.length < this.options.k) {
        if (!this.fits(bucket.contacts, fresh, cachedContact)) return 'refused';
        if (cachedContact) this.release(bucket.replacements.splice(cached, 1)[0]);
        bucket.contacts.push({ ...fresh, rttMs: smooth(undefined, rttMs) });
        this.hold(fresh);
        bucket.lastTouchedMs = nowMs;
        return 'added';
      }
      if (!this.canSplit(bucket)) {
        if (!this.fits(bucket.replacements, fresh, cachedContact)) return 'refused';
        this.cacheReplacement(bucket, { ...fresh, rttMs: smooth(undefined, rttMs) });
        return 'cached';
      }
      this.splitLast(nowMs);
    }
  }

  /**
   * Where a new contact with this id would go; does not change the table.
   * Given the address it would come from, also whether the diversity caps
   * would refuse it there.
   */
  placement(id: Uint8Array, address?: Address): Placement {
    const idHex = toHex(id);
    if (idHex === this.ownIdHex) return 'self';
    if (this.blacklisted.has(idHex)) return 'blacklisted';
    if (this.options.admissible && !this.options.admissible(id)) return 'inadmissible';
    const bucket = this.bucketFor(id);
    if (bucket.indexOf(idHex) >= 0) return 'known';
    const room = bucket.contacts.length < this.options.k || this.canSplit(bucket);
    if (address) {
      const cached = bucket.replacementIndexOf(idHex);
      const candidate = { host: address.host, port: address.port, idHex };
      // After a split the bucket holds fewer contacts: checking against the whole bucket is the conservative answer.
      if (!this.fits(room ? bucket.contacts : bucket.replacements, candidate, cached >= 0 ? bucket.replacements[cached] : undefined)) return 'refused';
    }
    return room ? 'room' : 'cache';
  }

  /**
   * Marks a known contact (in a bucket or a replacement cache) as seen, only
   * if the message came from the address the table holds for it. Returns false
   * when it is unknown or has moved: then only a challenge round trip may add
   * or move it.
   */
  touch(id: Uint8Array, address: Address, nowMs: number): boolean {
    const bucket = this.bucketFor(id);
    const index = bucket.indexOfId(id);
    if (index >= 0) {
      const old = bucket.contacts[index];
      if (!sameAddress(old, address)) return false;
      bucket.refresh(index, { ...old, lastSeenMs: nowMs });
      return true;
    }
    const cached = bucket.replacementIndexOfId(id);
    if (cached < 0 || !sameAddress(bucket.replacements[cached], address)) return false;
    const [seen] = bucket.replacements.splice(cached, 1);
    bucket.replacements.push({ ...seen, lastSeenMs: nowMs });
    return true;
  }

  get(id: Uint8Array): Contact | undefined {
    const bucket = this.bucketFor(id);
    const index = bucket.indexOfId(id);
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
      if (cached >= 0) this.release(bucket.replacements.splice(cached, 1)[0]);
      return 'unknown';
    }
    const old = bucket.contacts[index];
    const failures = old.failures + 1;
    // The most recent replacement that the bucket's caps allow once this contact is gone (its IP's table-wide places do not change).
    const others = bucket.contacts.filter((c) => c.idHex !== idHex);
    let replacement = -1;
    for (let i = bucket.replacements.length - 1; i >= 0 && replacement < 0; i--) if (this.fitsBucket(others, bucket.replacements[i])) replacement = i;
    // Kademlia section 4.1: with nothing to take its place, a stale contact is
    // only flagged (its failures keep counting), so that a node cut off for a
    // while, by its own link or by a partition, does not void its table.
    if (!force && (failures < this.options.allowedFails || replacement < 0)) {
      bucket.contacts[index] = { ...old, failures };
      return 'counted';
    }
    this.release(bucket.contacts.splice(index, 1)[0]);
    if (replacement >= 0) bucket.contacts.push(bucket.replacements.splice(replacement, 1)[0]);
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
    if (cached >= 0) this.release(bucket.replacements.splice(cached, 1)[0]);
    this.blacklisted.add(toHex(id));
  }

  isBlacklisted(id: Uint8Array): boolean {
    return this.blacklisted.size > 0 && this.blacklisted.has(toHex(id));
  }

  /** The `count` known contacts closest to `target` by XOR, closest first. */
  closest(target: Uint8Array, count: number, excludeId?: Uint8Array): Contact[] {
    const all: Contact[] = [];
    for (const bucket of this.buckets) {
      for (const c of bucket.contacts) {
        if (excludeId !== undefined && c.id[0] === excludeId[0] && c.id.equals(excludeId)) continue;
        all.push(c);
      }
    }
    return closestFirst(all, target, count);
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

  /**
   * Whether `candidate` may join `list` (a bucket's contacts or its cache)
   * under the caps, `replacing` (an entry of the same id, or the contact's own
   * old address) not counted.
   */
  private fits(list: readonly Contact[], candidate: Address & { idHex: string }, replacing?: Contact): boolean {
    const group = this.groupOf(candidate);
    const held = (this.hostPlaces.get(group.host) ?? 0) - (replacing && this.groupOf(replacing).host === group.host ? 1 : 0);
    if (held >= this.perHost) return false;
    return this.fitsBucket(list, candidate);
  }

  private fitsBucket(list: readonly Contact[], candidate: Address & { idHex: string }): boolean {
    if (this.perHostPerBucket === Infinity && this.perNetworkPerBucket === Infinity) return true;
    const group = this.groupOf(candidate);
    let sameHost = 0;
    let sameNetwork = 0;
    for (const c of list) {
      if (c.idHex === candidate.idHex) continue;
      const other = this.groupOf(c);
      if (other.host === group.host) sameHost++;
      if (other.network === group.network) sameNetwork++;
    }
    return sameHost < this.perHostPerBucket && sameNetwork < this.perNetworkPerBucket;
  }

  /** Adds to a full bucket's cache, most recent last, dropping the oldest beyond K. */
  private cacheReplacement(bucket: Bucket, contact: Contact): void {
    const existing = bucket.replacementIndexOf(contact.idHex);
    if (existing >= 0) this.release(bucket.replacements.splice(existing, 1)[0]);
    bucket.replacements.push(contact);
    this.hold(contact);
    if (bucket.replacements.length > this.options.k) this.release(bucket.replacements.shift()!);
  }

  private hold(address: Address): void {
    const host = this.groupOf(address).host;
    this.hostPlaces.set(host, (this.hostPlaces.get(host) ?? 0) + 1);
  }

  private release(address: Address): void {
    const host = this.groupOf(address).host;
    const left = (this.hostPlaces.get(host) ?? 0) - 1;
    if (left > 0) this.hostPlaces.set(host, left);
    else this.hostPlaces.delete(host);
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

/** Sort keys hold a 40-bit distance prefix and a 13-bit index: 53 bits, exact in a double. */
const INDEX_BITS = 13;

/**
 * The `count` contacts of `list` closest to `target`, closest first. Each
 * distance is ranked by its first 40 bits with the contact's index packed
 * below them, so a plain numeric sort of a Float64Array does the work with
 * no comparator calls; only when two prefixes tie (ids are hashes: about
 * never, unless ground to collide) does it fall back to comparing whole ids.
 */
export const closestFirst = <T extends { readonly id: Uint8Array }>(list: readonly T[], target: Uint8Array, count: number): T[] => {
  const n = list.length;
  if (n >= 1 << INDEX_BITS) return [...list].sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, count);
  const t0 = ((target[0] << 24) | (target[1] << 16) | (target[2] << 8) | target[3]) >>> 0;
  const t1 = target[4];
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = list[i].id;
    const hi = (((id[0] << 24) | (id[1] << 16) | (id[2] << 8) | id[3]) ^ t0) >>> 0;
    keys[i] = (hi * 256 + (id[4] ^ t1)) * (1 << INDEX_BITS) + i;
  }
  keys.sort();
  const scale = 1 << INDEX_BITS;
  for (let i = 1; i < n; i++) {
    if (Math.floor(keys[i] / scale) === Math.floor(keys[i - 1] / scale)) {
      return [...list].sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, count);
    }
  }
  const m = Math.min(count, n);
  const out = new Array<T>(m);
  for (let i = 0; i < m; i++) out[i] = list[keys[i] % scale];
  return out;
};

/** Exponentially weighted RTT, as TCP does (RFC 6298, alpha = 1/8). */
const smooth = (previous: number | undefined, sample: number | undefined): number | undefined => {
  if (sample === undefined) return previous;
  if (previous === undefined) return sample;
  return previous + (sample - previous) / 8;
};
