/**
 * A 200-node network on the in-memory transport, running the real node code
 * in virtual time: storage and retrieval across nodes, forged and superseded
 * items, expiry, survival of a quarter of the nodes failing, and replayed
 * messages. The network is built once and the tests run in order on it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { createItem, type Item, itemKey, itemSigningBytes } from '../../src/protocol/item.js';
import { inspectMessage } from '../../src/protocol/codec.js';
import { compareDistance } from '../../src/routing/distance.js';
import { minutes, seconds } from '../../src/runtime/clock.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { createTestnet, type Testnet } from '../../src/sim/testnet.js';

const NODES = 200;
let net: Testnet;

const holders = (item: Item): DrogulusNode[] =>
  net.nodes.filter((n) => net.isAlive(n) && n.store.get(item.key) !== undefined && toHex(n.store.get(item.key)!.item.signature) === toHex(item.signature));

const otherThan = (node: DrogulusNode): DrogulusNode => net.pick(node);

describe(`a network of ${NODES} nodes`, () => {
  const published: Item[] = [];

  beforeAll(async () => {
    net = await createTestnet(NODES, { seed: 2026 });
  });

  it('gives every node a routing table after joining', () => {
    for (const node of net.nodes) expect(node.table.size).toBeGreaterThanOrEqual(20);
  });

  it('retrieves every item set, from nodes other than the publisher', async () => {
    for (let i = 0; i < 30; i++) {
      const publisher = net.pick();
      const value = i % 2 === 0 ? Buffer.from(`value ${i}`) : JSON.stringify({ n: i, text: `item ${i}` });
      const report = await net.run(publisher.set(`net/item-${i}`, value, { meta: { index: String(i) } }));
      expect(report.stored).toBe(20);
      published.push(report.item);
      for (let j = 0; j < 3; j++) {
        const getter = otherThan(publisher);
        const got = await net.run(getter.get(publisher.publicKey, `net/item-${i}`));
        expect(got && toHex(got.signature)).toBe(toHex(report.item.signature));
        expect(got?.value).toEqual(report.item.value);
      }
    }
  });

  it('places each item on the 20 nodes closest to its key', () => {
    for (const item of published) {
      const closest = net.nodes
        .filter((n) => net.isAlive(n))
        .sort((a, b) => compareDistance(a.nodeId, b.nodeId, item.key))
        .slice(0, 20);
      const held = closest.filter((n) => n.store.get(item.key) !== undefined).length;
      expect(held).toBeGreaterThanOrEqual(19);
    }
  });

  it('lets a sealed message replayed from another address change no routing table', async () => {
    const victim = net.nodes[10];
    const sender = net.nodes[11];
    let captured: Uint8Array | undefined;
    const untap = net.network.tap((packet) => {
      if (captured || packet.from.host !== sender.address.host || packet.to.host !== victim.address.host) return;
      const decoded = inspectMessage(packet.bytes);
      if (decoded.ok && decoded.value.message.type === 'find-node') captured = packet.bytes;
    });
    await net.run(sender.lookup(victim.nodeId, 'node'));
    untap();
    await net.clock.advance(seconds(10)); // let the challenges this lookup caused finish
    expect(captured).toBeDefined();
    const before = net.nodes.map((n) => JSON.stringify(n.table.get(sender.nodeId) ?? null));
    const victimBefore = JSON.stringify(victim.table.toSnapshot());
    const attacker = { host: '127.250.0.1', port: 4444 };
    net.network.inject(attacker, victim.address, captured!); // replayed to its recipient from a forged address
    net.network.inject(attacker, net.nodes[12].address, captured!); // and to a node it was not sealed for
    await net.clock.advance(seconds(10));
    const after = net.nodes.map((n) => JSON.stringify(n.table.get(sender.nodeId) ?? null));
    expect(after.map((s) => s.includes('127.250.0.1'))).not.toContain(true);
    expect(after.map((s, i) => (s === 'null') === (before[i] === 'null'))).not.toContain(false);
    expect(JSON.stringify(victim.table.toSnapshot())).toBe(victimBefore);
    // Node 12 refuses it: a MAC-sealed message fails its MAC anywhere but at its recipient (a signed one would be misdirected).
    const refusedAt12 = (net.nodes[12].stats.dropped.misdirected ?? 0) + (net.nodes[12].stats.dropped['codec-6'] ?? 0);
    expect(refusedAt12).toBeGreaterThanOrEqual(1);
  });

  it('refuses tampered items everywhere and blacklists their senders', async () => {
    const original = published[0];
    const other = Identity.fromSeed(Buffer.alloc(32, 9));
    const flip = (b: Uint8Array): Buffer => {
      const c = Buffer.from(b);
      c[0] ^= 1;
      return c;
    };
    const wrongKeySigned = (() => {
      const unsigned = { ...original, key: itemKey(original.publicKey, 'somewhere else') };
      const publisher = net.nodes.find((n) => toHex(n.publicKey) === toHex(original.publicKey))!;
      return { ...unsigned, signature: publisher.identity.sign(itemSigningBytes(unsigned)) };
    })();
    const tampered: Array<[string, Item, number]> = [
      ['value', { ...original, value: Buffer.from('forged value') }, 6],
      ['name', { ...original, name: 'net/other-name' }, 6],
      ['key', { ...original, key: flip(original.key) }, 6],
      ['signature', { ...original, signature: flip(original.signature) }, 6],
      ['public key', { ...original, publicKey: other.publicKey }, 6],
      ['key signed by its publisher but not derived from its name', wrongKeySigned, 7],
    ];
    for (const [, item, code] of tampered) {
      const attacker = net.addNode();
      await net.join(attacker);
      const victims = net.nodes.filter((n) => n !== attacker && net.isAlive(n));
      const replies = await net.run(
        Promise.all(victims.map((v) => attacker.request({ publicKey: v.publicKey, id: v.nodeId, ...v.address }, { type: 'store', item }).then((r) => r.message))),
      );
      for (const reply of replies) {
        expect(reply.type).toBe('error');
        if (reply.type === 'error') expect(reply.code).toBe(code);
      }
      for (const v of victims) {
        expect(v.table.isBlacklisted(attacker.nodeId)).toBe(true);
        expect(v.table.get(attacker.nodeId)).toBeUndefined();
        const held = v.store.get(item.key);
        const fingerprint = (x: Item): string => toHex(itemSigningBytes(x)) + toHex(x.signature);
        if (held) expect(fingerprint(held.item)).not.toBe(fingerprint(item));
      }
      await net.clock.advance(seconds(5));
      // Blacklisted for good: its later messages are dropped, not answered.
      const again = attacker.request({ publicKey: victims[0].publicKey, id: victims[0].nodeId, ...victims[0].address }, { type: 'ping' });
      await expect(net.run(again)).rejects.toThrow(/timeout/);
      net.kill(attacker);
    }
    const got = await net.run(net.pick().getByKey(original.key));
    expect(got && toHex(got.signature)).toBe(toHex(original.signature));
  });

  it('refuses a superseded item with error 8 carrying the newer timestamp', async () => {
    const publisher = net.pick();
    const first = await net.run(publisher.set('net/versioned', JSON.stringify('version one')));
    await net.clock.advance(seconds(1));
    const second = await net.run(publisher.set('net/versioned', JSON.stringify('version two')));
    expect(second.item.timestamp).toBeGreaterThan(first.item.timestamp);
    const replayer = otherThan(publisher);
    const report = await net.run(replayer.replicate(first.item));
    const refusals = report.replicas.filter((r) => r.status === 'refused');
    expect(refusals.length).toBeGreaterThanOrEqual(19);
    for (const r of refusals) if (r.status === 'refused') expect(r.code).toBe(8);
    const got = await net.run(otherThan(publisher).get(publisher.publicKey, 'net/versioned'));
    expect(got?.value).toBe('"version two"');
    const replyTimestamps = new Set<string>();
    const stopTap = net.network.tap((p) => {
      const d = inspectMessage(p.bytes);
      if (d.ok && d.value.message.type === 'error' && d.value.message.code === 8) replyTimestamps.add(d.value.message.details.timestamp);
    });
    await net.run(replayer.replicate(first.item));
    stopTap();
    expect([...replyTimestamps]).toEqual([String(second.item.timestamp)]);
  });

  it('lets an expired item disappear from every node', async () => {
    const publisher = net.pick();
    const { item } = await net.run(publisher.set('net/short-lived', Buffer.from('gone soon'), { expires: 60 }));
    expect(holders(item).length).toBeGreaterThanOrEqual(19);
    await net.clock.advance(seconds(61));
    expect(await net.run(otherThan(publisher).getByKey(item.key))).toBeUndefined();
    await net.clock.advance(minutes(11));
    expect(holders(item)).toHaveLength(0);
  });

  it('keeps every item alive on the closest live nodes after a quarter of the nodes fail and republishing runs', async () => {
    const victims = net.nodes.filter((n) => net.isAlive(n)).slice(0, Math.floor(NODES / 4));
    for (const v of victims) net.kill(v);
    const fresh = createItem(Identity.fromSeed(Buffer.alloc(32, 3)), { name: 'net/survivor', value: Buffer.from('still here'), timestamp: net.clock.now() });
    await net.run(net.pick().replicate(fresh));
    await net.clock.advance(minutes(75));
    for (const item of [...published, fresh]) {
      const closestAlive = net.nodes
        .filter((n) => net.isAlive(n))
        .sort((a, b) => compareDistance(a.nodeId, b.nodeId, item.key))
        .slice(0, 20);
      const held = closestAlive.filter((n) => n.store.get(item.key) !== undefined).length;
      expect(held).toBeGreaterThanOrEqual(18);
      const got = await net.run(net.pick().getByKey(item.key));
      expect(got && toHex(got.signature)).toBe(toHex(item.signature));
    }
  });
});
