/**
 * The periodic work of Kademlia section 2.5 and the original's republish rules
 * (quoted in the seed): refresh buckets untouched for refreshTimeoutMs with a
 * lookup in their range (first, so the node knows its neighbourhood), delete
 * expired items, republish items not re-stored for replicateIntervalMs, and
 * give cached copies (we are not among the K closest) not read for
 * replicateIntervalMs one last republish before dropping them.
 */
import { toHex } from '../crypto/bytes.js';
import { isExpired } from '../protocol/item.js';
import { randomIdWithPrefix } from '../routing/distance.js';
import { type DrogulusNode, SELF } from './node.js';

export interface MaintenanceReport {
  readonly bucketsRefreshed: number;
  readonly expired: number;
  readonly republished: number;
  readonly dropped: number;
}

export const runMaintenance = async (node: DrogulusNode): Promise<MaintenanceReport> => {
  const { options, table, store, clock } = node;
  let bucketsRefreshed = 0;
  for (const bucket of table.bucketsToRefresh(clock.now(), options.refreshTimeoutMs)) {
    const target = randomIdWithPrefix(node.nodeId, bucket.prefixBits, node.random, bucket.coversOwnId);
    table.markBucketRefreshed(bucket.index, clock.now());
    await node.lookup(target, 'node').catch(() => undefined);
    bucketsRefreshed++;
  }

  const now = clock.now();
  let expired = 0;
  let dropped = 0;
  let republished = 0;
  const work: Array<() => Promise<void>> = [];
  for (const stored of store.entries()) {
    const { item } = stored;
    const keyHex = toHex(item.key);
    if (isExpired(item, now)) {
      store.delete(item.key);
      expired++;
      node.emit({ type: 'item-expired', keyHex });
      continue;
    }
    const staleCache = !node.isAmongClosest(item.key) && now - stored.accessedMs >= options.replicateIntervalMs;
    if (staleCache) {
      work.push(async () => {
        const report = await node.replicate(item).catch(() => undefined);
        republished++;
        // Our table may still list dead nodes closer than us: if the lookup
        // found us among the closest live ones after all, our copy stays, as
        // a replica just republished: not stale again for an interval (else
        // every maintenance run republished it anew while the table listed
        // the dead nodes, a storm of Stores under churn).
        if (report?.replicas.some((r) => r.peer === SELF && r.status === 'stored')) {
          store.touch(item.key, clock.now());
          store.markUpdated(item.key, clock.now());
          return;
        }
        store.delete(item.key);
        dropped++;
        node.emit({ type: 'item-dropped', keyHex, reason: 'cached copy not read for a replicate interval' });
      });
    } else if (now - stored.updatedMs >= options.replicateIntervalMs) {
      work.push(async () => {
        // Marked first: a Store arriving during the republish must not cause a second one.
        store.markUpdated(item.key, clock.now());
        await node.replicate(item).catch(() => undefined);
        republished++;
      });
    }
  }
  await runPool(work, options.republishConcurrency);
  store.saveTable(table.toSnapshot());
  return { bucketsRefreshed, expired, republished, dropped };
};

const runPool = async (work: ReadonlyArray<() => Promise<void>>, concurrency: number): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < work.length) await work[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
};
