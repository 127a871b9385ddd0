/**
 * UdpTransport on the loopback interface (127.0.0.1 and ::1, nothing else):
 * the transport contract, which messages take UDP and which TCP, every bound
 * (frame size, datagram size, connections, queued bytes, idle time), hostile
 * bytes on the TCP port, and two real DrogulusNodes storing and finding a
 * value too big for a datagram. Waits are real but bounded polls. The frame
 * decoder, being pure, is checked here too, without sockets.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { DEFAULTS } from '../../src/dht/defaults.js';
import { DrogulusNode } from '../../src/dht/node.js';
import type { Address } from '../../src/routing/contact.js';
import { SeededRandom, SystemRandom } from '../../src/runtime/random.js';
import { SystemClock } from '../../src/runtime/system-clock.js';
import { MemoryItemStore } from '../../src/storage/memory-item-store.js';
import { encodeFrame, FrameDecoder } from '../../src/transport/tcp-framing.js';
import { normaliseHost, UdpTransport, type UdpTransportOptions } from '../../src/transport/udp-transport.js';
import { runTransportContract } from './transport-contract.js';

const V4 = '127.0.0.1';
const V6 = '::1';
const MAX_MESSAGE_BYTES = DEFAULTS.maxMessageBytes;

/** Whether this machine has an IPv6 loopback, asked once by binding a UDP socket to it. */
const probeIpv6 = (): Promise<string | undefined> =>
  new Promise((resolve) => {
    const socket = dgram.createSocket('udp6');
    socket.once('error', (error) => {
      socket.close();
      resolve(error.message);
    });
    socket.bind(0, V6, () => socket.close(() => resolve(undefined)));
  });
const ipv6Problem = await probeIpv6();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every few ms; fails, rather than hangs, after `withinMs`. */
const waitUntil = async (done: () => boolean, what: string, withinMs = 5_000): Promise<void> => {
  const deadline = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await sleep(5);
  }
};

const opened: UdpTransport[] = [];
const rawSockets: Array<net.Socket | net.Server | dgram.Socket> = [];

const bind = async (options: Partial<UdpTransportOptions> = {}): Promise<UdpTransport> => {
  const transport = await UdpTransport.bind({ host: V4, port: 0, maxMessageBytes: MAX_MESSAGE_BYTES, ...options });
  opened.push(transport);
  return transport;
};

afterEach(async () => {
  for (const raw of rawSockets.splice(0)) {
    if (raw instanceof net.Socket) raw.destroy();
    else raw.close();
  }
  await Promise.all(opened.splice(0).map((t) => t.shutdown()));
});

const pairOn = (host: string) => async () => {
  if (host === V6 && ipv6Problem !== undefined) throw new Error(`the IPv6 loopback ${V6} is not available on this machine: ${ipv6Problem}`);
  const a = await UdpTransport.bind({ host, port: 0, maxMessageBytes: MAX_MESSAGE_BYTES });
  const b = await UdpTransport.bind({ host, port: 0, maxMessageBytes: MAX_MESSAGE_BYTES });
  return {
    a,
    b,
    advance: sleep,
    cleanup: async () => {
      await Promise.all([a.shutdown(), b.shutdown()]);
    },
  };
};

runTransportContract('UdpTransport on 127.0.0.1', pairOn(V4), { largeMessages: true });
runTransportContract('UdpTransport on ::1', pairOn(V6), { largeMessages: true });

/** A raw TCP client connected to `to`. */
const rawClient = async (to: Address): Promise<net.Socket> => {
  const socket = net.connect({ host: to.host, port: to.port });
  rawSockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve();
    });
  });
  return socket;
};

const closedSoon = (socket: net.Socket): Promise<boolean> =>
  new Promise((resolve) => {
    if (socket.closed) return resolve(true);
    const timer = setTimeout(() => resolve(false), 2_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

/** A TCP server that accepts connections and never reads from them. */
const sink = async (): Promise<Address> => {
  const server = net.createServer({ pauseOnConnect: true });
  server.on('connection', (socket) => socket.on('error', () => undefined));
  rawSockets.push(server);
  await new Promise<void>((resolve) => server.listen(0, V4, resolve));
  return { host: V4, port: (server.address() as net.AddressInfo).port };
};

/** Sends 60 KB messages to a peer that never reads until the transport starts dropping them. */
const fillQueue = async (transport: UdpTransport, to: Address): Promise<number> => {
  const message = Buffer.alloc(60 * 1024, 7);
  transport.send(to, message);
  let sent = 1;
  // Connected and flushed: from here on, what the transport holds is what the kernel would not take.
  await waitUntil(() => transport.connectionInfo().some((c) => c.connected && c.queuedBytes === 0), 'the connection to the sink');
  // The kernel's socket buffers take a few MB first; 64 MB is far beyond them.
  while (transport.counters.dropped['queue-full'] === 0 && sent < 1024) {
    transport.send(to, message);
    sent++;
    if (sent % 16 === 0) await sleep(1);
  }
  return sent;
};

describe('UdpTransport', () => {
  it('has an IPv6 loopback to test on', () => {
    expect(ipv6Problem, `binding a UDP socket to ${V6} failed`).toBeUndefined();
  });

  it('binds UDP and TCP on the same port, chosen freely when asked for port 0', async () => {
    const t = await bind();
    expect(t.localAddress.host).toBe(V4);
    expect(t.localAddress.port).toBeGreaterThan(0);
    const client = await rawClient(t.localAddress);
    expect(client.remotePort).toBe(t.localAddress.port);
  });

  it('refuses to bind a host name, or a port already taken', async () => {
    await expect(UdpTransport.bind({ host: 'localhost', port: 0, maxMessageBytes: 1000 })).rejects.toThrow(/IP address/);
    const t = await bind();
    await expect(UdpTransport.bind({ host: V4, port: t.localAddress.port, maxMessageBytes: 1000 })).rejects.toThrow(/EADDRINUSE/);
  });

  it('sends a message of maxDatagramBytes by UDP and one of a byte more over TCP', async () => {
    const a = await bind({ maxDatagramBytes: 1200 });
    const b = await bind();
    const sizes: number[] = [];
    b.onReceive((bytes) => sizes.push(bytes.length));
    a.send(b.localAddress, Buffer.alloc(1200, 1));
    await waitUntil(() => sizes.length === 1, 'the datagram');
    expect(a.counters).toMatchObject({ datagramsOut: 1, framesOut: 0 });
    a.send(b.localAddress, Buffer.alloc(1201, 1));
    await waitUntil(() => sizes.length === 2, 'the frame');
    expect(sizes).toEqual([1200, 1201]);
    expect(a.counters).toMatchObject({ datagramsOut: 1, framesOut: 1, connectionsOpened: 1, bytesOut: 2401 });
    expect(b.counters).toMatchObject({ datagramsIn: 1, framesIn: 1, connectionsAccepted: 1, bytesIn: 2401 });
  });

  it('reuses one connection for every large message to the same address, and replies on it', async () => {
    const a = await bind();
    const b = await bind();
    let replies = 0;
    a.onReceive(() => replies++);
    b.onReceive((_bytes, from) => b.send(from, Buffer.from('small reply over the incoming connection')));
    for (let i = 0; i < 5; i++) a.send(b.localAddress, Buffer.alloc(5000, i));
    await waitUntil(() => replies === 5, 'five replies');
    expect(a.counters.connectionsOpened).toBe(1);
    expect(b.counters).toMatchObject({ connectionsAccepted: 1, connectionsOpened: 0, framesOut: 5, datagramsOut: 0 });
  });

  it('drops, counts and never delivers empty datagrams and datagrams over maxMessageBytes', async () => {
    const t = await bind({ maxMessageBytes: 2000 });
    const received: number[] = [];
    t.onReceive((bytes) => received.push(bytes.length));
    const raw = dgram.createSocket('udp4');
    rawSockets.push(raw);
    await new Promise<void>((resolve) => raw.bind(0, V4, resolve));
    for (const size of [3000, 0, 2001, 2000]) raw.send(Buffer.alloc(size, 1), t.localAddress.port, V4);
    await waitUntil(() => received.length === 1, 'the one datagram within the limit');
    await waitUntil(() => t.counters.dropped['oversized-datagram'] === 2 && t.counters.dropped['empty-datagram'] === 1, 'the drops');
    expect(received).toEqual([2000]);
    expect(t.counters.datagramsIn).toBe(1);
  });

  it('refuses to send a message over maxMessageBytes, or to an address that is not an IP of its family', async () => {
    const t = await bind({ maxMessageBytes: 2000 });
    t.send({ host: V4, port: 9 }, Buffer.alloc(2001));
    t.send({ host: 'example.org', port: 9 }, Buffer.alloc(10));
    t.send({ host: V6, port: 9 }, Buffer.alloc(10));
    t.send({ host: V4, port: 0 }, Buffer.alloc(10));
    expect(t.counters.dropped).toMatchObject({ 'oversized-message': 1, 'bad-address': 3 });
    expect(t.counters.datagramsOut + t.counters.framesOut).toBe(0);
  });

  it('closes a connection whose frame announces more than maxMessageBytes', async () => {
    const t = await bind({ maxMessageBytes: 2000 });
    const received: number[] = [];
    t.onReceive((bytes) => received.push(bytes.length));
    const client = await rawClient(t.localAddress);
    const ok = Buffer.alloc(4 + 10, 1);
    ok.writeUInt32BE(10, 0);
    const tooBig = Buffer.alloc(4 + 100, 1);
    tooBig.writeUInt32BE(2001, 0);
    client.write(Buffer.concat([ok, tooBig]));
    expect(await closedSoon(client)).toBe(true);
    expect(received).toEqual([10]);
    expect(t.counters.dropped['oversized-frame']).toBe(1);
    await waitUntil(() => t.openConnections === 0, 'the connection to be forgotten');
  });

  it('survives garbage on the TCP port: random bytes, a huge length prefix, a frame cut short, and goes on working', async () => {
    const t = await bind();
    const frames: number[] = [];
    t.onReceive((bytes) => frames.push(bytes.length));
    const random = new SeededRandom(99);
    const garbage = await rawClient(t.localAddress);
    garbage.write(random.bytes(100_000));
    const huge = await rawClient(t.localAddress);
    huge.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    const cut = await rawClient(t.localAddress);
    cut.write(Buffer.from([0, 0, 0x10, 0, 1, 2, 3]));
    cut.destroy();
    const empty = await rawClient(t.localAddress);
    empty.write(Buffer.from([0, 0, 0, 0]));
    expect(await closedSoon(garbage)).toBe(true);
    expect(await closedSoon(huge)).toBe(true);
    await waitUntil(() => t.counters.dropped['empty-frame'] === 1, 'the empty frame');
    expect(t.counters.dropped['oversized-frame']).toBe(2);
    expect(frames).toEqual([]);
    // Still working, both ways.
    const peer = await bind();
    const back: number[] = [];
    peer.onReceive((bytes) => back.push(bytes.length));
    t.onReceive((bytes, from) => t.send(from, bytes));
    peer.send(t.localAddress, Buffer.alloc(10_000));
    peer.send(t.localAddress, Buffer.alloc(100));
    await waitUntil(() => back.length === 2, 'echoes from the transport that got the garbage');
  });

  it('closes the least recently active connection to stay within maxConnections', async () => {
    const t = await bind({ maxConnections: 2 });
    const first = await rawClient(t.localAddress);
    const second = await rawClient(t.localAddress);
    await waitUntil(() => t.counters.connectionsAccepted === 2, 'two connections');
    const frame = Buffer.from([0, 0, 0, 1, 42]);
    first.write(frame); // first is now more recently active than second
    await waitUntil(() => t.counters.framesIn === 1, 'the frame on the first connection');
    const third = await rawClient(t.localAddress);
    expect(await closedSoon(second)).toBe(true);
    await waitUntil(() => t.counters.connectionsAccepted === 3, 'the third connection');
    expect(t.openConnections).toBe(2);
    expect(t.counters.connectionsEvicted).toBe(1);
    expect(first.closed || third.closed).toBe(false);
  });

  it('drops messages to a peer that never reads once its queue is full, instead of growing without bound', async () => {
    const bound = 256 * 1024;
    const t = await bind({ maxQueuedBytesPerConnection: bound });
    const to = await sink();
    const sent = await fillQueue(t, to);
    expect(t.counters.dropped['queue-full']).toBe(1);
    expect(t.counters.framesOut).toBe(sent - 1);
    const [connection] = t.connectionInfo();
    expect(connection).toMatchObject({ remote: to, direction: 'outgoing', connected: true });
    expect(connection.queuedBytes).toBeLessThanOrEqual(bound);
    for (let i = 0; i < 100; i++) t.send(to, Buffer.alloc(60 * 1024));
    expect(t.counters.dropped['queue-full']).toBe(101);
    expect(t.connectionInfo()[0].queuedBytes).toBeLessThanOrEqual(bound);
  });

  it('refuses new connections, counted, when every connection is busy sending', async () => {
    const t = await bind({ maxConnections: 1, maxQueuedBytesPerConnection: 128 * 1024 });
    await fillQueue(t, await sink());
    const other = await bind();
    t.send(other.localAddress, Buffer.alloc(5000));
    expect(t.counters.dropped['too-many-connections']).toBe(1);
    const client = await rawClient(t.localAddress);
    expect(await closedSoon(client)).toBe(true);
    expect(t.counters.dropped['too-many-connections']).toBe(2);
    expect(t.openConnections).toBe(1);
  });

  it('counts the messages queued on a connection that cannot be made as connect-failed', async () => {
    const t = await bind();
    const nobody = await bind();
    const port = nobody.localAddress.port;
    await nobody.shutdown();
    t.send({ host: V4, port }, Buffer.alloc(5000));
    t.send({ host: V4, port }, Buffer.alloc(5000));
    await waitUntil(() => t.counters.dropped['connect-failed'] === 2, 'the refused connection');
    expect(t.openConnections).toBe(0);
  });

  it('closes a connection idle for idleTimeoutMs', async () => {
    const t = await bind({ idleTimeoutMs: 100 });
    const client = await rawClient(t.localAddress);
    expect(await closedSoon(client)).toBe(true);
    await waitUntil(() => t.openConnections === 0, 'the transport to forget the connection');
    expect(t.counters.connectionsIdleClosed).toBe(1);
  });

  it('closes the UDP socket, the TCP server and every connection, and says when it is done', async () => {
    const t = await bind();
    const client = await rawClient(t.localAddress);
    t.close();
    t.close();
    await t.closed;
    expect(await closedSoon(client)).toBe(true);
    await expect(rawClient(t.localAddress)).rejects.toThrow();
  });

  it('reads IPv4-mapped IPv6 addresses as the IPv4 addresses they are', () => {
    expect(normaliseHost('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseHost('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(normaliseHost('::1')).toBe('::1');
    expect(normaliseHost('127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseHost('::ffff:7f00:1')).toBe('::ffff:7f00:1');
  });
});

describe('two DrogulusNodes over UdpTransport on 127.0.0.1', () => {
  const nodes: DrogulusNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  const startNode = async (): Promise<{ node: DrogulusNode; transport: UdpTransport }> => {
    const transport = await bind();
    const node = new DrogulusNode({ identity: Identity.generate(), transport, clock: new SystemClock(), random: new SystemRandom(), store: new MemoryItemStore() });
    node.start();
    nodes.push(node);
    return { node, transport };
  };

  it('ping, join, store a 30 KB value over TCP and find it from the other node, its Value coming back over TCP', async () => {
    const a = await startNode();
    const b = await startNode();
    const pong = await b.node.ping(a.transport.localAddress);
    expect(Buffer.from(pong.responder.publicKey).equals(a.node.publicKey)).toBe(true);
    await b.node.join([{ ...a.transport.localAddress, publicKey: a.node.publicKey }]);
    // a learns b by challenging it after b's first request.
    await waitUntil(() => a.node.table.size === 1, 'a to verify b');

    const value = new SeededRandom(30).bytes(30 * 1024);
    const framesBefore = { a: a.transport.counters.framesOut, b: b.transport.counters.framesOut };
    const report = await a.node.set('thirty-kilobytes', value, { duplicate: 2 });
    expect(report.stored).toBe(2);
    expect(a.transport.counters.framesOut).toBe(framesBefore.a + 1); // the Store
    expect(b.node.store.get(report.item.key)?.item.value).toEqual(value);

    const found = await b.node.retrieve(report.item.key, { fresh: true });
    expect(found.source).toBe('network');
    expect(Buffer.from(found.item!.value as Uint8Array).equals(Buffer.from(value))).toBe(true);
    expect(a.transport.counters.framesOut).toBe(framesBefore.a + 2); // the Value
    expect(b.transport.counters.framesIn).toBe(2);
    expect(a.transport.counters.connectionsOpened + b.transport.counters.connectionsOpened).toBe(1);
  });
});

describe('FrameDecoder', () => {
  const messages = [Buffer.from('one'), Buffer.alloc(0), new SeededRandom(7).bytes(1000), Buffer.from('last')].map((m) => Buffer.from(m));
  const stream = Buffer.concat(messages.map(encodeFrame));

  it('reads the same frames however the stream is cut into chunks', () => {
    for (const size of [1, 2, 3, 4, 5, 7, 64, 1003, stream.length]) {
      const decoder = new FrameDecoder(1000);
      const frames: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) {
        const pushed = decoder.push(stream.subarray(i, i + size));
        expect(pushed.error).toBeUndefined();
        frames.push(...pushed.frames);
      }
      expect(frames, `chunks of ${size} bytes`).toEqual(messages);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('refuses a length over the limit as soon as the header is complete, and everything after it', () => {
    const decoder = new FrameDecoder(999);
    expect(decoder.push(stream.subarray(0, 7 + 4 + 2))).toEqual({ frames: [Buffer.from('one'), Buffer.alloc(0)] });
    expect(decoder.push(stream.subarray(13, 13 + 2))).toEqual({ frames: [], error: { reason: 'oversized-frame', length: 1000 } });
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(encodeFrame(Buffer.from('x'))).error).toEqual({ reason: 'oversized-frame', length: 1000 });
  });

  it('does not allocate for an announced length before the bytes arrive', () => {
    const decoder = new FrameDecoder(0xffff_ffff);
    expect(decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1]))).toEqual({ frames: [] });
    expect(decoder.bufferedBytes).toBe(1);
  });
});
