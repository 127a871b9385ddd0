/**
 * DrogulusClient.live() against a real listening server, on the `ws`
 * package's WebSocket (Node 20 has no global one): get and set with their
 * progress, the event feed, cancelling with a signal, and how failures
 * become ApiErrors.
 */
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, DrogulusClient, type LiveConnection, type LiveProgress } from '../../src/api/client.js';
import type { NodeEventJson } from '../../src/api/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import { itemKey } from '../../src/protocol/item.js';
import { TOKEN } from './fixtures.js';
import { createLiveNet, type LiveNet } from './live-fixtures.js';

let net: LiveNet;
let url: string;
const connections: LiveConnection[] = [];

/** A connection with the right token, or with `token` when one is given ('none' for none). */
const live = (token: string = TOKEN): LiveConnection => {
  const connection = new DrogulusClient({ baseUrl: url, token: token === 'none' ? undefined : token }).live({ WebSocket });
  connections.push(connection);
  return connection;
};

const failure = async (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );

beforeAll(async () => {
  net = await createLiveNet(4);
  ({ url } = await net.listen(net.nodes[0]));
});

afterAll(async () => {
  for (const connection of connections) connection.close();
  await net.close();
});

describe('DrogulusClient.live', () => {
  it('sets with progress, then gets by name and by key from the network', async () => {
    const connection = live();
    await connection.ready;
    const progress: LiveProgress[] = [];
    const result = await connection.set('live note', { value: 'hi\n', value_type: 'text' }, { onEvent: (event) => progress.push(event) });
    const node = net.nodes[0];
    expect(result).toMatchObject({ key: toHex(itemKey(node.publicKey, 'live note')), stored: 4, attempted: 4 });
    const done = progress.findIndex((p) => p.type === 'lookup-done');
    expect(done).toBeGreaterThan(0);
    expect(progress.slice(done + 1).map((p) => p.type)).toEqual(['replica', 'replica', 'replica', 'replica']);

    const steps: LiveProgress[] = [];
    const byName = await live('none').get({ public_key: toHex(node.publicKey), name: 'live note' }, { fresh: true, onEvent: (event) => steps.push(event) });
    expect(byName.item.text).toBe('hi\n');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((s) => s.type === 'lookup')).toBe(true);
    expect((await connection.get({ key: result.key })).item).toEqual(byName.item);
  });

  it('feeds node events to a subscription until it unsubscribes', async () => {
    const connection = live();
    const events: NodeEventJson[] = [];
    const subscription = await connection.subscribe((event) => events.push(event));
    await connection.set('announced', { value: true });
    expect(events).toContainEqual(expect.objectContaining({ type: 'item-stored', name: 'announced' }));
    await subscription.unsubscribe();
    const seen = events.length;
    await connection.set('unannounced', { value: true });
    expect(events).toHaveLength(seen);
  });

  it('rejects a set without the right token with ApiError unauthorized, and ready says why', async () => {
    const wrong = live('wrong');
    expect(await failure(wrong.ready)).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(await failure(wrong.set('x', { value: 1 }))).toMatchObject({ code: 'unauthorized' });
    expect(await failure(live('none').set('x', { value: 1 }))).toMatchObject({ code: 'unauthorized' });
  });

  it('rejects a get nobody can answer with ApiError not_found, and a bad query with bad_request', async () => {
    const connection = live();
    const missing = toHex(itemKey(Identity.generate().publicKey, 'nothing'));
    expect(await failure(connection.get({ key: missing }))).toMatchObject({ status: 404, code: 'not_found' });
    expect(await failure(connection.get({ key: 'abc' }))).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('cancels on the server when the signal aborts, and rejects with the signal\'s reason', async () => {
    const connection = live();
    await connection.ready;
    const controller = new AbortController();
    const reason = new Error('changed my mind');
    const pending = connection.get({ key: toHex(itemKey(Identity.generate().publicKey, 'slow')) }, { fresh: true, signal: controller.signal, onEvent: () => controller.abort(reason) });
    expect(await failure(pending)).toBe(reason);
    // The connection carries on.
    await connection.set('after a cancel', { value: 1 });
  });

  it('rejects what is pending with ApiError unreachable when the connection closes', async () => {
    const connection = live();
    await connection.ready;
    const pending = connection.get({ key: toHex(itemKey(Identity.generate().publicKey, 'gone')) }, { fresh: true });
    connection.close();
    const error = await failure(pending);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 0, code: 'unreachable' });
    expect(await failure(connection.get({ key: 'ab' }))).toMatchObject({ code: 'unreachable' });
  });

  it('rejects with ApiError unreachable when nothing listens', async () => {
    const { app, url: gone } = await net.listen(net.nodes[1]);
    await app.close();
    const connection = new DrogulusClient({ baseUrl: gone }).live({ WebSocket });
    expect(await failure(connection.ready)).toMatchObject({ status: 0, code: 'unreachable' });
  });

  it('says how to get a WebSocket where there is no global one', () => {
    const hasGlobal = 'WebSocket' in globalThis;
    if (hasGlobal) return;
    expect(() => new DrogulusClient({ baseUrl: url }).live()).toThrow(/ws package/);
  });
});
