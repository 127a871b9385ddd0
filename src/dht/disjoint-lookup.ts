/**
 * Lookups over d disjoint paths (S/Kademlia, Baumgart and Mies 2007, section
 * 4.4): the K closest contacts of our table are dealt round-robin into d
 * sets, each set seeds an ordinary iterative lookup, and a node one path has
 * asked is never asked by another, so one malicious node, or one group of
 * colluders met on one path, cannot steer the others. A FindValue gathers
 * valid copies over all paths until it holds `quorum` of them (or every path
 * ends) and answers with the newest. The result is the union: the K closest
 * nodes any path heard from (and an anomalous cluster in front of them, with
 * a density check), every copy, requests summed.
 */
import { compareItemVersions } from '../protocol/item.js';
import { compareDistance } from '../routing/distance.js';
import { clusterSize, distanceFraction } from './density.js';
import { type Copy, lookup, type LookupDeps, type LookupParams, type LookupResult } from './lookup.js';

export interface DisjointLookupParams extends Omit<LookupParams, 'claim' | 'collect' | 'shouldStop'> {
  /** Paths (S/Kademlia's d); fewer when there are fewer seeds. */
  readonly paths: number;
  /** FindValue: valid copies, from distinct peers, to gather before answering. */
  readonly quorum: number;
}

export const disjointLookup = async (deps: LookupDeps, params: DisjointLookupParams): Promise<LookupResult & { readonly paths: number }> => {
  const { target, k } = params;
  const seeds = params.seeds.slice().sort((a, b) => compareDistance(a.id, b.id, target));
  const d = Math.max(1, Math.min(params.paths, seeds.length));
  const owner = new Map<string, number>();
  const sets = Array.from({ length: d }, () => [] as typeof seeds);
  seeds.forEach((seed, i) => {
    sets[i % d].push(seed);
    owner.set(seed.idHex, i % d);
  });
  const copies: Copy[] = [];
  const enough = (): boolean => params.kind === 'value' && copies.length >= params.quorum;
  const results = await Promise.all(
    sets.map((set, path) =>
      lookup(deps, {
        ...params,
        seeds: set,
        claim: (c) => {
          const holder = owner.get(c.idHex);
          if (holder === undefined) owner.set(c.idHex, path);
          return holder === undefined || holder === path;
        },
        collect: true,
        shouldStop: enough,
        onEvent: (event) => {
          if (event.type === 'value' && !copies.some((c) => c.source.idHex === event.peer.idHex)) copies.push({ item: event.item, source: event.peer });
          params.onEvent?.(event);
        },
      }),
    ),
  );
  const answered = results.flatMap((r) => r.closest).sort((a, b) => compareDistance(a.id, b.id, target));
  // The union obeys the lookups' diversity too: each path may bring maxPerGroup of one network.
  const perGroup = new Map<string, number>();
  const diverse = answered
    .filter((c) => {
      if (!params.groupOf || params.maxPerGroup === undefined) return true;
      const group = params.groupOf(c);
      const n = perGroup.get(group) ?? 0;
      perGroup.set(group, n + 1);
      return n < params.maxPerGroup;
    })
    .slice(0, k + (params.density?.maxCluster ?? 0));
  // And the density check: an anomalous cluster next to the target comes on top of the K closest beyond it.
  const cluster = params.density ? clusterSize(diverse.map((c) => distanceFraction(c.id, target)), params.density) : 0;
  const closest = diverse.slice(0, cluster + k);
  const newest = copies.reduce<Copy | undefined>((best, c) => (best === undefined || compareItemVersions(c.item, best.item) > 0 ? c : best), undefined);
  const sources = new Set(copies.map((c) => c.source.idHex));
  return {
    target,
    closest,
    cluster,
    item: newest?.item,
    itemSource: newest?.source,
    copies,
    cacheCandidate: newest ? (closest.slice(cluster).find((c) => !sources.has(c.idHex)) ?? closest.find((c) => !sources.has(c.idHex))) : undefined,
    rounds: newest ? newest.source.depth : results.reduce((max, r) => Math.max(max, r.rounds), 0),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    failures: results.reduce((sum, r) => sum + r.failures, 0),
    timedOut: results.some((r) => r.timedOut),
    listenerErrors: results.reduce((sum, r) => sum + r.listenerErrors, 0),
    paths: d,
  };
};
