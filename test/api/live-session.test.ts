/**
 * LiveSession against a fake socket whose buffered bytes the test sets: the
 * event feed drops above the high-water mark and reports the count once
 * drained, and a client that cannot take the answers to its own requests is
 * disconnected with 1013 rather than buffered for without bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenCheck } from '../../src/api/auth.js';
import { CLOSE_TRY_AGAIN_LATER, LIVE_DEFAULTS, LiveSession, type LiveSocket, resolveLiveSettings } from '../../src/api/live/session.js';
import { ApiMetrics } from '../../src/api/metrics.js';
import { RateLimiter } from '../../src/api/rate-limit.js';
import { createTestnet, type Testnet } from '../../src/sim/testnet.js';
import { TOKEN } from './fixtures.js';

const SETTINGS = { ...LIVE_DEFAULTS, highWaterMarkBytes: 1000, maxBufferedBytes: 5000 };

class FakeSocket implements LiveSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: unknown[] = [];
  closedWith: { code: number; reason: string } | undefined;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
}

let net: Testnet;
let metrics: ApiMetrics;

const session = (socket: FakeSocket, limiter?: RateLimiter): LiveSession =>
  new LiveSession(socket, {
    node: net.nodes[0],
    metrics,
    tokenCheck: tokenCheck(TOKEN),
    limiter,
    address: '127.0.0.1',
    settings: SETTINGS,
    logError: (error) => {
      throw error;
    },
  });

beforeAll(async () => {
  net = await createTestnet(1, { seed: 77 });
  metrics = new ApiMetrics(net.nodes[0]);
});

afterAll(async () => {
  metrics.close();
  await net.stop();
});

describe('LiveSession', () => {
  it('drops events above the high-water mark and reports how many once the socket drains', () => {
    const socket = new FakeSocket();
    const live = session(socket);
    live.receive('{"id":"feed","type":"subscribe-events"}');
    live.deliverEvent('{"type":"item-expired","key":"aa"}');
    socket.bufferedAmount = SETTINGS.highWaterMarkBytes;
    for (let i = 0; i < 3; i++) live.deliverEvent('{"type":"item-expired","key":"bb"}');
    expect(live.info.eventsDropped).toBe(3);
    live.drained();
    expect(socket.sent).toHaveLength(2);
    socket.bufferedAmount = 0;
    live.drained();
    live.drained();
    expect(socket.sent).toEqual([
      { id: 'feed', type: 'subscribed' },
      { id: 'feed', type: 'event', event: { type: 'item-expired', key: 'aa' } },
      { id: 'feed', type: 'events-dropped', count: 3 },
    ]);
  });

  it('reports dropped events before the next event it sends, even without a drain', () => {
    const socket = new FakeSocket();
    const live = session(socket);
    live.receive('{"id":"feed","type":"subscribe-events"}');
    socket.bufferedAmount = SETTINGS.highWaterMarkBytes + 1;
    live.deliverEvent('{"type":"item-expired","key":"aa"}');
    socket.bufferedAmount = 10;
    live.deliverEvent('{"type":"item-expired","key":"bb"}');
    expect(socket.sent.slice(1)).toEqual([
      { id: 'feed', type: 'events-dropped', count: 1 },
      { id: 'feed', type: 'event', event: { type: 'item-expired', key: 'bb' } },
    ]);
  });

  it('sends no events to a connection that has not subscribed', () => {
    const socket = new FakeSocket();
    session(socket).deliverEvent('{"type":"item-expired","key":"aa"}');
    expect(socket.sent).toEqual([]);
  });

  it('closes with 1013 instead of queueing an answer the client is not reading, and then ignores it', () => {
    const socket = new FakeSocket();
    const live = session(socket);
    socket.bufferedAmount = SETTINGS.maxBufferedBytes;
    live.receive('{"id":"a","type":"subscribe-events"}');
    expect(socket.sent).toEqual([]);
    expect(socket.closedWith?.code).toBe(CLOSE_TRY_AGAIN_LATER);
    socket.readyState = 1;
    socket.bufferedAmount = 0;
    live.receive('{"id":"b","type":"subscribe-events"}');
    expect(socket.sent).toEqual([]);
  });

  it('spends a rate limit token on every auth attempt, so a right token cannot get through an empty bucket', () => {
    const socket = new FakeSocket();
    const limiter = new RateLimiter({ now: () => 0 }, { burst: 2, perSecond: 1 });
    const live = session(socket, limiter);
    live.receive('{"id":"1","type":"auth","token":"guess"}');
    live.receive('{"id":"2","type":"auth","token":"guess again"}');
    live.receive(JSON.stringify({ id: '3', type: 'auth', token: TOKEN }));
    expect(socket.sent.map((m) => (m as { error?: { code: string } }).error?.code)).toEqual(['unauthorized', 'unauthorized', 'too_many_requests']);
    expect(live.info.authenticated).toBe(false);
  });

  it('takes its limits from LIVE_DEFAULTS unless given, and refuses limits that are not positive integers', () => {
    expect(resolveLiveSettings({ maxConnections: 2, highWaterMarkBytes: undefined })).toEqual({ ...LIVE_DEFAULTS, maxConnections: 2 });
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => resolveLiveSettings({ maxOperationsPerConnection: bad })).toThrow(RangeError);
  });
});
