/**
 * Properties of the iterative lookup (src/dht/lookup.ts) over random
 * topologies, with a fake network that counts what is in flight: peers that
 * answer late, never, with an Error, with a genuine, forged or misfiled value,
 * with contacts naming themselves, the searcher, blacklisted peers and
 * duplicates. Run with FC_SEED=<n> to replay a seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { sha512 } from '../../src/crypto/hash.js';
import { Identity } from '../../src/crypto/identity.js';
import { type Candidate, lookup, type LookupKind, type LookupResult } from '../../src/dht/lookup.js';
import { createItem, type Item } from '../../src/protocol/item.js';
import type { Reply, WireContact } from '../../src/protocol/messages.js';
import { compareDistance } from '../../src/routing/distance.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';

const SEED = Number(process.env.FC_SEED ?? 1908);
const POOL_SIZE = 40;
const SILENCE_MS = 500;

const searcher = Identity.fromSeed(sha512(Buffer.from('lookup searcher')).subarray(0, 32));
const publisher = Identity.fromSeed(sha512(Buffer.from('lookup publisher')).subarray(0, 32));
const POOL = Array.from({ length: POOL_SIZE }, (_, i) => Identity.fromSeed(sha512(Buffer.from(`lookup peer ${i}`)).subarray(0, 32)));
const T0_MS = Date.UTC(2026, 0, 1);
const GENUINE = createItem(publisher, { name: 'wanted', value: '"the value"', timestamp: T0_MS - 1000 });
const TARGET = Buffer.from(GENUINE.key);
const FORGED: Item = { ...GENUINE, signature: Buffer.alloc(64, 7) };
const MISFILED = createItem(publisher, { name: 'another name', value: '"misfiled"', timestamp: T0_MS - 1000 });

type Behaviour = 'answer' | 'silent' | 'error' | 'genuine' | 'forged' | 'misfiled';

interface Topology {
  readonly k: number;
  readonly alpha: number;
  readonly kind: LookupKind;
  readonly behaviour: ReadonlyMap<number, Behaviour>;
  readonly latencyMs: ReadonlyMap<number, number>;
  /** Who each peer names in its Nodes answers; -1 is the searcher itself. */
  readonly knows: ReadonlyMap<number, readonly number[]>;
  readonly seeds: readonly number[];
  readonly blacklisted: ReadonlySet<number>;
}

const behaviours: readonly Behaviour[] = ['answer', 'answer', 'answer', 'answer', 'silent', 'error', 'genuine', 'forged', 'misfiled'];

const topologyArb: fc.Arbitrary<Topology> = fc
  .record({
    size: fc.integer({ min: 1, max: POOL_SIZE }),
    k: fc.integer({ min: 1, max: 8 }),
    alpha: fc.integer({ min: 1, max: 4 }),
    kind: fc.constantFrom<LookupKind>('node', 'value'),
    behaviour: fc.array(fc.nat({ max: behaviours.length - 1 }), { minLength: POOL_SIZE, maxLength: POOL_SIZE }),
    valueRate: fc.nat({ max: 3 }),
    latencies: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: POOL_SIZE, maxLength: POOL_SIZE }),
    links: fc.array(fc.tuple(fc.nat(), fc.integer({ min: -1, max: POOL_SIZE })), { maxLength: 150 }),
    seeds: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
    blacklisted: fc.array(fc.nat(), { maxLength: 4 }),
  })
  .map(({ size, k, alpha, kind, behaviour, valueRate, latencies, links, seeds, blacklisted }) => {
    const peer = (n: number): number => n % size;
    // Values are rarer than plain answers unless valueRate says otherwise, so most lookups run their course.
    const behaviourOf = (i: number): Behaviour => {
      const b = behaviours[behaviour[i]];
      return (b === 'genuine' || b === 'forged' || b === 'misfiled') && i % 4 >= valueRate ? 'answer' : b;
    };
    const knows = new Map<number, number[]>();
    for (const [from, to] of links) {
      const list = knows.get(peer(from)) ?? [];
      list.push(to < 0 ? -1 : peer(to));
      knows.set(peer(from), list);
    }
    return {
      k,
      alpha,
      kind,
      behaviour: new Map(Array.from({ length: size }, (_, i) => [i, behaviourOf(i)] as const)),
      latencyMs: new Map(Array.from({ length: size }, (_, i) => [i, latencies[i]] as const)),
      knows,
      seeds: seeds.map(peer),
      blacklisted: new Set(blacklisted.map(peer)),
    };
  });

const contactOf = (index: number): WireContact => {
  const identity = index < 0 ? searcher : POOL[index];
  return { publicKey: identity.publicKey, host: `10.0.0.${index + 2}`, port: 1908 };
};
const indexOf = new Map(POOL.map((identity, i) => [toHex(identity.nodeId), i]));

interface Run {
  readonly result: LookupResult;
  readonly asked: number[];
  readonly maxInFlight: number;
  readonly forged: number[];
  /** Peers whose answers (with the contacts they named) reached the lookup. */
  readonly learnedFrom: number[];
  /** Peers whose Value answers reached the lookup. */
  readonly servedValue: number[];
}

const runLookup = async (t: Topology): Promise<Run> => {
  const clock = new ManualClock(T0_MS);
  const asked: number[] = [];
  const forged: number[] = [];
  const learnedFrom: number[] = [];
  const servedValue: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const query = (candidate: Candidate, kind: LookupKind, target: Buffer, signal: AbortSignal): Promise<Reply> => {
    const index = indexOf.get(candidate.idHex);
    if (index === undefined) throw new Error(`asked a peer outside the topology: ${candidate.idHex.slice(0, 8)}`);
    if (t.blacklisted.has(index)) throw new Error(`asked blacklisted peer ${index}`);
    expect(target.equals(TARGET)).toBe(true);
    asked.push(index);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const behaviour = t.behaviour.get(index)!;
    const envelope = { requestId: Buffer.alloc(16), senderPublicKey: POOL[index].publicKey, replyPort: 1908, version: 1, recipientId: searcher.nodeId };
    return new Promise<Reply>((resolve, reject) => {
      const settle = (): void => {
        inFlight--;
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        clock.clearTimeout(timer);
        settle();
        reject(new Error('aborted'));
      };
      const timer = clock.setTimeout(
        () => {
          settle();
          if (behaviour === 'silent') return reject(new Error('no answer'));
          if (behaviour === 'error') return resolve({ ...envelope, type: 'error', code: 3, title: 'Internal error', details: {} });
          const item = { genuine: GENUINE, forged: FORGED, misfiled: MISFILED }[behaviour as 'genuine' | 'forged' | 'misfiled'];
          if (kind === 'value' && item) {
            servedValue.push(index);
            return resolve({ ...envelope, type: 'value', item });
          }
          learnedFrom.push(index);
          resolve({ ...envelope, type: 'nodes', nodes: (t.knows.get(index) ?? []).map(contactOf) });
        },
        behaviour === 'silent' ? SILENCE_MS : t.latencyMs.get(index)!,
      );
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
  const promise = lookup(
    {
      ownId: searcher.nodeId,
      clock,
      query,
      isBlacklisted: (id) => t.blacklisted.has(indexOf.get(toHex(id)) ?? -1),
      onForgedValue: (peer) => forged.push(indexOf.get(peer.idHex)!),
    },
    {
      target: TARGET,
      kind: t.kind,
      seeds: [...new Set(t.seeds)].map((i) => {
        const c = contactOf(i);
        return { ...c, id: POOL[i].nodeId, idHex: toHex(POOL[i].nodeId) };
      }),
      k: t.k,
      alpha: t.alpha,
      timeoutMs: 1e9,
    },
  );
  const result = await clock.run(promise);
  return { result, asked, maxInFlight, forged, learnedFrom, servedValue };
};

const distanceOrder = (a: number, b: number): number => compareDistance(POOL[a].nodeId, POOL[b].nodeId, TARGET);

describe(`the lookup on random topologies (fast-check seed ${SEED})`, () => {
  it('returns answered peers closest first without duplicates, at most K, never over ALPHA in flight, asking each peer once', async () => {
    await fc.assert(
      fc.asyncProperty(topologyArb, async (t) => {
        const { result, asked, maxInFlight } = await runLookup(t);
        expect(result.timedOut).toBe(false);
        expect(maxInFlight).toBeLessThanOrEqual(t.alpha);
        expect(new Set(asked).size).toBe(asked.length);
        expect(result.requests).toBe(asked.length);
        const closest = result.closest.map((c) => indexOf.get(c.idHex)!);
        expect(closest.length).toBeLessThanOrEqual(t.k);
        expect(new Set(closest).size).toBe(closest.length);
        for (let i = 1; i < closest.length; i++) expect(distanceOrder(closest[i - 1], closest[i])).toBeLessThan(0);
        const failing = t.kind === 'value' ? ['silent', 'error', 'forged', 'misfiled'] : ['silent', 'error'];
        for (const c of closest) {
          expect(asked).toContain(c);
          expect(failing).not.toContain(t.behaviour.get(c));
          expect(t.blacklisted.has(c)).toBe(false);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('returns fewer than K peers only when it asked every peer it could reach, and leaves no known peer closer than its farthest result unasked', async () => {
    await fc.assert(
      fc.asyncProperty(topologyArb, async (t) => {
        const { result, asked, learnedFrom } = await runLookup(t);
        if (result.item !== undefined) return;
        // Known: the seeds and every contact named in an answer the lookup received, less itself and the blacklist.
        const known = new Set<number>();
        for (const i of [...t.seeds, ...learnedFrom.flatMap((p) => t.knows.get(p) ?? [])]) if (i >= 0 && !t.blacklisted.has(i)) known.add(i);
        for (const i of asked) expect(known.has(i)).toBe(true);
        if (result.closest.length < t.k) {
          // Reachable: from the seeds, through every peer that answers with contacts.
          const reachable = new Set<number>();
          const queue = t.seeds.filter((s) => !t.blacklisted.has(s));
          for (const s of queue) reachable.add(s);
          while (queue.length > 0) {
            const n = queue.shift()!;
            const b = t.behaviour.get(n);
            const answersWithContacts = b === 'answer' || (t.kind === 'node' && (b === 'genuine' || b === 'forged' || b === 'misfiled'));
            if (!answersWithContacts) continue;
            for (const m of t.knows.get(n) ?? []) {
              if (m < 0 || t.blacklisted.has(m) || reachable.has(m)) continue;
              reachable.add(m);
              queue.push(m);
            }
          }
          expect(new Set(asked)).toEqual(reachable);
        } else {
          const farthest = indexOf.get(result.closest[result.closest.length - 1].idHex)!;
          for (const i of known) if (distanceOrder(i, farthest) < 0) expect(asked).toContain(i);
        }
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it('accepts only a genuine value filed under the key it looked up, and reports every forged or misfiled one', async () => {
    await fc.assert(
      fc.asyncProperty(
        topologyArb.filter((t) => t.kind === 'value'),
        async (t) => {
          const { result, asked, forged, servedValue } = await runLookup(t);
          if (result.item !== undefined) {
            expect(result.item).toBe(GENUINE);
            expect(t.behaviour.get(indexOf.get(result.itemSource!.idHex)!)).toBe('genuine');
          }
          const bad = servedValue.filter((i) => t.behaviour.get(i) === 'forged' || t.behaviour.get(i) === 'misfiled');
          expect(forged.slice().sort()).toEqual(bad.slice().sort());
          if (result.item === undefined) expect(asked.filter((i) => t.behaviour.get(i) === 'genuine')).toEqual([]);
        },
      ),
      { seed: SEED + 2, numRuns: 300 },
    );
  });
});
