/**
 * An attacker with one IP address and as many key pairs as it likes: 40 real
 * nodes on one host, each on its own port, each answering challenges like
 * any node, all trying to get into the routing tables of 60 honest nodes (they
 * join, ping every honest node, and run lookups). Whatever they do, the
 * attacker's IP holds at most 3 places (contacts and replacements) in any
 * honest table, and at most 2 in any bucket.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DrogulusNode } from '../../src/dht/node.js';
import { addressGroup } from '../../src/routing/address-group.js';
import { createTestnet, type Testnet } from '../../src/sim/testnet.js';

const HONEST = 60;
const SYBILS = 40;
const ATTACKER_HOST = '127.250.0.1';

describe('an attacker with one IP address and unlimited key pairs', () => {
  let net: Testnet;
  const sybils: DrogulusNode[] = [];

  beforeAll(async () => {
    net = await createTestnet(HONEST, { seed: 4242 });
    for (let i = 0; i < SYBILS; i++) {
      const sybil = net.createNode({ transport: net.network.createTransport({ host: ATTACKER_HOST, port: 2000 + i }) });
      sybils.push(sybil);
      const seed = net.nodes[i % HONEST];
      await net.run(sybil.join([{ ...seed.address, publicKey: seed.publicKey }]));
    }
    // Every Sybil pings every honest node (each Ping draws a challenge it answers), then looks up each honest id.
    for (const sybil of sybils) {
      await net.run(Promise.allSettled(net.nodes.map((n) => sybil.ping(n.address, n.publicKey))));
      for (const n of net.nodes.slice(0, 10)) await net.run(sybil.lookup(n.nodeId, 'node'));
    }
    // Honest nodes look around too, meeting Sybils in each other's answers.
    for (const n of net.nodes) await net.run(n.lookup(sybils[0].nodeId, 'node'));
  }, 120_000);

  it('holds at most 3 places in any honest routing table, and at most 2 in any bucket', () => {
    let tablesWithSybils = 0;
    for (const node of net.nodes) {
      let places = 0;
      for (const view of node.table.bucketViews()) {
        const inBucket = view.contacts.filter((c) => c.host === ATTACKER_HOST).length;
        const inCache = view.replacements.filter((c) => c.host === ATTACKER_HOST).length;
        expect(inBucket).toBeLessThanOrEqual(2);
        expect(inCache).toBeLessThanOrEqual(2);
        places += inBucket + inCache;
      }
      expect(places).toBeLessThanOrEqual(3);
      expect(node.table.placesHeldBy({ host: ATTACKER_HOST, port: 1 })).toBe(places);
      if (places > 0) tablesWithSybils++;
    }
    // The Sybils did try: they are in (nearly) every table, up to the cap.
    expect(tablesWithSybils).toBeGreaterThanOrEqual(HONEST - 5);
  });

  it('still lets honest nodes fill their tables with each other', () => {
    for (const node of net.nodes) {
      const honest = node.table.contacts().filter((c) => c.host !== ATTACKER_HOST).length;
      expect(honest).toBeGreaterThanOrEqual(20);
    }
  });

  it('is challenged like anyone, proves its address, and is still kept out by the caps', () => {
    // Each Sybil received challenge Pings from honest nodes and answered them.
    const challenged = sybils.filter((s) => (s.stats.messagesIn.ping ?? 0) >= 10).length;
    expect(challenged).toBe(SYBILS);
    const placesHeld = net.nodes.reduce((sum, n) => sum + n.table.placesHeldBy({ host: ATTACKER_HOST, port: 1 }), 0);
    expect(placesHeld).toBeLessThanOrEqual(3 * HONEST);
    expect(addressGroup({ host: ATTACKER_HOST, port: 2000 }).host).toBe(ATTACKER_HOST);
  });
});
