/**
 * A network with the Sybil puzzle at difficulty 6: nodes whose keys were
 * ground to meet it join, store and find; a key that does not meet it is
 * refused with code 5 and never enters a table; a node cannot be started
 * with such a key.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { grindIdentity, meetsDifficulty } from '../../src/crypto/puzzle.js';
import { DrogulusNode } from '../../src/dht/node.js';
import { inspectMessage } from '../../src/protocol/codec.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Testnet } from '../../src/sim/testnet.js';

const D = 6;

const puzzleNetwork = async (size: number, seed: number) => {
  const net = new Testnet({ seed });
  const keys = new SeededRandom(seed);
  const nodes: DrogulusNode[] = [];
  for (let i = 0; i < size; i++) {
    const node = new DrogulusNode({
      identity: grindIdentity(D, () => keys.bytes(32)).identity,
      transport: net.network.createTransport(),
      clock: net.clock,
      random: net.random.fork(),
      options: { difficulty: D },
    });
    node.start();
    if (nodes.length > 0) {
      const seedNode = nodes[i % nodes.length];
      await net.run(node.join([{ ...seedNode.address, publicKey: seedNode.publicKey }]));
    }
    nodes.push(node);
  }
  return { net, nodes };
};

describe('a network with the Sybil puzzle', () => {
  it('refuses to start a node whose key does not meet its difficulty', async () => {
    const net = new Testnet({ seed: 90 });
    const weak = [...Array(64).keys()].map((i) => Identity.fromSeed(Buffer.alloc(32, i + 1))).find((id) => !meetsDifficulty(id.nodeId, D))!;
    expect(() => new DrogulusNode({ identity: weak, transport: net.network.createTransport(), clock: net.clock, random: net.random, options: { difficulty: D } })).toThrow(/does not meet difficulty 6/);
  });

  it('joins, stores and finds among nodes whose keys meet it', async () => {
    const { net, nodes } = await puzzleNetwork(14, 91);
    for (const node of nodes) expect(node.table.size).toBeGreaterThanOrEqual(8);
    const { item, stored } = await net.run(nodes[0].set('puzzled', '"yes"'));
    expect(stored).toBe(14);
    const got = await net.run(nodes[9].retrieve(item.key, { fresh: true }));
    expect(got.item && toHex(got.item.signature)).toBe(toHex(item.signature));
  });

  it('answers a key that does not meet it with error 5 and never lets it into a table', async () => {
    const { net, nodes } = await puzzleNetwork(8, 92);
    const outsider = net.addNode(); // an ordinary key, difficulty 0
    const codes: number[] = [];
    net.network.tap((p) => {
      const decoded = inspectMessage(p.bytes);
      if (p.to.host === outsider.address.host && decoded.ok && decoded.value.message.type === 'error') codes.push(decoded.value.message.code);
    });
    await net.run(outsider.join([{ ...nodes[0].address, publicKey: nodes[0].publicKey }]).catch(() => undefined));
    await net.run(outsider.lookup(nodes[3].nodeId, 'node'));
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set([ErrorCode.UnsupportedProtocol]));
    for (const node of nodes) {
      expect(node.table.get(outsider.nodeId)).toBeUndefined();
      expect(node.table.contacts().every((c) => meetsDifficulty(c.id, D))).toBe(true);
    }
    expect(nodes[0].stats.dropped['codec-5']).toBeGreaterThan(0);
  });
});
