/**
 * The transport of a real node: one UDP socket and one TCP server on the same
 * port. A message that fits a safe datagram goes by UDP; a larger one goes as a
 * length-prefixed frame over TCP to the same host and port number, so a big
 * reply to a UDP request needs no extra round trip (docs/protocol.md,
 * "Transport"). Every resource is bounded and counted; nothing a peer sends, and
 * no socket error, throws out of send() or crashes the process.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import type { ReceiveHandler, Transport } from '../dht/transport.js';
import type { Address } from '../routing/contact.js';
import { seconds } from '../runtime/clock.js';
import { encodeFrame, FrameDecoder } from './tcp-framing.js';

export interface UdpTransportOptions {
  /** An IP literal: `127.0.0.1`, `::1`, `0.0.0.0`, `::` (dual stack) … */
  readonly host: string;
  /** 0 picks a free port, the same for UDP and TCP. */
  readonly port: number;
  /** Messages up to this size go by UDP. 1200 bytes fit any path without IP fragmentation (QUIC's choice too). */
  readonly maxDatagramBytes?: number;
  /** Largest message sent or received; larger datagrams and frames are dropped. */
  readonly maxMessageBytes: number;
  /** Open TCP connections, both directions; at the limit the least recently active idle one is closed. */
  readonly maxConnections?: number;
  /** Bytes a connection may hold unsent; a message that would exceed it is dropped. */
  readonly maxQueuedBytesPerConnection?: number;
  /** A connection with no traffic either way for this long is closed. */
  readonly idleTimeoutMs?: number;
  /** An outgoing connection not established within this time fails, with the messages queued on it. */
  readonly connectTimeoutMs?: number;
}

export const UDP_TRANSPORT_DEFAULTS = Object.freeze({
  maxDatagramBytes: 1200,
  maxConnections: 256,
  maxQueuedBytesPerConnection: 1024 * 1024,
  idleTimeoutMs: seconds(30),
  // Below the node's 2 s RPC timeout, so a dead TCP peer fails the request rather than outliving it.
  connectTimeoutMs: seconds(2),
});

/** The largest UDP payload over IPv4 (65,535 − 8 − 20). */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;
const BIND_ATTEMPTS = 5;

export type DropReason =
  | 'oversized-datagram'
  | 'empty-datagram'
  | 'oversized-frame'
  | 'empty-frame'
  | 'oversized-message'
  | 'bad-address'
  | 'queue-full'
  | 'connect-failed'
  | 'too-many-connections'
  | 'send-error'
  | 'handler-error';

export interface UdpTransportCounters {
  datagramsIn: number;
  datagramsOut: number;
  framesIn: number;
  framesOut: number;
  /** Message bytes, without frame headers. */
  bytesIn: number;
  bytesOut: number;
  connectionsOpened: number;
  connectionsAccepted: number;
  connectionsClosed: number;
  /** Closed to make room under maxConnections. */
  connectionsEvicted: number;
  /** Closed after idleTimeoutMs without traffic. */
  connectionsIdleClosed: number;
  /** Errors reported by sockets (resets, refused connections …); each is handled, none is thrown. */
  socketErrors: number;
  dropped: Record<DropReason, number>;
}

export interface ConnectionInfo {
  readonly remote: Address;
  readonly direction: 'outgoing' | 'incoming';
  readonly connected: boolean;
  /** Bytes written but not yet handed to the kernel. */
  readonly queuedBytes: number;
}

interface Connection {
  readonly socket: net.Socket;
  readonly remote: Address;
  readonly key: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly decoder: FrameDecoder;
  connected: boolean;
  /** Frames written before the connection was established: lost if it never is. */
  framesBeforeConnect: number;
}

type Resolved = Required<Omit<UdpTransportOptions, 'host' | 'port'>>;

/** `::ffff:1.2.3.4` (an IPv4 peer seen by a dual-stack socket) is `1.2.3.4`. */
export const normaliseHost = (host: string): string => {
  // Only a host starting "::" can be IPv4-mapped: the common case skips the regex.
  if (!host.startsWith('::')) return host;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped && net.isIPv4(mapped[1]) ? mapped[1] : host;
};

const isUsable = (socket: net.Socket): boolean => !socket.destroyed && socket.writable;
const keyOf = (host: string, port: number): string => `${host}|${port}`;
const isUnspecified = (host: string): boolean => host === '0.0.0.0' || host === '::';

const resolveOptions = (options: UdpTransportOptions): Resolved & { host: string; port: number } => {
  const merged = {
    host: options.host,
    port: options.port,
    maxDatagramBytes: options.maxDatagramBytes ?? UDP_TRANSPORT_DEFAULTS.maxDatagramBytes,
    maxMessageBytes: options.maxMessageBytes,
    maxConnections: options.maxConnections ?? UDP_TRANSPORT_DEFAULTS.maxConnections,
    maxQueuedBytesPerConnection: options.maxQueuedBytesPerConnection ?? UDP_TRANSPORT_DEFAULTS.maxQueuedBytesPerConnection,
    idleTimeoutMs: options.idleTimeoutMs ?? UDP_TRANSPORT_DEFAULTS.idleTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? UDP_TRANSPORT_DEFAULTS.connectTimeoutMs,
  };
  if (net.isIP(merged.host) === 0) throw new RangeError(`host must be an IP address, got ${JSON.stringify(merged.host)}`);
  if (!Number.isInteger(merged.port) || merged.port < 0 || merged.port > 65535) throw new RangeError(`port must be an integer in 0..65535, got ${merged.port}`);
  const positive = ['maxDatagramBytes', 'maxMessageBytes', 'maxConnections', 'maxQueuedBytesPerConnection', 'idleTimeoutMs', 'connectTimeoutMs'] as const;
  for (const name of positive) {
    const value = merged[name];
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`option ${name} must be a positive integer, got ${String(value)}`);
  }
  if (merged.maxDatagramBytes > MAX_UDP_PAYLOAD_BYTES) throw new RangeError(`maxDatagramBytes must be at most ${MAX_UDP_PAYLOAD_BYTES}`);
  if (merged.maxMessageBytes > 0xffff_ffff) throw new RangeError('maxMessageBytes must fit a 4-byte frame length');
  return merged;
};

const newCounters = (): UdpTransportCounters => ({
  datagramsIn: 0,
  datagramsOut: 0,
  framesIn: 0,
  framesOut: 0,
  bytesIn: 0,
  bytesOut: 0,
  connectionsOpened: 0,
  connectionsAccepted: 0,
  connectionsClosed: 0,
  connectionsEvicted: 0,
  connectionsIdleClosed: 0,
  socketErrors: 0,
  dropped: {
    'oversized-datagram': 0,
    'empty-datagram': 0,
    'oversized-frame': 0,
    'empty-frame': 0,
    'oversized-message': 0,
    'bad-address': 0,
    'queue-full': 0,
    'connect-failed': 0,
    'too-many-connections': 0,
    'send-error': 0,
    'handler-error': 0,
  },
});

export class UdpTransport implements Transport {
  readonly localAddress: Address;
  readonly counters = newCounters();
  /** Resolves once the UDP socket, the TCP server and every connection are closed. */
  readonly closed: Promise<void>;
  /** Every open connection, least recently active first (a Map keeps insertion order). */
  private readonly connections = new Map<Connection, true>();
  /** The newest connection to each remote address. */
  private readonly byAddress = new Map<string, Connection>();
  /** Sockets not yet closed, evicted ones included, so that `closed` waits for them. */
  private readonly sockets = new Set<net.Socket>();
  private readonly families = new Map<string, number>();
  private handler: ReceiveHandler | undefined;
  /** One callback for every datagram sent, rather than a closure made per send. */
  private readonly afterSend = (error: Error | null): void => {
    if (error) this.drop('send-error');
  };
  private closing = false;
  private resolveClosed: () => void = () => undefined;

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly server: net.Server,
    private readonly options: Resolved,
    host: string,
    port: number,
  ) {
    this.localAddress = Object.freeze({ host, port });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    udp.on('message', (bytes, rinfo) => this.receiveDatagram(bytes, rinfo));
    udp.on('error', () => this.counters.socketErrors++);
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', () => this.counters.socketErrors++);
  }

  /** Binds UDP and TCP on the same port; with port 0, on a free one. Rejects if it cannot. */
  static async bind(options: UdpTransportOptions): Promise<UdpTransport> {
    const resolved = resolveOptions(options);
    const { host } = resolved;
    for (let attempt = 1; ; attempt++) {
      const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup });
      let port: number;
      try {
        port = await bindUdp(udp, host, resolved.port);
      } catch (error) {
        closeQuietly(udp);
        throw error;
      }
      const server = net.createServer({ noDelay: true });
      try {
        await listenTcp(server, host, port);
        return new UdpTransport(udp, server, resolved, host, port);
      } catch (error) {
        closeQuietly(udp);
        const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        // The ephemeral UDP port's TCP twin was taken: try another free UDP port.
        if (!inUse || resolved.port !== 0 || attempt >= BIND_ATTEMPTS) throw error;
      }
    }
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** Best effort: a message that cannot be sent is dropped and counted, never thrown. */
  send(to: Address, bytes: Uint8Array): void {
    if (this.closing) return;
    if (bytes.length > this.options.maxMessageBytes) return this.drop('oversized-message');
    const host = normaliseHost(to.host);
    if (!this.canReach(host) || !Number.isInteger(to.port) || to.port < 1 || to.port > 65535) return this.drop('bad-address');
    let existing = this.byAddress.get(keyOf(host, to.port));
    if (existing && !isUsable(existing.socket)) {
      // Ending or reset: its 'close' is on the way. Replies cannot follow it; requests take a new connection.
      this.forget(existing);
      if (existing.direction === 'incoming') return this.drop('send-error');
      existing = undefined;
    }
    // An incoming connection's remote port is an ephemeral port, not a listening
    // one: a reply to a request that came over it can only go back on it.
    if (existing?.direction === 'incoming') return this.sendFrame(existing, bytes);
    if (bytes.length <= this.options.maxDatagramBytes) return this.sendDatagram(host, to.port, bytes);
    const connection = existing ?? this.connect(host, to.port);
    if (connection) this.sendFrame(connection, bytes);
  }

  /** Closes the UDP socket, the TCP server and every connection. Idempotent; `closed` says when it is done. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    const udpClosed = new Promise<void>((resolve) => {
      try {
        this.udp.close(() => resolve());
      } catch {
        resolve();
      }
    });
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const socketsClosed = [...this.sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    for (const socket of this.sockets) socket.destroy();
    void Promise.all([udpClosed, serverClosed, ...socketsClosed]).then(() => this.resolveClosed());
  }

  /** close(), then waits until everything is closed. */
  async shutdown(): Promise<void> {
    this.close();
    await this.closed;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** The open connections, least recently active first. */
  connectionInfo(): ConnectionInfo[] {
    return [...this.connections.keys()].map((c) => ({ remote: c.remote, direction: c.direction, connected: c.connected, queuedBytes: c.socket.writableLength }));
  }

  // ---- UDP ----

  private receiveDatagram(bytes: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closing) return;
    if (bytes.length === 0) return this.drop('empty-datagram');
    if (bytes.length > this.options.maxMessageBytes) return this.drop('oversized-datagram');
    this.counters.datagramsIn++;
    this.counters.bytesIn += bytes.length;
    this.deliver(bytes, { host: normaliseHost(rinfo.address), port: rinfo.port });
  }

  private sendDatagram(host: string, port: number, bytes: Uint8Array): void {
    // A dual-stack socket reaches IPv4 peers at their IPv4-mapped IPv6 address.
    const target = this.familyOf(this.localAddress.host) === 6 && this.familyOf(host) === 4 ? `::ffff:${host}` : host;
    try {
      this.udp.send(bytes, port, target, this.afterSend);
      this.counters.datagramsOut++;
      this.counters.bytesOut += bytes.length;
    } catch {
      this.drop('send-error');
    }
  }

  // ---- TCP ----

  private accept(socket: net.Socket): void {
    socket.on('error', () => this.counters.socketErrors++);
    const remoteHost = socket.remoteAddress;
    const remotePort = socket.remotePort;
    if (this.closing || remoteHost === undefined || remotePort === undefined) {
      socket.destroy();
      return;
    }
    if (!this.makeRoom()) {
      this.drop('too-many-connections');
      socket.destroy();
      return;
    }
    this.counters.connectionsAccepted++;
    const connection = this.track(socket, { host: normaliseHost(remoteHost), port: remotePort }, 'incoming');
    connection.connected = true;
    socket.setTimeout(this.options.idleTimeoutMs);
  }

  private connect(host: string, port: number): Connection | undefined {
    if (!this.makeRoom()) {
      this.drop('too-many-connections');
      return undefined;
    }
    let socket: net.Socket;
    try {
      const bindTo = isUnspecified(this.localAddress.host) ? {} : { localAddress: this.localAddress.host };
      socket = net.connect({ host, port, noDelay: true, ...bindTo });
    } catch {
      this.drop('connect-failed');
      return undefined;
    }
    socket.on('error', () => this.counters.socketErrors++);
    this.counters.connectionsOpened++;
    const connection = this.track(socket, { host, port }, 'outgoing');
    // Until connected, the socket's inactivity timer is the connect timeout.
    socket.setTimeout(this.options.connectTimeoutMs);
    socket.once('connect', () => {
      connection.connected = true;
      connection.framesBeforeConnect = 0;
      socket.setTimeout(this.options.idleTimeoutMs);
    });
    return connection;
  }

  private track(socket: net.Socket, remote: Address, direction: Connection['direction']): Connection {
    const connection: Connection = {
      socket,
      remote,
      key: keyOf(remote.host, remote.port),
      direction,
      decoder: new FrameDecoder(this.options.maxMessageBytes),
      connected: false,
      framesBeforeConnect: 0,
    };
    this.connections.set(connection, true);
    this.byAddress.set(connection.key, connection);
    this.sockets.add(socket);
    socket.on('data', (chunk: Buffer) => this.receiveChunk(connection, chunk));
    socket.on('timeout', () => {
      if (connection.connected) this.counters.connectionsIdleClosed++;
      socket.destroy();
    });
    socket.once('close', () => this.untrack(connection));
    return connection;
  }

  private untrack(connection: Connection): void {
    this.sockets.delete(connection.socket);
    this.connections.delete(connection);
    if (this.byAddress.get(connection.key) === connection) this.byAddress.delete(connection.key);
    this.counters.connectionsClosed++;
    if (!connection.connected) this.counters.dropped['connect-failed'] += connection.framesBeforeConnect;
  }

  private receiveChunk(connection: Connection, chunk: Buffer): void {
    if (this.closing) return;
    this.touch(connection);
    const { frames, error } = connection.decoder.push(chunk);
    for (const frame of frames) {
      if (frame.length === 0) {
        this.drop('empty-frame');
        continue;
      }
      this.counters.framesIn++;
      this.counters.bytesIn += frame.length;
      this.deliver(frame, connection.remote);
      if (this.closing || connection.socket.destroyed) return;
    }
    if (error) {
      this.drop(error.reason);
      connection.socket.destroy();
    }
  }

  private sendFrame(connection: Connection, bytes: Uint8Array): void {
    const { socket } = connection;
    const frame = encodeFrame(bytes);
    // Backpressure: a peer that does not read may hold this much of our memory, no more.
    if (socket.writableLength + frame.length > this.options.maxQueuedBytesPerConnection) return this.drop('queue-full');
    try {
      socket.write(frame);
    } catch {
      return this.drop('send-error');
    }
    if (!connection.connected) connection.framesBeforeConnect++;
    this.counters.framesOut++;
    this.counters.bytesOut += bytes.length;
    this.touch(connection);
  }

  /** Makes room for one more connection by closing the least recently active idle one; false when none is idle. */
  private makeRoom(): boolean {
    if (this.connections.size < this.options.maxConnections) return true;
    for (const connection of this.connections.keys()) {
      const idle = connection.connected && connection.socket.writableLength === 0;
      if (!idle) continue;
      this.counters.connectionsEvicted++;
      this.forget(connection);
      connection.socket.destroy();
      return true;
    }
    return false;
  }

  /** Stops counting a connection that is being destroyed, before its 'close' event arrives. */
  private forget(connection: Connection): void {
    this.connections.delete(connection);
    if (this.byAddress.get(connection.key) === connection) this.byAddress.delete(connection.key);
  }

  private touch(connection: Connection): void {
    this.connections.delete(connection);
    this.connections.set(connection, true);
  }

  private canReach(host: string): boolean {
    const family = this.familyOf(host);
    if (family === 0) return false;
    const own = this.localAddress.host;
    if (own === '::') return true;
    return family === this.familyOf(own);
  }

  /** net.isIP, remembered for the few hundred hosts a node talks to (bounded). */
  private familyOf(host: string): number {
    let family = this.families.get(host);
    if (family === undefined) {
      if (this.families.size >= 4096) this.families.clear();
      family = net.isIP(host);
      this.families.set(host, family);
    }
    return family;
  }

  private deliver(bytes: Buffer, from: Address): void {
    try {
      this.handler?.(bytes, from);
    } catch {
      this.drop('handler-error');
    }
  }

  private drop(reason: DropReason): void {
    this.counters.dropped[reason]++;
  }
}

/**
 * The socket's name lookup: every address it sends to or binds is an IP
 * literal (send() checks), so there is nothing to resolve; answering at once
 * spares node:dgram a trip through dns.lookup and a tick per datagram.
 */
const literalLookup = (hostname: string, options: unknown, callback: (error: Error | null, address: string, family: number) => void): void => {
  const family = net.isIP(hostname);
  if (family === 0) {
    dns.lookup(hostname, options as dns.LookupOneOptions, callback as (error: Error | null, address: string, family: number) => void);
    return;
  }
  callback(null, hostname, family);
};

const closeQuietly = (udp: dgram.Socket): void => {
  try {
    udp.close();
  } catch {
    // Never bound: nothing to close.
  }
};

const bindUdp = (udp: dgram.Socket, host: string, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    udp.once('error', onError);
    udp.bind({ address: host, port }, () => {
      udp.off('error', onError);
      resolve(udp.address().port);
    });
  });

const listenTcp = (server: net.Server, host: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
