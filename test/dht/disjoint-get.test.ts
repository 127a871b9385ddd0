/**
 * Disjoint-path lookups on real nodes (S/Kademlia section 4.4): with d paths
 * a replicate still stores on the K closest, and a get with a quorum gathers
 * several copies, answers with the newest, and sends it to the holders of
 * stale ones (read repair).
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { createItem } from '../../src/protocol/item.js';
import { compareDistance } from '../../src/routing/distance.js';
import { seconds } from '../../src/runtime/clock.js';
import { createTestnet } from '../../src/sim/testnet.js';

const publisher = Identity.fromSeed(Buffer.alloc(32, 0x61));

describe('disjoint-path lookups on a network', () => {
  it('stores on the K closest nodes with 4 disjoint paths, as a single path does', async () => {
    const net = await createTestnet(40, { seed: 100, nodeOptions: { k: 6, disjointPaths: 4 } });
    const item = createItem(publisher, { name: 'spread', value: '"x"', timestamp: net.clock.now() });
    const report = await net.run(net.nodes[5].replicate(item));
    expect(report.stored).toBe(6);
    const closest = net.nodes.slice().sort((a, b) => compareDistance(a.nodeId, b.nodeId, item.key)).slice(0, 6);
    expect(closest.filter((n) => n.store.get(item.key)).length).toBeGreaterThanOrEqual(5);
  });

  it('gathers a quorum of copies, answers with the newest, and repairs the stale holders', async () => {
    const net = await createTestnet(40, { seed: 101, nodeOptions: { k: 6, disjointPaths: 3, getQuorum: 4 } });
    const v1 = createItem(publisher, { name: 'versioned', value: '"v1"', timestamp: net.clock.now() - 1000 });
    const v2 = createItem(publisher, { name: 'versioned', value: '"v2"', timestamp: net.clock.now() });
    await net.run(net.nodes[0].replicate(v2));
    const holders = net.nodes.filter((n) => n.store.get(v2.key));
    expect(holders.length).toBeGreaterThanOrEqual(5);
    // Half the holders are set back to the old version, as a replay of it would have left them before v2 came.
    const stale = holders.slice(0, 3);
    for (const n of stale) n.store.put(v1, net.clock.now());
    const getter = net.nodes.find((n) => !n.store.get(v2.key))!;
    const report = await net.run(getter.retrieve(v2.key, { fresh: true }));
    expect(report.item?.value).toBe('"v2"');
    expect(report.copies).toBeGreaterThanOrEqual(4);
    expect(report.repaired).toBeGreaterThanOrEqual(1);
    await net.clock.advance(seconds(5));
    const repaired = stale.filter((n) => toHex(n.store.get(v2.key)!.item.signature) === toHex(v2.signature));
    expect(repaired.length).toBe(report.repaired);
  });
});
