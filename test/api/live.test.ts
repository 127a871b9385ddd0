/**
 * The WebSocket API against a real listening server in front of five nodes
 * on a MemoryNetwork in real time: get and set progress streams, auth,
 * cancel, bad messages, the event feed, and the limits (operations per
 * connection, connections).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { itemKey } from '../../src/protocol/item.js';
import type { LiveMessage } from '../../src/api/types.js';
import { TOKEN } from './fixtures.js';
import { createLiveNet, Inbox, type LiveNet } from './live-fixtures.js';

let net: LiveNet;
let a: DrogulusNode;
let wsUrl: string;
const open: Inbox[] = [];

const connect = async (url = wsUrl, headers: Record<string, string> = {}): Promise<Inbox> => {
  const inbox = await Inbox.open(url, headers);
  open.push(inbox);
  return inbox;
};

const authed = async (): Promise<Inbox> => {
  const inbox = await connect();
  expect(await inbox.ask({ id: 'auth', type: 'auth', token: TOKEN }, 'auth-ok')).toEqual({ id: 'auth', type: 'auth-ok' });
  return inbox;
};

const storeSizes = (): number[] => net.nodes.map((n) => n.store.size);

/** A key no node holds: its lookup asks the whole network before it ends. */
const missingKey = (): string => toHex(itemKey(Identity.generate().publicKey, 'nobody wrote this'));

beforeAll(async () => {
  net = await createLiveNet(5);
  a = net.nodes[0];
  ({ wsUrl } = await net.listen(a));
});

afterAll(async () => {
  for (const inbox of open) inbox.close();
  await net.close();
});

describe('the WebSocket API: get', () => {
  it('streams the lookup in order, then the item, every message tagged with the request id', async () => {
    const writer = net.nodes[3];
    await writer.set('greeting', Buffer.from('hello over the wire'), { duplicate: 2 });
    const inbox = await connect();
    inbox.send({ id: 'g1', type: 'get', public_key: toHex(writer.publicKey), name: 'greeting', fresh: true });
    const outcome = await inbox.next('g1', 'item', 'not-found', 'error');
    const stream = inbox.of('g1');
    expect(outcome.type).toBe('item');
    expect(stream.at(-1)).toBe(outcome);
    const progress = stream.slice(0, -1);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((m) => m.type === 'lookup')).toBe(true);
    const events = progress.map((m) => (m as Extract<LiveMessage, { type: 'lookup' }>).event);
    expect(events[0]).toBe('closer');
    expect(events).toContain('asked');
    // Every answer comes after the request it answers.
    for (const [index, m] of progress.entries()) {
      const step = m as Extract<LiveMessage, { type: 'lookup' }>;
      expect(step.peer.node_id).toMatch(/^[0-9a-f]{128}$/);
      if (step.event === 'answered' || step.event === 'value') {
        const asked = progress.findIndex((p) => (p as typeof step).event === 'asked' && (p as typeof step).peer.node_id === step.peer.node_id);
        expect(asked).toBeGreaterThanOrEqual(0);
        expect(asked).toBeLessThan(index);
      }
      if (step.event === 'closer') expect(step.distance_bits).toEqual(expect.any(Number));
    }
    if (outcome.type !== 'item') throw new Error('unreachable');
    expect(outcome.item).toMatchObject({ name: 'greeting', public_key: toHex(writer.publicKey), value_type: 'bytes', text: 'hello over the wire' });
    expect(['local', 'network']).toContain(outcome.source);
  });

  it('answers from the node\'s own copy without a lookup unless fresh is asked', async () => {
    await a.set('local copy', '"mine"', { duplicate: 20 });
    const inbox = await connect();
    const outcome = await inbox.ask({ id: 'local', type: 'get', key: toHex(itemKey(a.publicKey, 'local copy')) }, 'item', 'not-found');
    expect(outcome).toMatchObject({ id: 'local', type: 'item', source: 'local', item: { value_type: 'json', json: 'mine' } });
    expect(inbox.of('local')).toHaveLength(1);
  });

  it('ends with not-found when no node has the item', async () => {
    const inbox = await connect();
    const outcome = await inbox.ask({ id: 'missing', type: 'get', key: missingKey() }, 'item', 'not-found');
    expect(outcome).toEqual({ id: 'missing', type: 'not-found' });
    expect(inbox.of('missing').slice(0, -1).every((m) => m.type === 'lookup')).toBe(true);
  });
});

describe('the WebSocket API: set', () => {
  it('streams the lookup, then lookup-done, one replica per replica, then the result', async () => {
    const inbox = await authed();
    const outcome = await inbox.ask({ id: 's1', type: 'set', name: 'from a socket', value: 'text\n', value_type: 'text', meta: { via: 'ws' } }, 'result');
    if (outcome.type !== 'result') throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
    const stream = inbox.of('s1');
    const types = stream.map((m) => m.type);
    const done = types.indexOf('lookup-done');
    expect(done).toBeGreaterThan(0);
    expect(types.slice(0, done).every((t) => t === 'lookup')).toBe(true);
    const lookupDone = stream[done] as Extract<LiveMessage, { type: 'lookup-done' }>;
    const replicas = stream.slice(done + 1, -1);
    expect(replicas.every((m) => m.type === 'replica')).toBe(true);
    expect(replicas).toHaveLength(lookupDone.replicas);
    expect(stream.at(-1)).toBe(outcome);
    const key = toHex(itemKey(a.publicKey, 'from a socket'));
    expect(outcome.result).toMatchObject({ key, attempted: lookupDone.replicas, stored: 5 });
    expect(replicas.map(({ id: _id, type: _type, ...replica }) => replica)).toEqual(expect.arrayContaining(outcome.result.replicas.map((r) => expect.objectContaining(r))));
    expect(net.nodes.filter((n) => n.store.get(Buffer.from(key, 'hex'))).length).toBe(5);
  });

  it('refuses a set before a successful auth with unauthorized, and stores nothing', async () => {
    const inbox = await connect();
    const before = storeSizes();
    expect(await inbox.ask({ id: 's2', type: 'set', name: 'sneaky', value: 1 }, 'result')).toMatchObject({ id: 's2', type: 'error', error: { code: 'unauthorized' } });
    expect(await inbox.ask({ id: 'bad-auth', type: 'auth', token: 'wrong' }, 'auth-ok')).toMatchObject({ id: 'bad-auth', type: 'error', error: { code: 'unauthorized' } });
    expect(await inbox.ask({ id: 's3', type: 'set', name: 'sneaky', value: 1 }, 'result')).toMatchObject({ type: 'error', error: { code: 'unauthorized' } });
    expect(storeSizes()).toEqual(before);
  });

  it('checks a set\'s body as PUT does, before anything is signed or sent', async () => {
    const inbox = await authed();
    const before = storeSizes();
    const tooBig = { id: 'big', type: 'set', name: 'big', value: 'x'.repeat(70_000), value_type: 'text' };
    expect(await inbox.ask(tooBig, 'result')).toMatchObject({ type: 'error', error: { code: 'payload_too_large', protocol_code: 4 } });
    expect(await inbox.ask({ id: 'b64', type: 'set', name: 'b', value: 'not base64!', value_type: 'bytes' }, 'result')).toMatchObject({ type: 'error', error: { code: 'bad_request' } });
    expect(await inbox.ask({ id: 'dup', type: 'set', name: 'd', value: 1, duplicate: 0 }, 'result')).toMatchObject({ type: 'error', error: { code: 'bad_request', message: 'set/duplicate must be an integer from 1 to 20' } });
    expect(storeSizes()).toEqual(before);
  });
});

describe('the WebSocket API: cancel and bad messages', () => {
  it('cancels a running get: it answers cancelled and sends nothing more for that id', async () => {
    const inbox = await connect();
    inbox.send({ id: 'slow', type: 'get', key: missingKey(), fresh: true });
    inbox.send({ id: 'slow', type: 'cancel' });
    await inbox.next('slow', 'cancelled');
    // A full lookup afterwards: the cancelled one, had it run on, would have ended by then.
    await inbox.ask({ id: 'after', type: 'get', key: missingKey() }, 'not-found');
    const outcomes = inbox.of('slow').filter((m) => m.type !== 'lookup');
    expect(outcomes).toEqual([{ id: 'slow', type: 'cancelled' }]);
  });

  it('ignores a cancel for an operation that is not running', async () => {
    const inbox = await connect();
    inbox.send({ id: 'nothing', type: 'cancel' });
    expect(await inbox.ask({ id: 'sub', type: 'subscribe-events' }, 'subscribed')).toEqual({ id: 'sub', type: 'subscribed' });
    expect(inbox.of('nothing')).toEqual([]);
  });

  it('answers each bad message with an error and keeps the connection usable', async () => {
    const inbox = await connect();
    const bad: Array<[unknown, string | null, RegExp]> = [
      ['{not json', null, /^the message is not JSON/],
      ['[1, 2]', null, /JSON object/],
      [{ type: 'get', key: 'x' }, null, /must have an id/],
      [{ id: 7, type: 'get' }, null, /must have an id/],
      [{ id: 'u', type: 'teleport' }, 'u', /unknown message type "teleport"/],
      [{ id: 'n', type: 'get' }, 'n', /either key, or public_key and name/],
      [{ id: 'both', type: 'get', key: 'ab', name: 'x', public_key: 'cd' }, 'both', /either key/],
      [{ id: 'hex', type: 'get', key: 'abc' }, 'hex', /key must be 128 hex characters/],
      [{ id: 'extra', type: 'subscribe-events', topic: 'all' }, 'extra', /subscribe-events\/topic is not a field/],
      [{ id: 'fresh', type: 'get', key: 'ab', fresh: 'yes' }, 'fresh', /get\/fresh must be a boolean/],
    ];
    for (const [message] of bad) inbox.send(message);
    inbox.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await inbox.until((messages) => messages.filter((m) => m.type === 'error').length === bad.length + 1, 'an error for each bad message');
    const errors = inbox.messages.filter((m): m is Extract<LiveMessage, { type: 'error' }> => m.type === 'error');
    const untagged = errors.filter((e) => e.id === null);
    for (const [, id, message] of bad) {
      const error = id === null ? untagged.shift() : errors.find((e) => e.id === id);
      expect(error?.error.code).toBe('bad_request');
      expect(error?.error.message).toMatch(message);
    }
    expect(untagged).toEqual([{ id: null, type: 'error', error: { code: 'bad_request', message: expect.stringMatching(/text messages/) } }]);
    expect(await inbox.ask({ id: 'ok', type: 'get', key: missingKey() }, 'not-found')).toEqual({ id: 'ok', type: 'not-found' });
  });

  it('closes the connection with 1009 for a message over the size limit', async () => {
    const inbox = await connect();
    inbox.send({ id: 'huge', type: 'get', key: 'a'.repeat(200_000) });
    await expect(inbox.until(() => false, 'a close')).rejects.toThrow(/closed \(1009/);
  });
});

describe('the WebSocket API: the event feed', () => {
  it('shows a joining node as contact-added and a write as item-stored, under the subscription id', async () => {
    const inbox = await connect();
    await inbox.ask({ id: 'feed', type: 'subscribe-events' }, 'subscribed');
    const joiner = await net.addNode();
    await inbox.until((ms) => ms.some((m) => m.type === 'event' && m.event.type === 'contact-added' && m.event.node_id === toHex(joiner.nodeId)), 'contact-added');
    await a.set('watched', '"seen"', { duplicate: 20 });
    await inbox.until((ms) => ms.some((m) => m.type === 'event' && m.event.type === 'item-stored' && m.event.name === 'watched'), 'item-stored');
    const stored = inbox.messages.find((m) => m.type === 'event' && m.event.type === 'item-stored' && m.event.name === 'watched');
    expect(stored).toEqual({
      id: 'feed',
      type: 'event',
      event: {
        type: 'item-stored',
        key: toHex(itemKey(a.publicKey, 'watched')),
        name: 'watched',
        public_key: toHex(a.publicKey),
        timestamp: expect.any(Number),
        expires: 0,
        refreshed: false,
      },
    });
    // Never an item's value.
    expect(JSON.stringify(inbox.messages)).not.toContain('seen');
  });

  it('stops the feed on unsubscribe-events', async () => {
    const inbox = await connect();
    await inbox.ask({ id: 'feed', type: 'subscribe-events' }, 'subscribed');
    await inbox.ask({ id: 'stop', type: 'unsubscribe-events' }, 'unsubscribed');
    await a.set('unwatched', '1', { duplicate: 20 });
    // The answer to a later request comes after any event the write caused.
    await inbox.ask({ id: 'later', type: 'get', key: missingKey() }, 'not-found');
    expect(inbox.messages.filter((m) => m.type === 'event')).toEqual([]);
  });
});

describe('the WebSocket API: limits', () => {
  it('refuses more operations than a connection may run at once with too_many_operations', async () => {
    const { wsUrl: limited } = await net.listen(net.nodes[1], { live: { maxOperationsPerConnection: 2 } });
    const inbox = await connect(limited);
    for (const id of ['o1', 'o2', 'o3']) inbox.send({ id, type: 'get', key: missingKey(), fresh: true });
    expect(await inbox.next('o3', 'error')).toMatchObject({ error: { code: 'too_many_operations' } });
    await inbox.next('o1', 'not-found');
    await inbox.next('o2', 'not-found');
    expect(await inbox.ask({ id: 'o4', type: 'get', key: missingKey() }, 'not-found')).toEqual({ id: 'o4', type: 'not-found' });
  });

  it('refuses connections over the limit with 503, and takes one again once another closes', async () => {
    const { wsUrl: limited } = await net.listen(net.nodes[2], { live: { maxConnections: 2 } });
    const first = await connect(limited);
    await connect(limited);
    await expect(Inbox.open(limited)).rejects.toMatchObject({ statusCode: 503 });
    first.close();
    await first.until(() => first.closed !== undefined, 'the close');
    // The server notices the close a moment after the client does.
    let again: Inbox | undefined;
    for (let attempt = 0; attempt < 50 && !again; attempt++) again = await connect(limited).catch(() => undefined);
    expect(again).toBeDefined();
  });

  it('refuses an upgrade from a foreign origin (403) or for another host (421), and a plain GET (426)', async () => {
    await expect(Inbox.open(wsUrl, { origin: 'http://evil.example' })).rejects.toMatchObject({ statusCode: 403 });
    const port = new URL(wsUrl).port;
    await expect(Inbox.open(wsUrl, { host: `rebound.example:${port}` })).rejects.toMatchObject({ statusCode: 421 });
    await expect(Inbox.open(wsUrl, { host: `127.0.0.1:${Number(port) + 1}` })).rejects.toMatchObject({ statusCode: 421 });
    const own = await connect(wsUrl, { origin: `http://localhost:${port}` });
    expect(await own.ask({ id: 'hi', type: 'subscribe-events' }, 'subscribed')).toMatchObject({ type: 'subscribed' });
    const plain = await fetch(wsUrl.replace('ws:', 'http:'));
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: { code: 'upgrade_required' } });
  });
});
