/**
 * Back pressure on the event feed, end to end: a client on a raw TCP socket
 * upgrades, subscribes and then never reads while the node reports events
 * as fast as it can. What the server buffers for it must stay under the
 * high-water mark plus one message; the rest is dropped, counted, and
 * reported to the client once it reads again.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEventToJson } from '../../src/api/live/event-json.js';
import { liveConnections } from '../../src/api/server.js';
import { Identity } from '../../src/crypto/identity.js';
import type { NodeEvent } from '../../src/dht/events.js';
import { createItem } from '../../src/protocol/item.js';
import { createLiveNet, type LiveNet, WAIT_MS } from './live-fixtures.js';

const HIGH_WATER_MARK_BYTES = 64 * 1024;
/** A frame header is at most 2 + 8 bytes (RFC 6455 section 5.2). */
const FRAME_HEADER_BYTES = 10;

/** A WebSocket client written out by hand, so that it can stop reading without any library reading for it. */
class RawClient {
  readonly messages: string[] = [];
  private pending = Buffer.alloc(0);
  private upgraded = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawClient(socket);
    socket.write(
      [
        'GET /api/v1/ws HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    return client;
  }

  /** Sends one masked text frame, as a client must (RFC 6455 section 5.3). */
  sendText(text: string): void {
    const payload = Buffer.from(text, 'utf8');
    if (payload.length > 125) throw new Error('this client sends only short messages');
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
    this.socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  }

  /** Waits, bounded, until a received message satisfies `test`. */
  until(test: (message: string) => boolean, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.messages.find(test);
        if (found === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${WAIT_MS} ms`));
      }, WAIT_MS);
      this.waiters.add(check);
      check();
    });
  }

  private read(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (!this.upgraded) {
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!this.pending.subarray(0, end).toString('latin1').startsWith('HTTP/1.1 101')) throw new Error('the upgrade was refused');
      this.upgraded = true;
      this.pending = this.pending.subarray(end + 4);
    }
    for (;;) {
      if (this.pending.length < 2) break;
      let length = this.pending[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.pending.length < 4) break;
        length = this.pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.pending.length < 10) break;
        length = Number(this.pending.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.pending.length < offset + length) break;
      if ((this.pending[0] & 0x0f) === 0x1) this.messages.push(this.pending.subarray(offset, offset + length).toString('utf8'));
      this.pending = this.pending.subarray(offset + length);
    }
    for (const waiter of [...this.waiters]) waiter();
  }
}

let net: LiveNet;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  net = await createLiveNet(1);
  let url: string;
  ({ app, url } = await net.listen(net.nodes[0], { live: { highWaterMarkBytes: HIGH_WATER_MARK_BYTES } }));
  port = Number(new URL(url).port);
});

afterAll(async () => {
  await net.close();
});

describe('the event feed under back pressure', () => {
  it('keeps what it buffers for a client that never reads under the high-water mark plus one message, and counts what it drops', async () => {
    const node = net.nodes[0];
    const client = await RawClient.open(port);
    client.sendText(JSON.stringify({ id: 'feed', type: 'subscribe-events' }));
    await client.until((m) => m === '{"id":"feed","type":"subscribed"}', 'subscribed');
    client.socket.pause();

    // Big events fill the kernel's socket buffers sooner.
    const item = createItem(Identity.generate(), { name: 'n'.repeat(1000), value: Buffer.from('v'), timestamp: Date.now() });
    const event: NodeEvent = { type: 'item-stored', item, refreshed: false };
    const messageBytes = JSON.stringify({ id: 'feed', type: 'event', event: nodeEventToJson(event) }).length;
    let largestBufferedBytes = 0;
    const connection = () => liveConnections(app)[0];
    for (let batch = 0; batch < 1000 && connection().eventsDropped < 1000; batch++) {
      for (let i = 0; i < 200; i++) node.emit(event);
      // Sampled before the event loop turns, when the batch has buffered all it will.
      largestBufferedBytes = Math.max(largestBufferedBytes, connection().bufferedBytes);
      await new Promise((resolve) => setImmediate(resolve));
    }

    const dropped = connection().eventsDropped;
    expect(dropped).toBeGreaterThanOrEqual(1000);
    expect(largestBufferedBytes).toBeGreaterThan(0);
    expect(largestBufferedBytes).toBeLessThanOrEqual(HIGH_WATER_MARK_BYTES + messageBytes + FRAME_HEADER_BYTES);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`drogulus_ws_events_dropped_total ${dropped}`);

    // Once the client reads again, the server drains and says how many it missed.
    client.socket.resume();
    const report = await client.until((m) => m.includes('"type":"events-dropped"'), 'events-dropped');
    expect(JSON.parse(report)).toEqual({ id: 'feed', type: 'events-dropped', count: dropped });
    client.socket.destroy();
  });
});
