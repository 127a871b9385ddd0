/**
 * An attacker with many networks and unlimited key pairs: 20 real Sybil
 * nodes, each on its own /24, with ids ground to share more leading bits with
 * one key than any honest node is likely to, join a network of honest nodes
 * and then answer lookups with each other only (or serve forged copies). The
 * diversity caps cannot tell them apart; the density check does (src/dht/
 * density.ts): the replicate stores on the K closest nodes beyond their
 * cluster as well, and gets go on past it, so every honest get returns the
 * true item, and none a forged one. Without the check, the same Sybils hold
 * the key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { grindSeed } from '../../src/crypto/puzzle.js';
import type { NodeOptions } from '../../src/dht/defaults.js';
import { DrogulusNode } from '../../src/dht/node.js';
import { checkItem, itemKey } from '../../src/protocol/item.js';
import { commonPrefixLength } from '../../src/routing/distance.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Adversary, type Behaviour, Colluders } from '../../src/sim/adversaries.js';
import { createTestnet, type Testnet } from '../../src/sim/testnet.js';

const HONEST = 100;
const SYBILS = 20;
const PREFIX_BITS = 10; // log2(100) + 3: the closest honest id shares about 7 bits with the key
let net: Testnet | undefined;

afterEach(async () => {
  await net?.stop();
  net = undefined;
});

interface Outcome {
  readonly gets: number;
  readonly trueValues: number;
  readonly forged: number;
  readonly sybilsAmongClosest: number;
  readonly honestHolders: number;
}

const attack = async (behaviour: Behaviour, nodeOptions: Partial<NodeOptions> = {}, paths = 1): Promise<Outcome> => {
  net = await createTestnet(HONEST, { seed: 606, nodeOptions });
  const testnet = net;
  const publisher = testnet.nodes[0];
  const name = 'surrounded';
  const key = itemKey(publisher.publicKey, name);
  const keys = new SeededRandom(607);
  const colluders = new Colluders();
  const adversaries: Adversary[] = [];
  const sybils: DrogulusNode[] = [];
  for (let i = 0; i < SYBILS; i++) {
    const { seed } = grindSeed((id) => commonPrefixLength(id, key) >= PREFIX_BITS, () => keys.bytes(32));
    const transport = testnet.network.createTransport({ host: `127.251.${i + 1}.1`, port: 4000 });
    const sybil = new DrogulusNode({ identity: Identity.fromSeed(seed), transport, clock: testnet.clock, random: testnet.random.fork(), options: nodeOptions });
    sybil.start();
    const adversary = new Adversary(sybil, transport, colluders);
    const entry = testnet.nodes[(i * 7) % HONEST];
    await testnet.run(sybil.join([{ ...entry.address, publicKey: entry.publicKey }]));
    await testnet.run(sybil.lookup(key, 'node'));
    sybils.push(sybil);
    adversaries.push(adversary);
  }
  // They turn once they are known, and name each other from then on.
  for (const [i, sybil] of sybils.entries()) {
    adversaries[i].behaviour = behaviour;
    colluders.add(sybil);
  }
  const all = [...testnet.nodes, ...sybils].sort((a, b) => Buffer.compare(xor(a.nodeId, key), xor(b.nodeId, key)));
  const sybilsAmongClosest = all.slice(0, 20).filter((n) => sybils.includes(n)).length;

  const published = (await testnet.run(publisher.set(name, Buffer.from('the true value')))).item;
  let trueValues = 0;
  let forged = 0;
  const gets = 20;
  for (let i = 0; i < gets; i++) {
    const getter = testnet.nodes[1 + ((i * 13) % (HONEST - 1))];
    const found = (await testnet.run(getter.retrieve(key, { fresh: true, paths }))).item;
    if (found && (checkItem(found, testnet.clock.now()) || !Buffer.from(found.signature).equals(Buffer.from(published.signature)))) forged++;
    else if (found) trueValues++;
  }
  const honestHolders = testnet.nodes.filter((n) => n.store.get(key)).length;
  for (const sybil of sybils) await sybil.stop();
  return { gets, trueValues, forged, sybilsAmongClosest, honestHolders };
};

const xor = (a: Uint8Array, b: Uint8Array): Buffer => Buffer.from(a.map((x, i) => x ^ b[i]));

describe('Sybils from 20 networks at the 20 closest ids to a key', () => {
  it('cannot hide the item when they answer lookups with each other only: every get returns the true value', async () => {
    const outcome = await attack({ kind: 'collude' });
    expect(outcome.sybilsAmongClosest).toBe(20);
    expect(outcome.forged).toBe(0);
    expect(outcome.trueValues).toBe(outcome.gets);
    expect(outcome.honestHolders).toBeGreaterThanOrEqual(15);
  }, 120_000);

  it('cannot make a get return a forged copy, with 4 disjoint paths either', async () => {
    const outcome = await attack({ kind: 'forge', otherwise: 'collude' }, {}, 4);
    expect(outcome.sybilsAmongClosest).toBe(20);
    expect(outcome.forged).toBe(0);
    expect(outcome.trueValues).toBe(outcome.gets);
  }, 120_000);

  it('hold the key without the density check (the attack the check answers)', async () => {
    const outcome = await attack({ kind: 'collude' }, { densityCheckFactor: 0 });
    expect(outcome.sybilsAmongClosest).toBe(20);
    expect(outcome.forged).toBe(0);
    expect(outcome.trueValues).toBeLessThan(outcome.gets / 2);
  }, 120_000);
});
