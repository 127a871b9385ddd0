/**
 * The pure lookup against fake networks given as data: a table of who knows
 * whom (each peer's Nodes answer), plus which peers are slow, silent or hold a
 * value. Peers are named by rank: p0 is the closest to the target, p1 the next.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { sha512 } from '../../src/crypto/hash.js';
import { Identity } from '../../src/crypto/identity.js';
import { disjointLookup } from '../../src/dht/disjoint-lookup.js';
import { AbortError, type Candidate, lookup, type LookupEvent, type LookupKind, type LookupParams, type LookupResult } from '../../src/dht/lookup.js';
import { createItem, type Item, itemKey } from '../../src/protocol/item.js';
import type { Envelope, Reply } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { compareDistance } from '../../src/routing/distance.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';

const K = 4;
const ALPHA = 3;
const LATENCY_MS = 10;
const SILENCE_MS = 1000;
const POOL_SIZE = 48;

const publisher = Identity.fromSeed(Buffer.alloc(32, 0x50));
const TARGET = itemKey(publisher.publicKey, 'greeting');
const searcher = Identity.fromSeed(Buffer.alloc(32, 0x51));

interface Peer {
  readonly name: string;
  readonly identity: Identity;
  readonly id: Buffer;
  readonly idHex: string;
  readonly host: string;
  readonly port: number;
}

/** POOL_SIZE peers sorted by distance to TARGET and named by rank. */
const PEERS: readonly Peer[] = Array.from({ length: POOL_SIZE }, (_, i) => Identity.fromSeed(sha512(Buffer.from(`peer ${i}`)).subarray(0, 32)))
  .sort((a, b) => compareDistance(a.nodeId, b.nodeId, TARGET))
  .map((identity, rank) => ({ name: `p${rank}`, identity, id: identity.nodeId, idHex: toHex(identity.nodeId), host: `10.0.0.${rank + 1}`, port: 1908 }));
const BY_NAME = new Map(PEERS.map((p) => [p.name, p]));
const BY_ID = new Map(PEERS.map((p) => [p.idHex, p]));

const peer = (name: string): Peer => {
  const found = BY_NAME.get(name);
  if (!found) throw new Error(`no peer named ${name}`);
  return found;
};
const nameOf = (c: Pick<Candidate, 'idHex'>): string => BY_ID.get(c.idHex)?.name ?? `unknown ${c.idHex.slice(0, 8)}`;
const names = (cs: ReadonlyArray<Pick<Candidate, 'idHex'>>): string[] => cs.map(nameOf);
/** p{from} … p{to}, both included. */
const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `p${from + i}`);

const T0_MS = Date.UTC(2026, 0, 1);
const realItem = createItem(publisher, { name: 'greeting', value: '"hello"', timestamp: T0_MS - 1000 });
/** A genuine item, but stored under another name: served for TARGET it is a key mismatch (7). */
const otherKeyItem = createItem(publisher, { name: 'another name', value: '"hello"', timestamp: T0_MS - 1000 });
/** TARGET's item with one bit of the signature flipped: unverifiable provenance (6). */
const badSignatureItem: Item = { ...realItem, signature: Buffer.from(realItem.signature).fill(realItem.signature[0] ^ 1, 0, 1) };
const expiredItem = createItem(publisher, { name: 'greeting', value: '"old"', timestamp: T0_MS - 5000, expires: T0_MS - 2000 });

interface Topology {
  /** Who knows whom: the contacts each peer returns to FindNode (and FindValue when it has no value). */
  readonly knows: Readonly<Record<string, readonly string[]>>;
  /** Reply delay per peer; LATENCY_MS for the others. */
  readonly latencyMs?: Readonly<Record<string, number>>;
  /** Peers that never answer: their query rejects after SILENCE_MS. */
  readonly silent?: readonly string[];
  /** Peers that answer FindValue with this item. */
  readonly values?: Readonly<Record<string, Item>>;
  /** Peers that answer with an Error message. */
  readonly errors?: readonly string[];
}

const envelopeOf = (p: Peer): Envelope => ({
  requestId: Buffer.alloc(16),
  senderPublicKey: p.identity.publicKey,
  replyPort: p.port,
  version: PROTOCOL_VERSION,
  recipientId: searcher.nodeId,
});

/** A `query` that answers from the topology through clock timers, and records what it was asked. */
class FakeNetwork {
  readonly asked: string[] = [];
  readonly aborted: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly clock: ManualClock,
    private readonly topology: Topology,
  ) {}

  readonly query = (candidate: Candidate, kind: LookupKind, target: Buffer, signal: AbortSignal): Promise<Reply> => {
    const p = peer(nameOf(candidate));
    expect(toHex(target)).toBe(toHex(TARGET));
    this.asked.push(p.name);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<Reply>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        this.inFlight--;
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (!settle()) return;
        this.clock.clearTimeout(timer);
        this.aborted.push(p.name);
        reject(new Error('aborted'));
      };
      const silent = this.topology.silent?.includes(p.name) ?? false;
      const delayMs = silent ? SILENCE_MS : (this.topology.latencyMs?.[p.name] ?? LATENCY_MS);
      const timer = this.clock.setTimeout(() => {
        if (!settle()) return;
        if (silent) reject(new Error(`${p.name} did not answer`));
        else resolve(this.replyOf(p, kind));
      }, delayMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };

  private replyOf(p: Peer, kind: LookupKind): Reply {
    const envelope = envelopeOf(p);
    if (this.topology.errors?.includes(p.name)) return { ...envelope, type: 'error', code: 3, title: 'Internal error', details: {} };
    const item = this.topology.values?.[p.name];
    if (kind === 'value' && item) return { ...envelope, type: 'value', item };
    const nodes = (this.topology.knows[p.name] ?? []).map((n) => ({ publicKey: peer(n).identity.publicKey, host: peer(n).host, port: peer(n).port }));
    return { ...envelope, type: 'nodes', nodes };
  }
}

interface Run {
  readonly clock: ManualClock;
  readonly net: FakeNetwork;
  readonly events: LookupEvent[];
  readonly forged: Array<{ peer: string; code: number }>;
  readonly promise: Promise<LookupResult>;
}

interface RunOptions extends Partial<Omit<LookupParams, 'seeds'>> {
  readonly seeds: readonly string[];
  readonly blacklisted?: readonly string[];
}

const start = (topology: Topology, options: RunOptions): Run => {
  const clock = new ManualClock(T0_MS);
  const net = new FakeNetwork(clock, topology);
  const events: LookupEvent[] = [];
  const forged: Array<{ peer: string; code: number }> = [];
  const blacklisted = new Set((options.blacklisted ?? []).map((n) => peer(n).idHex));
  const { seeds, blacklisted: _unused, ...params } = options;
  const promise = lookup(
    {
      ownId: searcher.nodeId,
      clock,
      query: net.query,
      isBlacklisted: (id) => blacklisted.has(toHex(id)),
      onForgedValue: (c, code) => forged.push({ peer: nameOf(c), code }),
    },
    {
      target: TARGET,
      kind: 'node',
      k: K,
      alpha: ALPHA,
      timeoutMs: 60_000,
      onEvent: (event) => events.push(event),
      ...params,
      seeds: seeds.map((n) => {
        const p = peer(n);
        return { id: p.id, idHex: p.idHex, publicKey: p.identity.publicKey, host: p.host, port: p.port };
      }),
    },
  );
  return { clock, net, events, forged, promise };
};

const runLookup = async (topology: Topology, options: RunOptions): Promise<Run & { result: LookupResult }> => {
  const run = start(topology, options);
  const result = await run.clock.run(run.promise);
  return { ...run, result };
};

const describeEvent = (e: LookupEvent): string => {
  switch (e.type) {
    case 'answered':
      return `answered ${nameOf(e.peer)} +${e.newContacts}`;
    case 'bad-value':
      return `bad-value ${nameOf(e.peer)} ${e.code}`;
    default:
      return `${e.type} ${nameOf(e.peer)}`;
  }
};

describe('lookup', () => {
  it('ends at once with nothing when it has no seeds', async () => {
    const { result, net } = await runLookup({ knows: {} }, { seeds: [] });
    expect(result.closest).toEqual([]);
    expect(result.requests).toBe(0);
    expect(result.timedOut).toBe(false);
    expect(net.asked).toEqual([]);
  });

  it('never has more than ALPHA queries in flight, and keeps ALPHA busy while it has candidates', async () => {
    const latencyMs = Object.fromEntries(PEERS.map((p, i) => [p.name, 5 + ((i * 7) % 23)]));
    const knows = Object.fromEntries(PEERS.map((p, i) => [p.name, [PEERS[(i + 5) % POOL_SIZE].name, PEERS[(i * 3 + 1) % POOL_SIZE].name]]));
    knows.p40 = range(10, 39);
    const { result, net } = await runLookup({ knows, latencyMs }, { seeds: ['p40'], k: 12 });
    expect(net.maxInFlight).toBe(ALPHA);
    expect(result.requests).toBe(net.asked.length);
    expect(result.requests).toBeGreaterThan(12);
  });

  it('asks one peer at a time when ALPHA is one', async () => {
    const { net, result } = await runLookup({ knows: { p10: range(0, 9) } }, { seeds: ['p10'], alpha: 1 });
    expect(net.maxInFlight).toBe(1);
    expect(names(result.closest)).toEqual(range(0, 3));
  });

  it('with a hedge, a FindValue asks its closest seed alone and stops at its value', async () => {
    const { net, result } = await runLookup({ knows: {}, values: { p0: realItem } }, { seeds: ['p0', 'p1', 'p2', 'p3'], kind: 'value', hedgeMs: () => 100 });
    expect(net.asked).toEqual(['p0']);
    expect(net.maxInFlight).toBe(1);
    expect(result.item).toEqual(realItem);
  });

  it('with a hedge, a FindValue opens up to ALPHA once its first peer answers without the value', async () => {
    const { net, result } = await runLookup({ knows: { p0: range(1, 6) }, values: { p3: realItem } }, { seeds: ['p0', 'p9', 'p10'], kind: 'value', hedgeMs: () => 100 });
    expect(net.asked.slice(0, 4)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(net.maxInFlight).toBe(ALPHA);
    expect(result.item).toEqual(realItem);
  });

  it('with a hedge, a FindValue opens up to ALPHA when its first peer keeps it waiting past the hedge', async () => {
    const { net, result } = await runLookup({ knows: {}, silent: ['p0'], values: { p1: realItem } }, { seeds: ['p0', 'p1', 'p2'], kind: 'value', hedgeMs: () => 50 });
    expect(net.asked).toEqual(['p0', 'p1', 'p2']);
    expect(result.item).toEqual(realItem);
  });

  it('a FindNode ignores the hedge: ALPHA from the start', async () => {
    const { net } = await runLookup({ knows: {} }, { seeds: ['p0', 'p1', 'p2', 'p3'], hedgeMs: () => 100 });
    expect(net.maxInFlight).toBe(ALPHA);
  });

  it('keeps only the K closest in its shortlist: farther peers it hears of are never asked', async () => {
    const { result, net } = await runLookup({ knows: { p19: range(0, 18) } }, { seeds: ['p19'] });
    expect(names(result.closest)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(net.asked.slice().sort()).toEqual(['p0', 'p1', 'p19', 'p2', 'p3']);
    expect(result.requests).toBe(5);
    expect(result.failures).toBe(0);
    expect(result.timedOut).toBe(false);
  });

  it('stops once the K closest seen have all answered, though their answers name farther peers', async () => {
    const farther = range(4, 20);
    const knows = { p0: farther, p1: farther, p2: farther, p3: farther };
    const { result, net } = await runLookup({ knows }, { seeds: ['p3', 'p2', 'p1', 'p0'] });
    expect(net.asked.slice().sort()).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(names(result.closest)).toEqual(['p0', 'p1', 'p2', 'p3']);
  });

  it('asks the closest candidates first', async () => {
    const { net } = await runLookup({ knows: {} }, { seeds: ['p7', 'p2', 'p5', 'p0', 'p9', 'p1'] });
    expect(net.asked.slice(0, ALPHA)).toEqual(['p0', 'p1', 'p2']);
  });

  it('returns without waiting for a slower, farther peer once the K closest have answered', async () => {
    const topology: Topology = { knows: { p8: ['p0', 'p1'] }, latencyMs: { p5: 5000 } };
    const { result, net, clock } = await runLookup(topology, { seeds: ['p5', 'p8'], k: 2, alpha: 2 });
    expect(names(result.closest)).toEqual(['p0', 'p1']);
    expect(clock.now() - T0_MS).toBeLessThan(5000);
    expect(net.aborted).toEqual(['p5']);
  });

  it('drops a peer that does not answer and still returns the K closest that did', async () => {
    const topology: Topology = { knows: { p10: range(0, 9) }, silent: ['p1'] };
    const { result, net, events } = await runLookup(topology, { seeds: ['p10'] });
    expect(names(result.closest)).toEqual(['p0', 'p2', 'p3', 'p4']);
    expect(result.failures).toBe(1);
    expect(net.asked).toContain('p4');
    expect(net.asked).not.toContain('p5');
    expect(events.filter((e) => e.type === 'failed').map(describeEvent)).toEqual(['failed p1']);
  });

  it('drops a peer that answers with an Error message', async () => {
    const topology: Topology = { knows: { p10: range(0, 9) }, errors: ['p0'] };
    const { result, events } = await runLookup(topology, { seeds: ['p10'] });
    expect(names(result.closest)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(result.failures).toBe(1);
    const failed = events.find((e) => e.type === 'failed');
    expect(failed?.type === 'failed' && failed.reason).toMatch(/error 3/);
  });

  it('returns the peers that answered, with timedOut set, when the overall timeout passes first', async () => {
    const topology: Topology = { knows: { p10: range(0, 3) }, latencyMs: { p0: 10_000, p1: 10_000, p2: 10_000, p3: 10_000 } };
    const { result, net, clock } = await runLookup(topology, { seeds: ['p10'], timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    expect(names(result.closest)).toEqual(['p10']);
    expect(clock.now() - T0_MS).toBe(500);
    expect(net.aborted.slice().sort()).toEqual(['p0', 'p1', 'p2']);
    expect(net.inFlight).toBe(0);
  });

  it('never asks a blacklisted peer, nor any peer twice', async () => {
    const topology: Topology = { knows: { p10: ['p0', 'p1', 'p2', 'p10'], p0: ['p1', 'p10'], p2: ['p0'] } };
    const run = start(topology, { seeds: ['p10', 'p1'], blacklisted: ['p1'] });
    const result = await run.clock.run(run.promise);
    expect(run.net.asked.slice().sort()).toEqual(['p0', 'p10', 'p2']);
    expect(names(result.closest)).toEqual(['p0', 'p2', 'p10']);
  });

  it('never asks itself when a peer names it', async () => {
    const clock = new ManualClock(T0_MS);
    const asked: string[] = [];
    const self = PEERS[3];
    const result = await clock.run(
      lookup(
        {
          ownId: self.id,
          clock,
          isBlacklisted: () => false,
          onForgedValue: () => undefined,
          query: async (c) => {
            asked.push(nameOf(c));
            const p = peer(nameOf(c));
            return { ...envelopeOf(p), type: 'nodes', nodes: [{ publicKey: self.identity.publicKey, host: self.host, port: self.port }] };
          },
        },
        { target: TARGET, kind: 'node', k: K, alpha: ALPHA, timeoutMs: 1000, seeds: [PEERS[9]].map((p) => ({ id: p.id, idHex: p.idHex, publicKey: p.identity.publicKey, host: p.host, port: p.port })) },
      ),
    );
    expect(asked).toEqual(['p9']);
    expect(names(result.closest)).toEqual(['p9']);
  });

  describe('for a value', () => {
    it('stops at the first valid value and starts no query after it', async () => {
      const topology: Topology = { knows: { p20: range(0, 9), p0: range(10, 19), p1: range(10, 19) }, values: { p2: realItem } };
      const run = start(topology, { seeds: ['p20'], kind: 'value', k: 8 });
      const result = await run.clock.run(run.promise);
      expect(result.item).toEqual(realItem);
      expect(nameOf(result.itemSource!)).toBe('p2');
      const askedAtValue = run.net.asked.length;
      expect(run.events.at(-1)?.type).toBe('value');
      await run.clock.advance(60_000);
      expect(run.net.asked).toHaveLength(askedAtValue);
      expect(run.net.asked).toEqual(['p20', 'p0', 'p1', 'p2', 'p3', 'p4']);
      expect(run.net.aborted.slice().sort()).toEqual(['p3', 'p4']);
      expect(run.net.inFlight).toBe(0);
    });

    it('names the closest peer that answered without the value as the place to cache it', async () => {
      const topology: Topology = { knows: { p20: ['p1', 'p3', 'p5'], p1: [], p3: ['p0'] }, values: { p5: realItem }, latencyMs: { p5: 50 } };
      const { result } = await runLookup(topology, { seeds: ['p20'], kind: 'value' });
      expect(nameOf(result.itemSource!)).toBe('p5');
      expect(nameOf(result.cacheCandidate!)).toBe('p0');
    });

    it('reports a value under the wrong key or with a bad signature as forged, and goes on to find the real one', async () => {
      const topology: Topology = {
        knows: { p20: ['p0', 'p1', 'p4'], p4: ['p2'] },
        values: { p0: otherKeyItem, p1: badSignatureItem, p2: realItem },
      };
      const { result, forged, events } = await runLookup(topology, { seeds: ['p20'], kind: 'value' });
      expect(forged).toEqual([
        { peer: 'p0', code: 7 },
        { peer: 'p1', code: 6 },
      ]);
      expect(events.filter((e) => e.type === 'bad-value').map(describeEvent)).toEqual(['bad-value p0 7', 'bad-value p1 6']);
      expect(result.item).toEqual(realItem);
      expect(nameOf(result.itemSource!)).toBe('p2');
      expect(names(result.closest)).not.toContain('p0');
      expect(names(result.closest)).not.toContain('p1');
      expect(result.failures).toBe(2);
    });

    it('ignores an expired value without calling it forged, and finds the live one elsewhere', async () => {
      const topology: Topology = { knows: { p20: ['p0', 'p4'], p4: ['p2'] }, values: { p0: expiredItem, p2: realItem } };
      const { result, forged } = await runLookup(topology, { seeds: ['p20'], kind: 'value' });
      expect(forged).toEqual([]);
      expect(result.item).toEqual(realItem);
      expect(nameOf(result.itemSource!)).toBe('p2');
      expect(names(result.closest)).toContain('p0');
    });

    it('finds nothing when the only copy has expired', async () => {
      const { result, forged } = await runLookup({ knows: { p20: ['p0', 'p4'] }, values: { p0: expiredItem } }, { seeds: ['p20'], kind: 'value' });
      expect(result.item).toBeUndefined();
      expect(result.itemSource).toBeUndefined();
      expect(result.cacheCandidate).toBeUndefined();
      expect(forged).toEqual([]);
      expect(names(result.closest)).toEqual(['p0', 'p4', 'p20']);
    });

    it('counts rounds as the depth of the peer that served the value', async () => {
      const topology: Topology = { knows: { p9: ['p6'], p6: ['p3'], p3: ['p0'] }, values: { p0: realItem } };
      const { result } = await runLookup(topology, { seeds: ['p9'], kind: 'value' });
      expect(nameOf(result.itemSource!)).toBe('p0');
      expect(result.rounds).toBe(4);
      expect(result.requests).toBe(4);
    });

    it('counts rounds of a node lookup as the depth of the deepest of the K closest', async () => {
      const { result } = await runLookup({ knows: { p9: ['p6'], p6: ['p3'], p3: ['p0'] } }, { seeds: ['p9'] });
      expect(names(result.closest)).toEqual(['p0', 'p3', 'p6', 'p9']);
      expect(result.rounds).toBe(4);
    });
  });

  it('emits asked, answered, closer and value events in the order they happen', async () => {
    const topology: Topology = { knows: { p5: ['p1', 'p3'], p3: ['p0'] }, values: { p0: realItem } };
    const { events } = await runLookup(topology, { seeds: ['p5'], kind: 'value' });
    expect(events.map(describeEvent)).toEqual([
      'closer p5',
      'asked p5',
      'answered p5 +2',
      'closer p1',
      'asked p1',
      'asked p3',
      'answered p1 +0',
      'answered p3 +1',
      'closer p0',
      'asked p0',
      'value p0',
    ]);
  });

  it('emits failed for a peer that does not answer, after it was asked', async () => {
    const { events } = await runLookup({ knows: { p5: ['p1', 'p7'] }, silent: ['p1'] }, { seeds: ['p5'] });
    expect(events.filter((e) => e.type !== 'closer').map(describeEvent)).toEqual(['asked p5', 'answered p5 +2', 'asked p1', 'asked p7', 'answered p7 +0', 'failed p1']);
  });

  // Exposes a bug in src/dht/lookup.ts (see the report): when the closest peer
  // fails, step() announces the farther peer now at the head as 'closer'.
  it('emits closer only for a peer closer than every peer announced before', async () => {
    const { events } = await runLookup({ knows: { p5: ['p1'] }, silent: ['p1'] }, { seeds: ['p5'] });
    expect(events.map(describeEvent)).toEqual(['closer p5', 'asked p5', 'answered p5 +1', 'closer p1', 'asked p1', 'failed p1']);
  });

  // Exposes a bug in src/dht/lookup.ts (see the report): a listener that
  // throws escapes emit(); on the first step it rejects the lookup, later it
  // becomes an unhandled rejection in a query callback and stalls the lookup.
  it('finishes as usual when an event listener throws', async () => {
    const topology: Topology = { knows: { p19: range(0, 18) } };
    const quiet = await runLookup(topology, { seeds: ['p19'] });
    const run = start(topology, {
      seeds: ['p19'],
      onEvent: () => {
        throw new Error('listener failed');
      },
    });
    const result = await run.clock.run(run.promise);
    expect(names(result.closest)).toEqual(names(quiet.result.closest));
    expect(result.timedOut).toBe(false);
  });

  describe('with an AbortSignal', () => {
    it('rejects with AbortError when aborted mid-lookup, and cancels its queries', async () => {
      const controller = new AbortController();
      const run = start({ knows: { p10: range(0, 9) }, latencyMs: { p0: 100, p1: 100, p2: 100 } }, { seeds: ['p10'], signal: controller.signal });
      const outcome = run.promise.then(
        () => 'resolved',
        (error: unknown) => error,
      );
      await run.clock.advance(50);
      expect(run.net.inFlight).toBe(ALPHA);
      controller.abort();
      const error = await outcome;
      expect(error).toBeInstanceOf(AbortError);
      expect((error as Error).name).toBe('AbortError');
      expect(run.net.aborted.slice().sort()).toEqual(['p0', 'p1', 'p2']);
      const eventsAtAbort = run.events.length;
      await run.clock.advance(1000);
      expect(run.events).toHaveLength(eventsAtAbort);
      expect(run.clock.pendingTimers).toBe(0);
    });

    // Exposes a bug in src/dht/lookup.ts (see the report): step() does not
    // check `finished` inside its loop, so an abort from an event listener
    // (the signal fires synchronously) is followed by more queries and events.
    it('starts no query and emits no event after an event listener aborts it', async () => {
      const controller = new AbortController();
      const seen: string[] = [];
      const run = start(
        { knows: {} },
        {
          seeds: ['p0', 'p1', 'p2'],
          signal: controller.signal,
          onEvent: (e) => {
            seen.push(describeEvent(e));
            if (e.type === 'asked') controller.abort();
          },
        },
      );
      await expect(run.promise).rejects.toBeInstanceOf(AbortError);
      await run.clock.advance(SILENCE_MS);
      expect(seen).toEqual(['closer p0', 'asked p0']);
      expect(run.net.asked.length).toBeLessThanOrEqual(1);
    });

    it('rejects with AbortError, asking nobody, when the signal is already aborted', async () => {
      const run = start({ knows: {} }, { seeds: ['p1'], signal: AbortSignal.abort() });
      await expect(run.promise).rejects.toBeInstanceOf(AbortError);
      expect(run.net.asked).toEqual([]);
    });
  });

  describe('on random topologies', () => {
    const SEED = Number(process.env.FC_SEED ?? 1908);

    const topologyArb = fc
      .record({
        size: fc.integer({ min: 1, max: 30 }),
        k: fc.integer({ min: 1, max: 8 }),
        alpha: fc.integer({ min: 1, max: 4 }),
        links: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 120 }),
        seeds: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        silent: fc.array(fc.nat(), { maxLength: 6 }),
        latencies: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: POOL_SIZE, maxLength: POOL_SIZE }),
        shuffle: fc.array(fc.nat(), { minLength: POOL_SIZE, maxLength: POOL_SIZE }),
      })
      .map(({ size, k, alpha, links, seeds, silent, latencies, shuffle }) => {
        // A random subset of the pool, so ranks are not simply 0..size-1.
        const chosen = PEERS.map((p, i) => ({ p, key: shuffle[i] }))
          .sort((a, b) => a.key - b.key)
          .slice(0, size)
          .map((x) => x.p.name);
        const pick = (n: number): string => chosen[n % size];
        const knows: Record<string, string[]> = {};
        for (const [from, to] of links) (knows[pick(from)] ??= []).push(pick(to));
        const latencyMs = Object.fromEntries(chosen.map((n, i) => [n, latencies[i]]));
        return { k, alpha, knows, latencyMs, seeds: [...new Set(seeds.map(pick))], silent: [...new Set(silent.map(pick))] };
      });

    it(`returns answered peers sorted by distance, without duplicates, never over ALPHA in flight, and fewer than K only when every reachable peer was asked (fast-check seed ${SEED})`, async () => {
      await fc.assert(
        fc.asyncProperty(topologyArb, async ({ k, alpha, knows, latencyMs, seeds, silent }) => {
          const { result, net, events } = await runLookup({ knows, latencyMs, silent }, { seeds, k, alpha, timeoutMs: 1e9 });
          expect(result.timedOut).toBe(false);
          expect(net.maxInFlight).toBeLessThanOrEqual(alpha);
          expect(new Set(net.asked).size).toBe(net.asked.length);
          expect(result.requests).toBe(net.asked.length);

          const closest = names(result.closest);
          expect(new Set(closest).size).toBe(closest.length);
          expect(closest.length).toBeLessThanOrEqual(k);
          for (let i = 1; i < result.closest.length; i++) expect(compareDistance(result.closest[i - 1].id, result.closest[i].id, TARGET)).toBeLessThan(0);
          for (const n of closest) expect(silent).not.toContain(n);

          // Reachable: the seeds, and whatever an answering peer names, transitively.
          const reachable = new Set(seeds);
          const queue = [...seeds];
          while (queue.length > 0) {
            const n = queue.shift()!;
            if (silent.includes(n)) continue;
            for (const m of knows[n] ?? []) {
              if (!reachable.has(m)) {
                reachable.add(m);
                queue.push(m);
              }
            }
          }
          if (closest.length < k) {
            expect(new Set(net.asked)).toEqual(reachable);
            expect(new Set(closest)).toEqual(new Set([...reachable].filter((n) => !silent.includes(n))));
          }

          // Each peer is asked once, before it answers or fails.
          const state = new Map<string, string>();
          for (const e of events) {
            const n = nameOf(e.peer);
            if (e.type === 'asked') {
              expect(state.has(n)).toBe(false);
              state.set(n, 'asked');
            } else if (e.type !== 'closer') {
              expect(state.get(n)).toBe('asked');
              state.set(n, e.type);
            }
          }
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  });
});

const newer = createItem(publisher, { name: 'greeting', value: '"hello again"', timestamp: T0_MS - 500 });

describe('lookup hooks for S/Kademlia', () => {
  it('counts at most maxPerGroup candidates of one network among the K closest, the rest waiting behind them', async () => {
    const sybils = new Set(['p0', 'p1', 'p2', 'p3']);
    const groupOf = (address: { host: string }): string => {
      const p = PEERS.find((x) => x.host === address.host)!;
      return sybils.has(p.name) ? 'one operator' : p.name;
    };
    const { result, net } = await runLookup({ knows: { p8: range(0, 7) } }, { seeds: ['p8'], groupOf, maxPerGroup: 2 });
    expect(names(result.closest)).toEqual(['p0', 'p1', 'p4', 'p5']);
    expect(net.asked).not.toContain('p2');
    expect(net.asked).not.toContain('p3');
  });

  it('collects every valid copy when asked to, and answers with the newest version', async () => {
    const { result } = await runLookup(
      { knows: { p6: range(0, 5) }, values: { p0: realItem, p2: newer, p3: realItem } },
      { seeds: ['p6'], kind: 'value', collect: true },
    );
    // The K closest (p0 to p3) all answered, p4 and p5 were never needed.
    expect(result.copies.map((c) => nameOf(c.source)).sort()).toEqual(['p0', 'p2', 'p3']);
    expect(result.item?.value).toBe('"hello again"');
    expect(nameOf(result.itemSource!)).toBe('p2');
    expect(nameOf(result.cacheCandidate!)).toBe('p1');
  });

  it('ends at once when shouldStop says so', async () => {
    let copies = 0;
    const { result } = await runLookup(
      { knows: { p6: range(0, 5) }, values: { p0: realItem, p2: newer, p4: realItem } },
      { seeds: ['p6'], kind: 'value', collect: true, shouldStop: () => copies >= 1, onEvent: (e) => e.type === 'value' && copies++ },
    );
    expect(result.copies).toHaveLength(1);
  });

  it('never asks a candidate it may not claim, and lets the next closest in its place', async () => {
    const { result, net } = await runLookup({ knows: { p6: range(0, 5) } }, { seeds: ['p6'], claim: (c) => nameOf(c) !== 'p1' });
    expect(net.asked).not.toContain('p1');
    expect(names(result.closest)).toEqual(['p0', 'p2', 'p3', 'p4']);
  });

  it('never makes a candidate of an id the admissibility check refuses', async () => {
    const clock = new ManualClock(T0_MS);
    const net = new FakeNetwork(clock, { knows: { p6: range(0, 5) } });
    const refused = new Set([peer('p0').idHex, peer('p2').idHex]);
    const p6 = peer('p6');
    const result = await clock.run(
      lookup(
        { ownId: searcher.nodeId, clock, query: net.query, isBlacklisted: () => false, isAdmissible: (id) => !refused.has(toHex(id)), onForgedValue: () => undefined },
        { target: TARGET, kind: 'node', k: K, alpha: ALPHA, timeoutMs: 60_000, seeds: [{ id: p6.id, idHex: p6.idHex, publicKey: p6.identity.publicKey, host: p6.host, port: p6.port }] },
      ),
    );
    expect(net.asked).not.toContain('p0');
    expect(net.asked).not.toContain('p2');
    expect(names(result.closest)).toEqual(['p1', 'p3', 'p4', 'p5']);
  });
});

describe('a caller settling candidates itself (onClosest)', () => {
  /**
   * A caller that, once the closest candidate has answered, claims every
   * candidate of the K closest not yet asked and "asks" it itself, its answer
   * coming `callerMs` later (or failing, for the names in `callerFails`).
   */
  const claimingCaller = (clock: ManualClock, callerMs: number, callerFails: readonly string[] = []) => {
    const claimed: string[] = [];
    const onClosest: NonNullable<LookupParams['onClosest']> = (closest, _cluster, control) => {
      if (closest[0]?.state !== 'answered') return;
      for (const c of closest) {
        if (!control.claim(c)) continue;
        claimed.push(nameOf(c));
        clock.setTimeout(() => control.settle(c, !callerFails.includes(nameOf(c))), callerMs);
      }
    };
    return { claimed, onClosest };
  };

  it('never asks a claimed candidate, and ends once the caller has settled every one of the K closest', async () => {
    const clock = new ManualClock(T0_MS);
    const net = new FakeNetwork(clock, { knows: { p6: range(0, 5), p0: range(1, 5) } });
    const caller = claimingCaller(clock, 5);
    const p6 = peer('p6');
    const result = await clock.run(
      lookup(
        { ownId: searcher.nodeId, clock, query: net.query, isBlacklisted: () => false, onForgedValue: () => undefined },
        { target: TARGET, kind: 'node', k: K, alpha: ALPHA, timeoutMs: 60_000, onClosest: caller.onClosest, seeds: [{ id: p6.id, idHex: p6.idHex, publicKey: p6.identity.publicKey, host: p6.host, port: p6.port }] },
      ),
    );
    expect(caller.claimed).toEqual(['p3']);
    for (const name of caller.claimed) expect(net.asked).not.toContain(name);
    expect(names(result.closest)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(net.maxInFlight).toBeLessThanOrEqual(ALPHA);
  });

  it('drops a claimed candidate whose settling failed, and lets the next closest in its place', async () => {
    const clock = new ManualClock(T0_MS);
    const net = new FakeNetwork(clock, { knows: { p6: range(0, 5), p0: range(1, 5) } });
    // p0, p1 and p2 are asked first (ALPHA); once p0 has answered the caller claims p3, then p4 in its place.
    const caller = claimingCaller(clock, 5, ['p3']);
    const p6 = peer('p6');
    const result = await clock.run(
      lookup(
        { ownId: searcher.nodeId, clock, query: net.query, isBlacklisted: () => false, onForgedValue: () => undefined },
        { target: TARGET, kind: 'node', k: K, alpha: ALPHA, timeoutMs: 60_000, onClosest: caller.onClosest, seeds: [{ id: p6.id, idHex: p6.idHex, publicKey: p6.identity.publicKey, host: p6.host, port: p6.port }] },
      ),
    );
    expect(caller.claimed).toEqual(['p3', 'p4']);
    expect(names(result.closest)).toEqual(['p0', 'p1', 'p2', 'p4']);
    expect(result.failures).toBeGreaterThanOrEqual(1);
  });

  it('waits for a claimed candidate the caller has not settled yet, however long', async () => {
    const clock = new ManualClock(T0_MS);
    const net = new FakeNetwork(clock, { knows: { p6: range(0, 5), p0: range(1, 5) } });
    const caller = claimingCaller(clock, 500);
    const p6 = peer('p6');
    const started = clock.now();
    const result = await clock.run(
      lookup(
        { ownId: searcher.nodeId, clock, query: net.query, isBlacklisted: () => false, onForgedValue: () => undefined },
        { target: TARGET, kind: 'node', k: K, alpha: ALPHA, timeoutMs: 60_000, onClosest: caller.onClosest, seeds: [{ id: p6.id, idHex: p6.idHex, publicKey: p6.identity.publicKey, host: p6.host, port: p6.port }] },
      ),
    );
    expect(clock.now() - started).toBeGreaterThanOrEqual(500);
    expect(names(result.closest)).toEqual(['p0', 'p1', 'p2', 'p3']);
  });
});

describe('disjoint lookups', () => {
  const seedsOf = (names: readonly string[]) =>
    names.map((n) => {
      const p = peer(n);
      return { id: p.id, idHex: p.idHex, publicKey: p.identity.publicKey, host: p.host, port: p.port };
    });
  const runDisjoint = async (topology: Topology, seeds: readonly string[], paths: number, quorum: number, kind: LookupKind = 'node') => {
    const clock = new ManualClock(T0_MS);
    const net = new FakeNetwork(clock, topology);
    const events: LookupEvent[] = [];
    const result = await clock.run(
      disjointLookup(
        { ownId: searcher.nodeId, clock, query: net.query, isBlacklisted: () => false, onForgedValue: () => undefined },
        { target: TARGET, kind, k: K, alpha: ALPHA, timeoutMs: 60_000, seeds: seedsOf(seeds), paths, quorum, onEvent: (e) => events.push(e) },
      ),
    );
    return { result, net, events };
  };

  it('deals the seeds round-robin into d paths and never lets two paths ask one peer', async () => {
    // Every peer knows every closer peer: without disjointness both paths would ask the same ones.
    const knows = Object.fromEntries(range(0, 15).map((n, i) => [n, range(0, Math.max(0, i - 1))]));
    const { result, net, events } = await runDisjoint({ knows }, range(8, 15), 2, 1);
    expect(new Set(net.asked).size).toBe(net.asked.length);
    expect(result.paths).toBe(2);
    expect(names(result.closest)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(events.filter((e) => e.type === 'asked')).toHaveLength(net.asked.length);
  });

  it('gathers a quorum of copies over the paths and answers with the newest', async () => {
    const knows = { p8: ['p0', 'p4'], p9: ['p2', 'p5'], p10: ['p1'], p11: ['p3'] };
    const { result } = await runDisjoint({ knows, values: { p0: realItem, p2: newer, p1: realItem } }, ['p8', 'p9', 'p10', 'p11'], 4, 3, 'value');
    expect(result.copies).toHaveLength(3);
    expect(result.item?.value).toBe('"hello again"');
  });

  it('finds a value that one path misses when the closest contacts it hears of are colluders', async () => {
    // p7 names the colluders p0 to p3, who name each other and never serve the value; only p12 leads to the holder p4.
    const colluders = range(0, 3);
    const topology: Topology = { knows: { p7: colluders, ...Object.fromEntries(colluders.map((c) => [c, colluders])), p12: ['p4'] }, values: { p4: realItem } };
    const single = await runDisjoint(topology, ['p7', 'p12'], 1, 1, 'value');
    expect(single.result.item).toBeUndefined();
    expect(single.net.asked).not.toContain('p4');
    const disjoint = await runDisjoint(topology, ['p7', 'p12'], 2, 1, 'value');
    expect(disjoint.result.item?.value).toBe('"hello"');
  });
});
