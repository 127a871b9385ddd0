/**
 * The iterative lookup of Kademlia section 2.3, as the seed's NodeLookup
 * describes it: ALPHA requests in flight to the closest unasked candidates of
 * a shortlist of the K closest seen; it ends when the K closest seen have all
 * answered, when no candidate is left, at the overall timeout, or (FindValue)
 * at the first valid value. Peers that fail to answer are dropped from the
 * shortlist. The lookup never touches the routing table itself: the node's
 * `query` function does that, so the lookup stays a pure algorithm.
 * Hooks for S/Kademlia (section 4.4): at most `maxPerGroup` candidates of one
 * network count among the K closest, a path asks only candidates it may
 * `claim` (disjoint paths, see disjoint-lookup.ts), and a FindValue may
 * `collect` several copies instead of ending at the first. With a `density`
 * check, an anomalous cluster of ids next to the target (density.ts) does not
 * count towards the K: the lookup asks the cluster and the K closest beyond it.
 */
import { bytesEqual, toHex } from '../crypto/bytes.js';
import { nodeIdOf } from '../crypto/identity.js';
import { checkItem, compareItemVersions, type Item } from '../protocol/item.js';
import type { Reply, WireContact } from '../protocol/messages.js';
import { commonPrefixLength, compareDistance } from '../routing/distance.js';
import type { Clock } from '../runtime/clock.js';
import { clusterSize, type DensityCheck, distanceFraction } from './density.js';

export type LookupKind = 'node' | 'value';

export interface Candidate {
  readonly id: Buffer;
  readonly idHex: string;
  readonly publicKey: Uint8Array;
  readonly host: string;
  readonly port: number;
  /** 1 for contacts we started with, n + 1 for contacts learned from a depth-n answer. */
  readonly depth: number;
  /** `skipped`: another disjoint path holds it, so this path never asks it. */
  state: 'new' | 'asked' | 'answered' | 'failed' | 'skipped';
}

/** A valid copy of the item, and the peer that served it. */
export interface Copy {
  readonly item: Item;
  readonly source: Candidate;
}

export type LookupEvent =
  | { readonly type: 'asked'; readonly peer: Candidate }
  | { readonly type: 'answered'; readonly peer: Candidate; readonly newContacts: number }
  | { readonly type: 'failed'; readonly peer: Candidate; readonly reason: string }
  | { readonly type: 'closer'; readonly peer: Candidate; readonly distancePrefixBits: number }
  | { readonly type: 'value'; readonly peer: Candidate; readonly item: Item }
  | { readonly type: 'bad-value'; readonly peer: Candidate; readonly code: number; readonly reason: string };

export interface LookupResult {
  readonly target: Buffer;
  /** Peers that answered, closest first: at most K, plus the anomalous cluster in front of them when there is one. */
  readonly closest: Candidate[];
  /** How many of `closest` (the first ones) are an anomalous cluster of ids next to the target; 0 without a density check. */
  readonly cluster: number;
  /** The newest valid copy found. */
  readonly item: Item | undefined;
  readonly itemSource: Candidate | undefined;
  /** Every valid copy found, one per peer (one at most unless collecting). */
  readonly copies: readonly Copy[];
  /** The closest peer that answered without the value: where Kademlia caches it. */
  readonly cacheCandidate: Candidate | undefined;
  /** Hops to the answer: the value's source depth, or the deepest of the K closest. */
  readonly rounds: number;
  readonly requests: number;
  readonly failures: number;
  readonly timedOut: boolean;
  /** Progress listeners that threw; the lookup carried on. */
  readonly listenerErrors: number;
}

export interface LookupDeps {
  readonly ownId: Buffer;
  readonly clock: Clock;
  /** Sends FindNode or FindValue to a peer and resolves with its verified reply. */
  readonly query: (peer: Candidate, kind: LookupKind, target: Buffer, signal: AbortSignal) => Promise<Reply>;
  readonly isBlacklisted: (id: Uint8Array) => boolean;
  /** Whether an id may be a candidate at all (the Sybil puzzle); default: every id. */
  readonly isAdmissible?: (id: Uint8Array) => boolean;
  /** Called when a peer served a forged value: the node blacklists it. */
  readonly onForgedValue: (peer: Candidate, code: number) => void;
}

export interface LookupParams {
  readonly target: Buffer;
  readonly kind: LookupKind;
  readonly seeds: ReadonlyArray<Omit<Candidate, 'depth' | 'state'>>;
  readonly k: number;
  readonly alpha: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: LookupEvent) => void;
  /** The network a candidate's address belongs to; with maxPerGroup, for diversity among the K closest. */
  readonly groupOf?: (address: { readonly host: string; readonly port: number }) => string;
  /** Candidates of one group counted among the K closest; the rest wait until some of those fail. */
  readonly maxPerGroup?: number;
  /** Asked before a candidate is queried: false when another path holds it (it is then skipped). */
  readonly claim?: (candidate: Candidate) => boolean;
  /** FindValue: record every valid copy and go on, instead of ending at the first. */
  readonly collect?: boolean;
  /** Checked after each answer: true ends the lookup at once (a quorum of copies, across paths). */
  readonly shouldStop?: () => boolean;
  /** Ids much denser next to the target than the network size allows are a cluster, asked on top of the K closest beyond it. */
  readonly density?: DensityCheck;
  /**
   * FindValue (not collecting): ask one peer first, and open up to alpha
   * requests only once it has answered without the value, failed, or kept
   * us waiting this long (ms, per peer asked). The closest peer we know
   * usually holds the value, and every parallel request a found value
   * leaves in flight is a wasted request, reply and seal at both ends.
   * Undefined: alpha requests from the start.
   */
  readonly hedgeMs?: (peer: Candidate) => number;
  /**
   * Told after every answer the K closest live candidates (the anomalous
   * cluster, `cluster` of them, in front), whatever their state, with a
   * handle to settle candidates itself: a publish sends its Stores to the
   * closest once it is in the key's neighbourhood, and a Store answered
   * proves a peer alive, as a FindNode answer would.
   */
  readonly onClosest?: (closest: readonly Candidate[], cluster: number, control: LookupControl) => void;
}

/** What a caller may do to a running lookup's candidates (LookupParams.onClosest). */
export interface LookupControl {
  /** Takes a candidate not yet asked for the caller to ask instead; false when it was asked already or is out. */
  claim(candidate: Candidate): boolean;
  /** The caller's request to a claimed candidate was answered (true) or failed (false). */
  settle(candidate: Candidate, answered: boolean): void;
}

const ANSWERED: ReadonlySet<Candidate['state']> = new Set(['answered']);

/** The reason a finished lookup aborts its requests with. */
const LOOKUP_FINISHED = Object.freeze({ reason: 'the lookup has finished' });

export class AbortError extends Error {
  constructor(message = 'the operation was aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

export const lookup = (deps: LookupDeps, params: LookupParams): Promise<LookupResult> =>
  new Promise<LookupResult>((resolve, reject) => {
    const { target, kind, k, alpha } = params;
    const seen = new Map<string, Candidate>();
    const seenKeys = new Set<string>();
    const shortlist: Candidate[] = []; // every candidate seen, closest first
    const inner = new AbortController();
    let inFlight = 0;
    /** Candidates claimed by the caller (onClosest) whose request it has not settled yet. */
    const claimed = new Set<Candidate>();
    let requests = 0;
    let failures = 0;
    let finished = false;
    let announced: Candidate | undefined;
    // While true, one request at a time (see hedgeMs); the first answer, failure or hedge timer ends it.
    let single = kind === 'value' && !params.collect && params.hedgeMs !== undefined;
    let hedgeTimer: ReturnType<Clock['setTimeout']> | undefined;
    const openUp = (): void => {
      single = false;
      if (hedgeTimer !== undefined) deps.clock.clearTimeout(hedgeTimer);
      hedgeTimer = undefined;
    };
    // A listener is the caller's code (a WebSocket, a progress bar): its
    // failure must not break the lookup.
    const emit = (event: LookupEvent): void => {
      try {
        params.onEvent?.(event);
      } catch {
        listenerErrors++;
      }
    };
    let listenerErrors = 0;

    const insert = (c: Candidate): void => {
      let lo = 0;
      let hi = shortlist.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareDistance(shortlist[mid].id, c.id, target) < 0) lo = mid + 1;
        else hi = mid;
      }
      shortlist.splice(lo, 0, c);
    };

    const consider = (info: Omit<Candidate, 'depth' | 'state' | 'id' | 'idHex'> & { id?: Buffer; idHex?: string }, depth: number): boolean => {
      // The same contacts come back in answer after answer: a key seen before costs no hash.
      const keySeen = Buffer.from(info.publicKey.buffer, info.publicKey.byteOffset, info.publicKey.length).toString('latin1');
      if (seenKeys.has(keySeen)) return false;
      seenKeys.add(keySeen);
      const id = info.id ?? nodeIdOf(info.publicKey);
      const idHex = info.idHex ?? toHex(id);
      if (seen.has(idHex) || bytesEqual(id, deps.ownId) || deps.isBlacklisted(id)) return false;
      if (deps.isAdmissible && !deps.isAdmissible(id)) return false;
      const c: Candidate = { id, idHex, publicKey: info.publicKey, host: info.host, port: info.port, depth, state: 'new' };
      seen.set(idHex, c);
      insert(c);
      return true;
    };

    const maxPerGroup = params.groupOf ? (params.maxPerGroup ?? Infinity) : Infinity;
    const density = params.density;
    const fractions = new Map<Candidate, number>();
    const fractionOf = (c: Candidate): number => {
      let f = fractions.get(c);
      if (f === undefined) fractions.set(c, (f = distanceFraction(c.id, target)));
      return f;
    };
    let clusterOfLast = 0;
    /**
     * The K closest candidates in `states` (by default, all that have not failed nor been skipped), at most
     * maxPerGroup of one network; with a density check, an anomalous cluster in front of them as well.
     */
    const liveClosest = (states?: ReadonlySet<Candidate['state']>): Candidate[] => {
      let window = density ? k + density.maxCluster : k;
      // Past K, once a candidate lies maxCluster/(N̂·factor) away no later rank can be flagged: the
      // cluster is known, and the scan needs only the K beyond it (most lookups stop near K).
      const settledAt = density ? density.maxCluster / (density.networkSize * density.factor) : Infinity;
      let settled = false;
      const out: Candidate[] = [];
      const perGroup = maxPerGroup === Infinity ? undefined : new Map<string, number>();
      for (const c of shortlist) {
        if (states ? !states.has(c.state) : c.state === 'failed' || c.state === 'skipped') continue;
        if (perGroup) {
          const group = params.groupOf!(c);
          const n = perGroup.get(group) ?? 0;
          if (n >= maxPerGroup) continue;
          perGroup.set(group, n + 1);
        }
        out.push(c);
        if (density && !settled && out.length >= k && fractionOf(c) >= settledAt) {
          settled = true;
          window = Math.min(window, Math.max(out.length, clusterSize(out.map(fractionOf), density) + k));
        }
        if (out.length >= window) break;
      }
      clusterOfLast = density ? clusterSize(out.map(fractionOf), density) : 0;
      return out.slice(0, clusterOfLast + k);
    };

    const copies: Copy[] = [];

    const finish = (timedOut = false): void => {
      if (finished) return;
      finished = true;
      deps.clock.clearTimeout(timer);
      openUp();
      params.signal?.removeEventListener('abort', onAbort);
      // Cancels the requests still in flight; a constant reason spares a DOMException per lookup.
      if (inFlight > 0) inner.abort(LOOKUP_FINISHED);
      const newest = copies.reduce<Copy | undefined>((best, c) => (best === undefined || compareItemVersions(c.item, best.item) > 0 ? c : best), undefined);
      // The result obeys the same diversity: a network's extra nodes that answered early do not make up the K.
      const closest = liveClosest(ANSWERED);
      const cluster = clusterOfLast;
      const sources = new Set(copies.map((c) => c.source));
      // Cached where the next get will look: beyond the cluster first, whose members may be the ones that hid the value.
      const cacheCandidate = newest ? (closest.slice(cluster).find((c) => !sources.has(c)) ?? closest.find((c) => !sources.has(c))) : undefined;
      const itemSource = newest?.source;
      const rounds = itemSource ? itemSource.depth : closest.reduce((max, c) => Math.max(max, c.depth), 0);
      resolve({ target, closest, cluster, item: newest?.item, itemSource, copies, cacheCandidate, rounds, requests, failures, timedOut, listenerErrors });
    };

    const onAbort = (): void => {
      if (finished) return;
      finished = true;
      deps.clock.clearTimeout(timer);
      openUp();
      inner.abort();
      reject(new AbortError('the lookup was aborted'));
    };

    const handleReply = (peer: Candidate, reply: Reply): void => {
      if (reply.type === 'error') {
        peer.state = 'failed';
        failures++;
        emit({ type: 'failed', peer, reason: `error ${reply.code}: ${reply.title}` });
        return;
      }
      if (reply.type === 'value') {
        if (kind === 'value') {
          const problem = bytesEqual(reply.item.key, target)
            ? checkItem(reply.item, deps.clock.now())
            : { code: 7, message: 'the value is stored under a different key than the one asked for' };
          if (!problem) {
            peer.state = 'answered';
            copies.push({ item: reply.item, source: peer });
            emit({ type: 'value', peer, item: reply.item });
            if (!params.collect) finish();
            return;
          }
          if (problem.code === 6 || problem.code === 7) {
            peer.state = 'failed';
            failures++;
            deps.onForgedValue(peer, problem.code);
            emit({ type: 'bad-value', peer, code: problem.code, reason: problem.message });
            return;
          }
        }
        // An expired value (or a value to a FindNode) answers without contacts.
        peer.state = 'answered';
        emit({ type: 'answered', peer, newContacts: 0 });
        return;
      }
      peer.state = 'answered';
      let added = 0;
      if (reply.type === 'nodes') {
        for (const contact of reply.nodes as WireContact[]) if (consider(contact, peer.depth + 1)) added++;
      }
      emit({ type: 'answered', peer, newContacts: added });
    };

    const step = (): void => {
      if (finished) return;
      if (params.shouldStop?.()) return finish();
      let best = liveClosest();
      if (params.onClosest) {
        try {
          params.onClosest(best, clusterOfLast, control);
        } catch {
          listenerErrors++;
        }
        if (finished) return;
      }
      const head = best[0];
      if (head && (announced === undefined || compareDistance(head.id, announced.id, target) < 0)) {
        announced = head;
        emit({ type: 'closer', peer: head, distancePrefixBits: commonPrefixLength(head.id, target) });
        if (finished) return;
      }
      for (;;) {
        if (finished) return;
        if (inFlight >= (single ? 1 : alpha)) break;
        const c = best.find((x) => x.state === 'new');
        if (!c) break;
        // A candidate another path holds is skipped, which lets the next closest into the K.
        if (params.claim && !params.claim(c)) {
          c.state = 'skipped';
          best = liveClosest();
          continue;
        }
        c.state = 'asked';
        inFlight++;
        requests++;
        emit({ type: 'asked', peer: c });
        if (finished) return;
        if (single) {
          hedgeTimer = deps.clock.setTimeout(() => {
            hedgeTimer = undefined;
            if (finished || !single) return;
            single = false;
            step();
          }, params.hedgeMs!(c));
        }
        deps.query(c, kind, target, inner.signal).then(
          (reply) => {
            inFlight--;
            if (finished) return;
            openUp();
            handleReply(c, reply);
            step();
          },
          (error: Error) => {
            inFlight--;
            if (finished) return;
            openUp();
            // A candidate the caller's own request proved alive stays so.
            if (c.state !== 'answered') {
              c.state = 'failed';
              failures++;
              emit({ type: 'failed', peer: c, reason: error.message });
            }
            step();
          },
        );
      }
      if (finished) return;
      const done = best.every((c) => c.state === 'answered') || (inFlight === 0 && claimed.size === 0 && !best.some((c) => c.state === 'new'));
      if (done) finish();
    };

    const control: LookupControl = {
      claim(c) {
        if (finished || c.state !== 'new') return false;
        c.state = 'asked';
        claimed.add(c);
        return true;
      },
      settle(c, answered) {
        if (finished || !claimed.delete(c)) return;
        if (answered) c.state = 'answered';
        else {
          c.state = 'failed';
          failures++;
        }
        step();
      },
    };

    if (params.signal?.aborted) {
      reject(new AbortError('the lookup was aborted before it started'));
      return;
    }
    params.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = deps.clock.setTimeout(() => finish(true), params.timeoutMs);
    for (const seed of params.seeds) consider(seed, 1);
    step();
  });
