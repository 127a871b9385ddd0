/**
 * Counts the datagrams every system in this process sends, by wrapping the
 * send functions of node:dgram sockets (drogulus, bittorrent-dht) and of
 * udx-native sockets (hyperdht), and refuses any send to an address outside
 * 127.0.0.0/8 or ::1, so no benchmark node can reach a public bootstrap server.
 * Counting at the socket is the same measure for all three systems.
 */
import dgram from 'node:dgram';

export interface WireCounts {
  /** Datagrams handed to a socket. */
  datagrams: number;
  datagramBytes: number;
  /** Sends refused because the destination was not a loopback address. */
  blockedSends: number;
  blockedHosts: string[];
}

export const wire: WireCounts = { datagrams: 0, datagramBytes: 0, blockedSends: 0, blockedHosts: [] };

const isLoopback = (host: string): boolean => host.startsWith('127.') || host === '::1' || host === 'localhost' || host.startsWith('::ffff:127.');

const block = (host: string): void => {
  wire.blockedSends++;
  if (wire.blockedHosts.length < 10 && !wire.blockedHosts.includes(host)) wire.blockedHosts.push(host);
};

const byteLength = (message: unknown): number => {
  if (message instanceof Uint8Array) return message.length;
  if (typeof message === 'string') return Buffer.byteLength(message);
  if (Array.isArray(message)) return message.reduce((sum: number, part: unknown) => sum + byteLength(part), 0);
  return 0;
};

let dgramWrapped = false;

/** Wraps dgram.Socket#send once per process. */
export const countDgramSends = (): void => {
  if (dgramWrapped) return;
  dgramWrapped = true;
  const original = dgram.Socket.prototype.send as (...args: unknown[]) => void;
  // send(msg, [offset, length,] port [, address] [, callback]): the address is the first string after msg.
  dgram.Socket.prototype.send = function send(this: dgram.Socket, ...args: unknown[]): void {
    const host = args.slice(1).find((a): a is string => typeof a === 'string') ?? 'localhost';
    if (!isLoopback(host)) {
      block(host);
      const callback = args.find((a): a is (error: Error | null) => void => typeof a === 'function');
      callback?.(new Error(`benchmark: refused a send to ${host}, which is not a loopback address`));
      return;
    }
    wire.datagrams++;
    wire.datagramBytes += byteLength(args[0]);
    original.apply(this, args);
  } as typeof dgram.Socket.prototype.send;
};

const wrappedPrototypes = new WeakSet<object>();

/** Wraps the send functions of udx-native's socket class (hyperdht), once. */
export const countUdxSends = (socketPrototype: object): void => {
  const proto = socketPrototype as Record<string, unknown>;
  if (wrappedPrototypes.has(proto)) return;
  wrappedPrototypes.add(proto);
  for (const name of ['send', 'trySend'] as const) {
    const original = proto[name] as (buffer: Uint8Array, port: number, host: string, ttl?: number) => unknown;
    if (typeof original !== 'function') continue;
    proto[name] = function (this: object, buffer: Uint8Array, port: number, host: string, ttl?: number): unknown {
      // udx-native sends to 127.0.0.1 when no host is given.
      if (host && !isLoopback(host)) {
        block(host);
        return name === 'send' ? Promise.resolve(false) : undefined;
      }
      wire.datagrams++;
      wire.datagramBytes += buffer.length;
      return original.call(this, buffer, port, host, ttl);
    };
  }
};

/** Wraps one method of an object's class to count its calls, once per class and method. */
export const countCalls = (instance: object, method: string, onCall: () => void): void => {
  const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
  const marker = `__bench_counted_${method}`;
  if (proto[marker]) return;
  const original = proto[method] as (...args: unknown[]) => unknown;
  if (typeof original !== 'function') throw new Error(`benchmark: ${method} is not a method of this object`);
  proto[marker] = true;
  proto[method] = function (this: object, ...args: unknown[]): unknown {
    onCall();
    return original.apply(this, args);
  };
};
