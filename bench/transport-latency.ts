/**
 * Round trips on loopback over UdpTransport: raw transport echoes (UDP, TCP,
 * a small UDP request answered by a large TCP reply, on a warm and on a cold
 * connection) and real DrogulusNodes (ping; FindValue of a 30 KB item).
 * Prints a table and writes bench/results/transport-latency.json.
 *   npx tsx bench/transport-latency.ts [samples=1000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { Identity } from '../src/crypto/identity.js';
import { DEFAULTS } from '../src/dht/defaults.js';
import { DrogulusNode } from '../src/dht/node.js';
import { SystemRandom } from '../src/runtime/random.js';
import { SystemClock } from '../src/runtime/system-clock.js';
import { MemoryItemStore } from '../src/storage/memory-item-store.js';
import { encodeFrame, FrameDecoder } from '../src/transport/tcp-framing.js';
import { UdpTransport } from '../src/transport/udp-transport.js';

const HOST = '127.0.0.1';
const SAMPLES = Number(process.argv[2] ?? 1000);
const LARGE = 30 * 1024;

interface Row {
  readonly case: string;
  readonly samples: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

const summarise = (name: string, times: number[]): Row => {
  const sorted = [...times].sort((x, y) => x - y);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return { case: name, samples: times.length, medianMs: round(at(0.5)), p90Ms: round(at(0.9)), p99Ms: round(at(0.99)), meanMs: round(times.reduce((s, t) => s + t, 0) / times.length) };
};

const bind = (): Promise<UdpTransport> => UdpTransport.bind({ host: HOST, port: 0, maxMessageBytes: DEFAULTS.maxMessageBytes });

/** Times `samples` round trips: a sends `request`, b answers every message with `reply`. */
const echo = async (requestBytes: number, replyBytes: number, samples: number, cold: boolean): Promise<number[]> => {
  const request = Buffer.alloc(requestBytes, 1);
  const reply = Buffer.alloc(replyBytes, 2);
  const times: number[] = [];
  let pair = cold ? undefined : await makePair(reply);
  for (let i = 0; i < samples + (cold ? 0 : 20); i++) {
    if (cold) pair = await makePair(reply);
    const { a, b, next } = pair!;
    const started = performance.now();
    a.send(b.localAddress, request);
    await next();
    if (cold || i >= 20) times.push(performance.now() - started); // 20 warm-up round trips
    if (cold) await Promise.all([a.shutdown(), b.shutdown()]);
  }
  if (!cold) await Promise.all([pair!.a.shutdown(), pair!.b.shutdown()]);
  return times;
};

const makePair = async (reply: Buffer) => {
  const a = await bind();
  const b = await bind();
  b.onReceive((_bytes, from) => b.send(from, reply));
  let wake: (() => void) | undefined;
  a.onReceive(() => wake?.());
  const next = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  return { a, b, next };
};

/**
 * The DNS way, for comparison: a UDP request answered by a small "truncated,
 * ask over TCP" reply, then a TCP connection opened by the requester, the
 * request again on it, and the 30 KB reply on the same connection.
 */
const dnsStyle = async (samples: number): Promise<number[]> => {
  const responder = await bind();
  const truncated = Buffer.alloc(40, 9);
  const reply = Buffer.alloc(LARGE, 2);
  responder.onReceive((bytes, from) => responder.send(from, bytes[0] === 1 ? truncated : reply));
  const requester = await bind();
  let wake: (() => void) | undefined;
  requester.onReceive(() => wake?.());
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const gotTruncated = new Promise<void>((resolve) => (wake = resolve));
    requester.send(responder.localAddress, Buffer.alloc(150, 1));
    await gotTruncated;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: HOST, port: responder.localAddress.port, noDelay: true });
      const decoder = new FrameDecoder(DEFAULTS.maxMessageBytes);
      socket.on('error', reject);
      socket.on('connect', () => socket.write(encodeFrame(Buffer.alloc(150, 3))));
      socket.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk).frames.length === 0) return;
        socket.destroy();
        resolve();
      });
    });
    times.push(performance.now() - started);
  }
  await Promise.all([responder.shutdown(), requester.shutdown()]);
  return times;
};

const nodeRoundTrips = async (samples: number): Promise<{ ping: number[]; findValue: number[]; findSmallValue: number[]; valueMessageBytes: number }> => {
  const clock = new SystemClock();
  const start = async () => {
    const transport = await bind();
    const node = new DrogulusNode({ identity: Identity.generate(), transport, clock, random: new SystemRandom(), store: new MemoryItemStore() });
    node.start();
    return { node, transport };
  };
  const a = await start();
  const b = await start();
  await b.node.join([{ ...a.transport.localAddress, publicKey: a.node.publicKey }]);
  const big = await a.node.set('big', new SystemRandom().bytes(LARGE), { duplicate: 2 });
  const small = await a.node.set('small', new SystemRandom().bytes(16), { duplicate: 2 });
  const time = async (f: () => Promise<unknown>): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < samples + 20; i++) {
      const started = performance.now();
      await f();
      if (i >= 20) times.push(performance.now() - started);
    }
    return times;
  };
  const bytesBefore = a.transport.counters.bytesOut;
  const framesBefore = a.transport.counters.framesOut;
  await b.node.retrieve(big.item.key, { fresh: true });
  const valueMessageBytes = a.transport.counters.framesOut === framesBefore + 1 ? a.transport.counters.bytesOut - bytesBefore : NaN;
  const ping = await time(() => b.node.ping(a.transport.localAddress, a.node.publicKey));
  const findValue = await time(async () => {
    const found = await b.node.retrieve(big.item.key, { fresh: true });
    if (found.source !== 'network') throw new Error('expected the value from the network');
  });
  const findSmallValue = await time(() => b.node.retrieve(small.item.key, { fresh: true }));
  await Promise.all([a.node.stop(), b.node.stop()]);
  await Promise.all([a.transport.closed, b.transport.closed]);
  return { ping, findValue, findSmallValue, valueMessageBytes };
};

const rows: Row[] = [];
rows.push(summarise('transport: 150 B request, 150 B reply, UDP both ways', await echo(150, 150, SAMPLES, false)));
rows.push(summarise('transport: 30 KB request, 30 KB reply, TCP both ways (warm connection)', await echo(LARGE, LARGE, SAMPLES, false)));
rows.push(summarise('transport: 150 B UDP request, 30 KB TCP reply (warm connection)', await echo(150, LARGE, SAMPLES, false)));
rows.push(summarise('transport: 150 B UDP request, 30 KB TCP reply (new connection each time)', await echo(150, LARGE, Math.min(SAMPLES, 300), true)));
rows.push(summarise('transport, DNS-style: 150 B UDP request, 40 B "use TCP" reply, new TCP connection from the requester, 150 B request, 30 KB reply', await dnsStyle(Math.min(SAMPLES, 300))));
const nodes = await nodeRoundTrips(Math.min(SAMPLES, 500));
rows.push(summarise('node: Ping → Pong (UDP both ways)', nodes.ping));
rows.push(summarise('node: FindValue → Value of a 16 B item (UDP both ways)', nodes.findSmallValue));
rows.push(summarise(`node: FindValue → Value of a 30 KB item (UDP, then ${nodes.valueMessageBytes} B over TCP, warm)`, nodes.findValue));

const environment = { node: process.version, platform: `${os.platform()} ${os.release()}`, cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length };
console.log(`loopback round trips, ${JSON.stringify(environment)}`);
console.log('| case | samples | median ms | p90 ms | p99 ms | mean ms |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.case} | ${r.samples} | ${r.medianMs} | ${r.p90Ms} | ${r.p99Ms} | ${r.meanMs} |`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/transport-latency.json', import.meta.url), JSON.stringify({ environment, rows }, null, 2) + '\n');
