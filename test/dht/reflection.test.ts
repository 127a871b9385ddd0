/**
 * No reflection: to an address that has not proven it receives what we send
 * (no round trip with that key at that address), a node sends no more bytes
 * than it received from there. Checked two ways over a flood of requests
 * from forged source addresses: the network's own count of bytes per address
 * and the nodes' counters. And what keeps honest nodes whole: padded
 * requests earn full replies, a large value reaches an unproven requester
 * once it answers the challenge, and a replayed request draws nothing.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { createItem } from '../../src/protocol/item.js';
import type { MessageBody, Request } from '../../src/protocol/messages.js';
import { inspectMessage } from '../../src/protocol/codec.js';
import { formatAddress } from '../../src/routing/contact.js';
import { compareDistance } from '../../src/routing/distance.js';
import { seconds } from '../../src/runtime/clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { createTestnet } from '../../src/sim/testnet.js';
import { identityOf, rawRequest } from './raw-requests.js';

describe('no reflection toward unproven addresses', () => {
  it('sends every forged source address no more bytes than came from it, over a flood of every kind of request', async () => {
    const net = await createTestnet(30, { seed: 80 });
    const publisher = net.nodes[0];
    const big = await net.run(publisher.set('big', new SeededRandom(1).bytes(20_000)));
    const small = await net.run(publisher.set('small', Buffer.from('tiny')));
    const random = new SeededRandom(80);
    const bytesIn = new Map<string, number>();
    const bytesOut = new Map<string, number>();
    const spoofed = (i: number) => ({ host: `127.230.${i >> 8}.${i & 255}`, port: 1908 });
    const spoofedHosts = new Set(Array.from({ length: 200 }, (_, i) => spoofed(i).host));
    net.network.tap((p) => {
      if (spoofedHosts.has(p.from.host)) bytesIn.set(formatAddress(p.from), (bytesIn.get(formatAddress(p.from)) ?? 0) + p.bytes.length);
      if (spoofedHosts.has(p.to.host)) bytesOut.set(formatAddress(p.to), (bytesOut.get(formatAddress(p.to)) ?? 0) + p.bytes.length);
    });
    const countersBefore = net.nodes.map((n) => ({ in: n.stats.unprovenBytesIn, out: n.stats.unprovenBytesOut }));
    const bodies: Array<MessageBody<Request>> = [
      { type: 'ping' },
      { type: 'find-node', key: Buffer.from(random.bytes(64)) },
      { type: 'find-value', key: big.item.key },
      { type: 'find-value', key: small.item.key },
      { type: 'find-value', key: Buffer.from(random.bytes(64)) },
      { type: 'store', item: createItem(identityOf('flood publisher'), { name: 'junk', value: '1', timestamp: net.clock.now() }) },
    ];
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      const from = spoofed(i);
      const sender = identityOf(`forger ${i % 50}`);
      for (const body of bodies) {
        // The holders of the big item, and anyone: every node is asked.
        const target = net.nodes[(i * 7 + sent) % net.nodes.length];
        const padToBytes = [0, 600, 1200][sent % 3];
        net.network.inject(from, target.address, rawRequest(sender, target, body, random, { padToBytes, mac: sent % 2 === 0 }));
        sent++;
      }
    }
    await net.clock.advance(seconds(10));
    expect(sent).toBe(1200);
    let totalIn = 0;
    let totalOut = 0;
    for (const [address, inBytes] of bytesIn) {
      const out = bytesOut.get(address) ?? 0;
      expect(out, `bytes sent to ${address}`).toBeLessThanOrEqual(inBytes);
      totalIn += inBytes;
      totalOut += out;
    }
    // Replies did go out (the nodes answered what fitted), and the counters agree with the wire.
    expect(totalOut).toBeGreaterThan(totalIn / 4);
    const countedIn = net.nodes.reduce((sum, n, i) => sum + n.stats.unprovenBytesIn - countersBefore[i].in, 0);
    const countedOut = net.nodes.reduce((sum, n, i) => sum + n.stats.unprovenBytesOut - countersBefore[i].out, 0);
    expect(countedIn).toBe(totalIn);
    expect(countedOut).toBe(totalOut);
    expect(countedOut).toBeLessThanOrEqual(countedIn);
    // The holders of the 20 KB item answered its FindValue with a small Error 4, never the Value.
    const shrunk = net.nodes.reduce((sum, n) => sum + (n.stats.repliesShrunk.value ?? 0), 0);
    expect(shrunk).toBeGreaterThan(0);
  });

  it('sends a proven address a full reply, but a forged request from that address with another key only what it brought', async () => {
    const net = await createTestnet(25, { seed: 81 });
    const [a, b] = net.nodes;
    await net.run(b.ping(a.address, a.publicKey)); // a has answered b at a's address
    const random = new SeededRandom(81);
    let toA = 0;
    net.network.tap((p) => {
      if (p.to.host === a.address.host && p.from.host === b.address.host) toA += p.bytes.length;
    });
    // A forger speaks from a's address with its own key: unproven, whatever a proved.
    const request = rawRequest(identityOf('forger'), b, { type: 'find-node', key: a.nodeId }, random);
    net.network.inject(a.address, b.address, request);
    await net.clock.advance(seconds(5));
    expect(toA).toBeLessThanOrEqual(request.length);
    // a itself gets its full answer, unpadded.
    const reply = await net.run(a.request({ publicKey: b.publicKey, id: b.nodeId, ...b.address }, { type: 'find-node', key: a.nodeId }));
    expect(reply.message.type === 'nodes' && reply.message.nodes.length).toBe(Math.min(20, b.table.size - 1));
  });

  it('drops a replayed request from the address that sent it, so a replay cannot draw a full reply there', async () => {
    // No self-lookups after the joins: b must send nothing but what the replay could draw.
    const net = await createTestnet(6, { seed: 82, nodeOptions: { joinFollowUpLookups: 0 } });
    const [a, b] = net.nodes;
    const captured: Uint8Array[] = [];
    const untap = net.network.tap((p) => {
      const decoded = inspectMessage(p.bytes);
      if (decoded.ok && decoded.value.message.type === 'find-node' && p.from.host === a.address.host && p.to.host === b.address.host) captured.push(p.bytes);
    });
    await net.run(a.request({ publicKey: b.publicKey, id: b.nodeId, ...b.address }, { type: 'find-node', key: a.nodeId }));
    untap();
    const before = b.stats.totalOut;
    net.network.inject(a.address, b.address, captured[0]);
    await net.clock.advance(seconds(1));
    expect(b.stats.dropped['replayed-request']).toBe(1);
    expect(b.stats.totalOut).toBe(before);
  });
});

describe('honest nodes under the reflection rule', () => {
  it('joins and fills its table through nodes that have not proven its address, padding its first requests', async () => {
    const net = await createTestnet(40, { seed: 83 });
    const newcomer = net.addNode();
    const paddedSizes: number[] = [];
    net.network.tap((p) => {
      const decoded = inspectMessage(p.bytes);
      if (p.from.host === newcomer.address.host && decoded.ok && decoded.value.message.type === 'find-node') paddedSizes.push(p.bytes.length);
    });
    await net.join(newcomer);
    expect(newcomer.table.size).toBeGreaterThanOrEqual(20);
    // Its first FindNodes went padded to 1,200 bytes; some later ones, to peers it has answered, did not.
    expect(paddedSizes[0]).toBe(1200);
    expect(paddedSizes.filter((n) => n === 1200).length).toBeGreaterThan(paddedSizes.length / 2);
    // And the network learnt it: it answered challenges, so others hold it.
    expect(net.nodes.filter((n) => n.table.get(newcomer.nodeId)).length).toBeGreaterThanOrEqual(10);
  });

  it('gets a 30 KB value from holders that never heard of it: Error 4, their challenge answered, then the Value', async () => {
    const net = await createTestnet(30, { seed: 84, nodeOptions: { k: 4 } });
    const publisher = net.nodes[0];
    const { item } = await net.run(publisher.set('large', new SeededRandom(2).bytes(30_000)));
    // A fresh node, joined through the node farthest from the key: the holders have never heard of it.
    const far = net.nodes.slice().sort((x, y) => compareDistance(y.nodeId, x.nodeId, item.key))[0];
    const getter = net.addNode();
    await net.run(getter.join([{ ...far.address, publicKey: far.publicKey }]));
    const errors: number[] = [];
    const report = await net.run(getter.retrieve(item.key, { onEvent: (e) => e.type === 'failed' && errors.push(1) }));
    expect(report.item && toHex(report.item.signature)).toBe(toHex(item.signature));
    const shrunk = net.nodes.reduce((sum, n) => sum + (n.stats.repliesShrunk.value ?? 0), 0);
    expect(shrunk).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});
