/**
 * Loaded into a `drogulus start` process with `node --import` by the chaos
 * test, never by the node itself: impairs what the process sends, as netem on
 * the host's egress would. Every UDP datagram is lost or delayed (see
 * impairment.ts); every write on a DHT TCP connection (made with net.connect,
 * or accepted by a plain net.Server rather than the HTTP API's) is delayed in
 * order. Reads DROGULUS_CHAOS_IMPAIR (`loss=…,delay=…,jitter=…,seed=…`);
 * with DROGULUS_CHAOS_IMPAIR_WHILE=FILE, impairs only while FILE exists (the
 * test switches the whole network at once). Writes its counters every half
 * second to DROGULUS_CHAOS_IMPAIR_STATS/impair-PID.json.
 */
import dgram from 'node:dgram';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { type Impairment, ImpairmentSchedule, parseImpairment } from './impairment.js';

const STATS_INTERVAL_MS = 500;
const SWITCH_POLL_MS = 200;

const copyOf = (chunk: unknown): unknown => (chunk instanceof Uint8Array ? Buffer.from(chunk) : chunk);

const install = (impairment: Impairment, statsDir: string | undefined, switchFile: string | undefined): void => {
  const schedule = new ImpairmentSchedule(impairment);
  let active = switchFile === undefined || existsSync(switchFile);
  if (switchFile !== undefined) setInterval(() => (active = existsSync(switchFile)), SWITCH_POLL_MS).unref();

  const send = dgram.Socket.prototype.send as (...args: unknown[]) => void;
  dgram.Socket.prototype.send = function impairedSend(this: dgram.Socket, ...args: unknown[]): void {
    if (!active) return send.apply(this, args);
    const callback = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as (error: Error | null, bytes: number) => void) : undefined;
    const delay = schedule.datagram();
    if (delay === undefined) {
      // Lost on the wire: the sender is not told, as with a real lossy path.
      if (callback) process.nextTick(callback, null, 0);
      return;
    }
    const held = args.map((arg, i) => (i === 0 ? copyOf(arg) : arg));
    setTimeout(() => {
      try {
        send.apply(this, held);
      } catch {
        // The socket closed while the datagram was in flight: it is lost, as it would be.
      }
    }, delay).unref();
  } as typeof dgram.Socket.prototype.send;

  const streams = new WeakMap<net.Socket, number>();
  const connect = net.connect as (...args: unknown[]) => net.Socket;
  const impairedConnect = function (...args: unknown[]): net.Socket {
    const socket = connect(...args);
    streams.set(socket, 0);
    return socket;
  };
  net.connect = impairedConnect as typeof net.connect;
  net.createConnection = impairedConnect as typeof net.createConnection;

  const emit = net.Server.prototype.emit as (this: net.Server, event: string | symbol, ...args: unknown[]) => boolean;
  net.Server.prototype.emit = function impairedEmit(this: net.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection' && !(this instanceof http.Server)) streams.set(args[0] as net.Socket, 0);
    return emit.call(this, event, ...args);
  };

  const write = net.Socket.prototype.write as (this: net.Socket, ...args: unknown[]) => boolean;
  net.Socket.prototype.write = function impairedWrite(this: net.Socket, ...args: unknown[]): boolean {
    const previous = streams.get(this);
    if (previous === undefined || (!active && previous <= Date.now())) return write.apply(this, args);
    const now = Date.now();
    const release = schedule.streamRelease(previous, now);
    streams.set(this, release);
    const held = args.map((arg, i) => (i === 0 ? copyOf(arg) : arg));
    setTimeout(() => {
      if (!this.destroyed) write.apply(this, held);
    }, release - now).unref();
    return true;
  } as typeof net.Socket.prototype.write;

  if (statsDir) {
    const file = join(statsDir, `impair-${process.pid}.json`);
    // Written aside and renamed, so that a reader never sees half a file.
    const save = (): void => {
      writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, impairment, ...schedule.stats }));
      renameSync(`${file}.tmp`, file);
    };
    save();
    setInterval(save, STATS_INTERVAL_MS).unref();
    process.once('exit', save);
  }
};

const spec = process.env.DROGULUS_CHAOS_IMPAIR;
if (spec) install(parseImpairment(spec), process.env.DROGULUS_CHAOS_IMPAIR_STATS, process.env.DROGULUS_CHAOS_IMPAIR_WHILE);
