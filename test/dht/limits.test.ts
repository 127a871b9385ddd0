/**
 * What one peer, or many, can make a node do or hold: a token bucket per
 * source IP on incoming messages (on the virtual clock; the excess dropped
 * and counted, replies we await never limited), bounded memory for every
 * table a stranger can grow, and storage quotas per publisher and in total
 * with a fair eviction order.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import type { NodeEvent } from '../../src/dht/events.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { createItem } from '../../src/protocol/item.js';
import { inspectMessage } from '../../src/protocol/codec.js';
import { hours, seconds } from '../../src/runtime/clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { createTestnet } from '../../src/sim/testnet.js';
import { identityOf, rawRequest } from './raw-requests.js';

const ROUND_TRIP_MS = 21;

describe('per-source rate limits', () => {
  it('answers a source\'s burst, drops and counts the excess, and refills on the virtual clock', async () => {
    const net = await createTestnet(3, { seed: 70, nodeOptions: { requestBurstPerSource: 10, requestsPerSecondPerSource: 5 } });
    const node = net.nodes[0];
    const flooder = identityOf('flooder');
    const random = new SeededRandom(70);
    const from = { host: '127.240.0.1', port: 1908 };
    let answers = 0;
    net.network.tap((p) => {
      if (p.to.host === from.host && inspectMessage(p.bytes).ok && p.from.host === node.address.host) answers++;
    });
    const pingsBefore = node.stats.messagesIn.ping ?? 0;
    const pings = (): number => (node.stats.messagesIn.ping ?? 0) - pingsBefore;
    for (let i = 0; i < 50; i++) net.network.inject(from, node.address, rawRequest(flooder, node, { type: 'ping' }, random, { padToBytes: 512 }));
    await net.clock.advance(ROUND_TRIP_MS);
    expect(node.stats.dropped['rate-limited']).toBe(40);
    expect(pings()).toBe(10);
    // Two seconds refill ten tokens.
    await net.clock.advance(seconds(2));
    for (let i = 0; i < 20; i++) net.network.inject(from, node.address, rawRequest(flooder, node, { type: 'ping' }, random, { padToBytes: 512 }));
    await net.clock.advance(ROUND_TRIP_MS);
    expect(pings()).toBe(20);
    expect(node.stats.dropped['rate-limited']).toBe(50);
    // Another IP has its own bucket.
    const other = { host: '127.240.0.2', port: 1908 };
    net.network.inject(other, node.address, rawRequest(identityOf('someone else'), node, { type: 'ping' }, random, { padToBytes: 512 }));
    await net.clock.advance(ROUND_TRIP_MS);
    expect(pings()).toBe(21);
    expect(answers).toBeGreaterThan(0);
  });

  it('never limits the replies to its own requests, however many it awaits from one host', async () => {
    const net = await createTestnet(1, { seed: 71 });
    const [b] = net.nodes;
    const a = net.addNode({ options: { requestBurstPerSource: 1, requestsPerSecondPerSource: 0.001 } });
    await net.join(a);
    const peer = { publicKey: b.publicKey, id: b.nodeId, ...b.address };
    const replies = await net.run(Promise.all(Array.from({ length: 12 }, () => a.request(peer, { type: 'find-node', key: a.nodeId }))));
    expect(replies.map((r) => r.message.type)).toEqual(Array(12).fill('nodes'));
    expect(a.stats.dropped['rate-limited']).toBeUndefined();
  });

  it('forgets the least recently seen source beyond maxTrackedSources, keeping memory bounded', async () => {
    const net = await createTestnet(2, { seed: 72, nodeOptions: { maxTrackedSources: 8, maxPendingChallenges: 16 } });
    const node = net.nodes[0];
    const random = new SeededRandom(72);
    const pingsBefore = node.stats.messagesIn.ping ?? 0;
    for (let i = 0; i < 200; i++) {
      const from = { host: `127.241.${i >> 8}.${i & 255}`, port: 1908 };
      net.network.inject(from, node.address, rawRequest(identityOf(`stranger ${i}`), node, { type: 'ping' }, random, { padToBytes: 512 }));
    }
    await net.clock.advance(seconds(5));
    const usage = node.resourceUsage();
    expect(usage.rateLimitedSources).toBeLessThanOrEqual(8);
    expect(usage.challenges).toBeLessThanOrEqual(16);
    expect(usage.pendingRequests).toBe(0);
    expect((node.stats.messagesIn.ping ?? 0) - pingsBefore).toBe(200);
    expect(node.stats.dropped['challenge-table-full']).toBeGreaterThan(0);
  });
});

describe('storage quotas on a node', () => {
  const setup = async (options: Record<string, number>) => {
    const net = await createTestnet(2, { seed: 73, nodeOptions: options });
    const node = net.nodes[0];
    const sender = identityOf('sender');
    const random = new SeededRandom(73);
    const events: NodeEvent[] = [];
    node.onEvent((e) => events.push(e));
    const store = async (item: ReturnType<typeof createItem>) => {
      const replies: unknown[] = [];
      const stop = net.network.tap((p) => {
        if (p.to.host === '127.242.0.1') replies.push(inspectMessage(p.bytes));
      });
      net.network.inject({ host: '127.242.0.1', port: 1908 }, node.address, rawRequest(sender, node, { type: 'store', item }, random));
      await net.clock.advance(ROUND_TRIP_MS);
      stop();
      const reply = replies.map((r) => (r as { ok: boolean; value: { message: { type: string; code?: number } } }).value.message).find((m) => m.type !== 'ping');
      return reply;
    };
    return { net, node, events, store };
  };

  it('refuses a publisher\'s item beyond its quota with code 4, and takes another publisher\'s', async () => {
    const { net, node, store } = await setup({ maxItemsPerPublisher: 2 });
    const alice = identityOf('alice');
    const now = net.clock.now();
    expect((await store(createItem(alice, { name: 'one', value: '1', timestamp: now })))?.type).toBe('pong');
    expect((await store(createItem(alice, { name: 'two', value: '2', timestamp: now })))?.type).toBe('pong');
    expect(await store(createItem(alice, { name: 'three', value: '3', timestamp: now }))).toMatchObject({ type: 'error', code: ErrorCode.RequestTooBig });
    expect((await store(createItem(identityOf('bob'), { name: 'one', value: '1', timestamp: now })))?.type).toBe('pong');
    expect(node.store.size).toBe(3);
  });

  it('evicts an expired item first when full, and says so in an event', async () => {
    const { net, node, events, store } = await setup({ maxStoredItems: 2 });
    const now = net.clock.now();
    const shortLived = createItem(identityOf('carol'), { name: 'brief', value: '1', timestamp: now, expires: now + seconds(30) });
    const lasting = createItem(identityOf('dave'), { name: 'kept', value: '2', timestamp: now });
    expect((await store(shortLived))?.type).toBe('pong');
    expect((await store(lasting))?.type).toBe('pong');
    await net.clock.advance(seconds(31));
    expect((await store(createItem(identityOf('erin'), { name: 'new', value: '3', timestamp: net.clock.now() })))?.type).toBe('pong');
    expect(node.store.get(shortLived.key)).toBeUndefined();
    expect(node.store.get(lasting.key)).toBeDefined();
    expect(events).toContainEqual({ type: 'item-dropped', keyHex: toHex(shortLived.key), reason: 'evicted for a new item (expired)' });
  });

  it('refuses a new key with code 4 when nothing can be evicted fairly', async () => {
    const { net, node, store } = await setup({ maxStoredItems: 2, refreshIntervalMs: hours(100) });
    const now = net.clock.now();
    expect((await store(createItem(identityOf('p1'), { name: 'x', value: '1', timestamp: now })))?.type).toBe('pong');
    expect((await store(createItem(identityOf('p2'), { name: 'x', value: '1', timestamp: now })))?.type).toBe('pong');
    const refused = await store(createItem(identityOf('p3'), { name: 'x', value: '1', timestamp: now }));
    expect(refused).toMatchObject({ type: 'error', code: ErrorCode.RequestTooBig });
    expect(node.store.size).toBe(2);
  });
});
