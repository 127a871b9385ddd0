/**
 * RpcClient over a MemoryNetwork: a hand-driven peer reads each request and
 * writes the reply a test needs (genuine, from another host, to another id,
 * sealed by another key), so matching, timeouts and failures show exactly.
 */
import { describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { RpcClient, RpcFailure, type RpcReply } from '../../src/dht/rpc.js';
import { decodeMessage, encodeMessage } from '../../src/protocol/codec.js';
import type { Envelope, Message, MessageBody, Reply, Request } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import type { Address } from '../../src/routing/contact.js';
import { seconds } from '../../src/runtime/clock.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';

const LATENCY_MS = 5;
const RPC_TIMEOUT_MS = seconds(2);

const identity = (byte: number): Identity => Identity.fromSeed(Buffer.alloc(32, byte));

/** A client RpcClient and a peer whose replies each test writes by hand. */
const setup = (options: { maxPendingRequests?: number } = {}) => {
  const clock = new ManualClock();
  const random = new SeededRandom(42);
  const network = new MemoryNetwork({ clock, random: random.fork(), latencyMs: LATENCY_MS });
  const clientIdentity = identity(1);
  const peerIdentity = identity(2);
  const clientTransport = network.createTransport();
  const peerTransport = network.createTransport();
  const rpc = new RpcClient(clientIdentity, clientTransport, clock, random.fork(), {
    rpcTimeoutMs: RPC_TIMEOUT_MS,
    maxPendingRequests: options.maxPendingRequests ?? 100,
  });
  clientTransport.onReceive((bytes, from) => {
    const decoded = decodeMessage(bytes);
    if (decoded.ok) rpc.handleReply(decoded.value, from);
  });
  const requests: Array<{ message: Request; from: Address }> = [];
  peerTransport.onReceive((bytes, from) => {
    const decoded = decodeMessage(bytes);
    if (decoded.ok) requests.push({ message: decoded.value.message as Request, from });
  });
  const peer = { publicKey: peerIdentity.publicKey, id: peerIdentity.nodeId };

  /** A sealed reply to `request`, from the peer unless a test says otherwise. */
  const replyBytes = (request: Request, body: MessageBody<Reply>, sealer = peerIdentity, overrides: Partial<Envelope> = {}): Buffer =>
    encodeMessage(
      {
        ...body,
        requestId: request.requestId,
        senderPublicKey: sealer.publicKey,
        replyPort: peerTransport.localAddress.port,
        version: PROTOCOL_VERSION,
        recipientId: clientIdentity.nodeId,
        ...overrides,
      } as Message,
      sealer,
    );

  /** Lets the request reach the peer. */
  const deliver = (): Promise<void> => clock.advance(LATENCY_MS);

  return { clock, network, rpc, clientIdentity, clientTransport, peerTransport, peer, requests, replyBytes, deliver };
};

const failureOf = async (promise: Promise<unknown>): Promise<RpcFailure> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RpcFailure);
  return error as RpcFailure;
};

describe('RpcClient', () => {
  it('resolves a request with the sealed reply that echoes its id, proving the responder address', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    expect(requests).toHaveLength(1);
    expect(requests[0].message.type).toBe('ping');
    expect(Buffer.from(requests[0].message.recipientId)).toEqual(peer.id);
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }));
    const reply = await clock.run(pending);
    expect(reply.message.type).toBe('pong');
    expect(reply.responderId).toEqual(peer.id);
    expect(reply.responder).toEqual({ publicKey: peer.publicKey, ...peerTransport.localAddress });
    expect(reply.rttMs).toBe(2 * LATENCY_MS);
    expect(rpc.counters).toMatchObject({ sent: 1, repliesMatched: 1, repliesUnmatched: 0, timeouts: 0 });
    expect(rpc.pendingCount).toBe(0);
  });

  it('matches each reply to its own request when replies come back in another order', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const keys = [Buffer.alloc(64, 1), Buffer.alloc(64, 2), Buffer.alloc(64, 3)];
    const pending = keys.map((key) => rpc.request(peerTransport.localAddress, { type: 'find-node', key }, peer));
    await deliver();
    expect(requests).toHaveLength(3);
    // Answer last first; each answer names, in its port, the key it answers.
    for (const { message, from } of requests.slice().reverse()) {
      if (message.type !== 'find-node') throw new Error('expected a find-node');
      const port = 1000 + message.key[0];
      peerTransport.send(from, replyBytes(message, { type: 'nodes', nodes: [{ publicKey: peer.publicKey, host: '10.0.0.1', port }] }));
    }
    const replies: RpcReply[] = await clock.run(Promise.all(pending));
    expect(replies.map((r) => (r.message.type === 'nodes' ? r.message.nodes[0].port : 0))).toEqual([1001, 1002, 1003]);
    expect(rpc.counters.repliesMatched).toBe(3);
  });

  it('gives every request a fresh random id', async () => {
    const { rpc, peer, peerTransport, requests, deliver } = setup();
    for (let i = 0; i < 5; i++) void rpc.request(peerTransport.localAddress, { type: 'ping' }, peer).catch(() => undefined);
    await deliver();
    const ids = new Set(requests.map((r) => Buffer.from(r.message.requestId).toString('hex')));
    expect(ids.size).toBe(5);
    rpc.close();
  });

  it('ignores a reply with an id it never sent', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    const other = { ...requests[0].message, requestId: Buffer.alloc(16, 0xee) };
    peerTransport.send(requests[0].from, replyBytes(other, { type: 'pong' }));
    const failure = await failureOf(clock.run(pending));
    expect(failure.reason).toBe('timeout');
    expect(rpc.counters.repliesUnmatched).toBe(1);
  });

  it('ignores a correct reply that comes from another host, and the request then times out', async () => {
    const { clock, network, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    const bytes = replyBytes(requests[0].message, { type: 'pong' });
    network.inject({ host: '127.99.0.1', port: peerTransport.localAddress.port }, requests[0].from, bytes);
    const failure = await failureOf(clock.run(pending));
    expect(failure.reason).toBe('timeout');
    expect(rpc.counters).toMatchObject({ repliesMatched: 0, repliesUnmatched: 1, timeouts: 1 });
  });

  it('ignores a reply addressed to another node id, and the request then times out', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }, undefined, { recipientId: identity(9).nodeId }));
    const failure = await failureOf(clock.run(pending));
    expect(failure.reason).toBe('timeout');
    expect(rpc.counters).toMatchObject({ repliesMatched: 0, repliesUnmatched: 1 });
  });

  it('ignores a reply sealed by a key other than the one it asked, and the request then times out', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }, identity(7)));
    const failure = await failureOf(clock.run(pending));
    expect(failure.reason).toBe('timeout');
    expect(rpc.counters).toMatchObject({ repliesMatched: 0, repliesUnmatched: 1 });
  });

  it('still accepts the genuine reply after ignoring a forged one', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }, identity(7)));
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }));
    const reply = await clock.run(pending);
    expect(reply.responderId).toEqual(peer.id);
    expect(rpc.counters).toMatchObject({ repliesMatched: 1, repliesUnmatched: 1 });
  });

  it('accepts a Ping reply sealed by any key when it asked an address without knowing its key', async () => {
    const { clock, rpc, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, undefined);
    await deliver();
    expect(requests[0].message.recipientId).toHaveLength(0);
    const stranger = identity(5);
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }, stranger));
    const reply = await clock.run(pending);
    expect(reply.responderId).toEqual(stranger.nodeId);
  });

  it('refuses to send anything but a Ping to an address whose key it does not know', () => {
    const { rpc, peerTransport } = setup();
    expect(() => rpc.request(peerTransport.localAddress, { type: 'find-node', key: Buffer.alloc(64) }, undefined)).toThrow(/only a Ping/);
    expect(rpc.counters.sent).toBe(0);
  });

  it('rejects with reason timeout when no reply comes within rpcTimeoutMs', async () => {
    const { clock, rpc, peer, peerTransport } = setup();
    const started = clock.now();
    const failure = await failureOf(clock.run(rpc.request(peerTransport.localAddress, { type: 'ping' }, peer)));
    expect(failure.reason).toBe('timeout');
    expect(failure.name).toBe('RpcFailure');
    expect(clock.now() - started).toBe(RPC_TIMEOUT_MS);
    expect(rpc.counters.timeouts).toBe(1);
    expect(rpc.pendingCount).toBe(0);
  });

  it('uses a per-request timeout when one is given', async () => {
    const { clock, rpc, peer, peerTransport } = setup();
    const started = clock.now();
    const failure = await failureOf(clock.run(rpc.request(peerTransport.localAddress, { type: 'ping' }, peer, { timeoutMs: 300 })));
    expect(failure.reason).toBe('timeout');
    expect(clock.now() - started).toBe(300);
  });

  it('ignores a reply that arrives after its request timed out', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    expect((await failureOf(clock.run(pending))).reason).toBe('timeout');
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }));
    await clock.advance(LATENCY_MS);
    expect(rpc.counters).toMatchObject({ repliesMatched: 0, repliesUnmatched: 1 });
  });

  it('rejects with reason aborted when its signal aborts, and ignores the reply that follows', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const controller = new AbortController();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer, { signal: controller.signal });
    await deliver();
    controller.abort();
    expect((await failureOf(pending)).reason).toBe('aborted');
    expect(rpc.pendingCount).toBe(0);
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }));
    await clock.advance(RPC_TIMEOUT_MS);
    expect(rpc.counters).toMatchObject({ repliesMatched: 0, repliesUnmatched: 1, timeouts: 0 });
  });

  it('rejects at once, sending nothing, when its signal is already aborted', async () => {
    const { rpc, peer, peerTransport } = setup();
    const failure = await failureOf(rpc.request(peerTransport.localAddress, { type: 'ping' }, peer, { signal: AbortSignal.abort() }));
    expect(failure.reason).toBe('aborted');
    expect(rpc.counters.sent).toBe(0);
  });

  it('rejects with reason overloaded beyond maxPendingRequests, and accepts again once one settles', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup({ maxPendingRequests: 2 });
    const first = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    const second = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    expect((await failureOf(rpc.request(peerTransport.localAddress, { type: 'ping' }, peer))).reason).toBe('overloaded');
    expect(rpc.counters.sent).toBe(2);
    await deliver();
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }));
    await clock.run(first);
    const third = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    expect(rpc.pendingCount).toBe(2);
    rpc.close();
    await Promise.allSettled([second, third]);
  });

  it('fails every pending request with reason closed on close(), and every later one too', async () => {
    const { rpc, peer, peerTransport } = setup();
    const pending = [1, 2, 3].map(() => rpc.request(peerTransport.localAddress, { type: 'ping' }, peer));
    expect(rpc.pendingCount).toBe(3);
    rpc.close();
    for (const p of pending) expect((await failureOf(p)).reason).toBe('closed');
    expect(rpc.pendingCount).toBe(0);
    expect((await failureOf(rpc.request(peerTransport.localAddress, { type: 'ping' }, peer))).reason).toBe('closed');
  });

  it('leaves no timer behind once a request has settled', async () => {
    const { clock, rpc, peer, peerTransport, requests, replyBytes, deliver } = setup();
    const pending = rpc.request(peerTransport.localAddress, { type: 'ping' }, peer);
    await deliver();
    peerTransport.send(requests[0].from, replyBytes(requests[0].message, { type: 'pong' }));
    await clock.run(pending);
    expect(clock.pendingTimers).toBe(0);
  });
});
