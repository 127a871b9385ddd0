/**
 * GET /metrics: valid Prometheus text, with the metrics docs/api.md lists,
 * whose counters move when traffic flows. A registry per server: two apps
 * in one process do not share counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { DrogulusNode } from '../../src/dht/node.js';
import { itemKey } from '../../src/protocol/item.js';
import { auth, createApiNet, type ApiNet, TOKEN, VERSION } from './fixtures.js';
import { type Exposition, parseExposition, total } from './prometheus.js';

let api: ApiNet;
let a: DrogulusNode;

const scrape = async (node = a): Promise<Exposition> => {
  const response = await api.call(api.app(node), { method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(response.body);
};

beforeAll(async () => {
  api = await createApiNet(4, 71);
  a = api.net.nodes[0];
});

afterAll(async () => {
  await api.close();
});

describe('GET /metrics', () => {
  it('is Prometheus text with a HELP and a TYPE for every metric docs/api.md lists, and needs no token', async () => {
    const metrics = await scrape();
    const expected: Record<string, string> = {
      drogulus_messages_in_total: 'counter',
      drogulus_messages_out_total: 'counter',
      drogulus_message_bytes_in_total: 'counter',
      drogulus_message_bytes_out_total: 'counter',
      drogulus_protocol_errors_sent_total: 'counter',
      drogulus_inputs_dropped_total: 'counter',
      drogulus_lookups_total: 'counter',
      drogulus_node_events_total: 'counter',
      drogulus_rpc_pending_requests: 'gauge',
      drogulus_rpc_round_trip_seconds: 'histogram',
      drogulus_rpc_failures_total: 'counter',
      drogulus_lookup_rounds: 'histogram',
      drogulus_lookup_duration_seconds: 'histogram',
      drogulus_routing_table_contacts: 'gauge',
      drogulus_blacklisted_nodes: 'gauge',
      drogulus_items_stored: 'gauge',
      drogulus_item_value_bytes: 'gauge',
      drogulus_api_errors_total: 'counter',
      drogulus_ws_connections: 'gauge',
      drogulus_ws_events_dropped_total: 'counter',
      drogulus_ws_slow_closes_total: 'counter',
    };
    expect(Object.fromEntries(metrics.types)).toEqual(expected);
    for (const name of Object.keys(expected)) expect(metrics.help.get(name), name).toBeTruthy();
    expect(total(metrics, 'drogulus_routing_table_contacts')).toBe(a.table.size);
    expect(total(metrics, 'drogulus_items_stored')).toBe(a.store.size);
    expect(total(metrics, 'drogulus_item_value_bytes')).toBe(a.store.valueBytes);
    expect(total(metrics, 'drogulus_blacklisted_nodes')).toBe(a.table.blacklistSize);
    const docs = await import('node:fs').then((fs) => fs.readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8'));
    for (const name of Object.keys(expected)) expect(docs, name).toContain(`\`${name}\``);
  });

  it('counts messages, lookups and round trips when a read and a write go through the API', async () => {
    const before = await scrape();
    const writer = api.net.nodes[2];
    const key = toHex(itemKey(writer.publicKey, 'counted'));
    await api.net.run(writer.set('counted', '"value"', { duplicate: 2 }));
    const read = await api.call(api.app(a), { method: 'GET', url: `/api/v1/items/${key}`, headers: { 'cache-control': 'no-cache' } });
    expect(read.statusCode).toBe(200);
    const write = await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/metered', headers: auth, payload: { value: 1 } });
    expect(write.statusCode).toBe(201);
    const after = await scrape();
    expect(total(after, 'drogulus_messages_in_total')).toBeGreaterThan(total(before, 'drogulus_messages_in_total'));
    expect(total(after, 'drogulus_messages_out_total', { type: 'find-value' })).toBeGreaterThan(total(before, 'drogulus_messages_out_total', { type: 'find-value' }));
    expect(total(after, 'drogulus_messages_out_total', { type: 'store' })).toBeGreaterThan(total(before, 'drogulus_messages_out_total', { type: 'store' }));
    expect(total(after, 'drogulus_lookups_total')).toBeGreaterThanOrEqual(total(before, 'drogulus_lookups_total') + 2);
    expect(total(after, 'drogulus_lookup_rounds_count', { kind: 'value' })).toBe(total(before, 'drogulus_lookup_rounds_count', { kind: 'value' }) + 1);
    expect(total(after, 'drogulus_lookup_duration_seconds_count', { kind: 'node' })).toBe(total(before, 'drogulus_lookup_duration_seconds_count', { kind: 'node' }) + 1);
    expect(total(after, 'drogulus_rpc_round_trip_seconds_count')).toBeGreaterThan(total(before, 'drogulus_rpc_round_trip_seconds_count'));
    expect(total(after, 'drogulus_rpc_round_trip_seconds_bucket', { le: '+Inf' })).toBe(total(after, 'drogulus_rpc_round_trip_seconds_count'));
    expect(total(after, 'drogulus_node_events_total', { type: 'item-stored' })).toBeGreaterThan(total(before, 'drogulus_node_events_total', { type: 'item-stored' }));
  });

  it('times the lookups and requests the node starts by itself, and counts the requests that fail', async () => {
    const before = await scrape();
    // Not through the API: a write the node's owner runs in-process, and a lookup such as a bucket refresh runs.
    await api.net.run(a.set('by-the-node', '"value"', { duplicate: 2 }));
    await api.net.run(a.lookup(Buffer.alloc(64, 0x5a), 'node'));
    const between = await scrape();
    expect(total(between, 'drogulus_lookup_rounds_count', { kind: 'node' })).toBe(total(before, 'drogulus_lookup_rounds_count', { kind: 'node' }) + 2);
    expect(total(between, 'drogulus_lookup_duration_seconds_count', { kind: 'node', outcome: 'done' })).toBe(
      total(before, 'drogulus_lookup_duration_seconds_count', { kind: 'node', outcome: 'done' }) + 2,
    );
    expect(total(between, 'drogulus_rpc_round_trip_seconds_count', { type: 'store' })).toBeGreaterThan(total(before, 'drogulus_rpc_round_trip_seconds_count', { type: 'store' }));
    // A peer that died: the next request to it times out, and is counted as such.
    const victim = api.net.nodes[3];
    api.net.kill(victim);
    await api.net.run(a.ping(victim.address, victim.publicKey).catch(() => undefined));
    const after = await scrape();
    expect(total(after, 'drogulus_rpc_failures_total', { type: 'ping', reason: 'timeout' })).toBe(total(before, 'drogulus_rpc_failures_total', { type: 'ping', reason: 'timeout' }) + 1);
  });

  it('counts the errors the API answers, by code', async () => {
    const before = await scrape();
    await api.call(api.app(a), { method: 'GET', url: '/api/v1/nothing' });
    await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/x', payload: { value: 1 } });
    await api.call(api.app(a), { method: 'PUT', url: '/api/v1/items/x', headers: { authorization: 'Bearer wrong' }, payload: { value: 1 } });
    const after = await scrape();
    expect(total(after, 'drogulus_api_errors_total', { code: 'not_found' }) - total(before, 'drogulus_api_errors_total', { code: 'not_found' })).toBe(1);
    expect(total(after, 'drogulus_api_errors_total', { code: 'unauthorized' }) - total(before, 'drogulus_api_errors_total', { code: 'unauthorized' })).toBe(2);
  });

  it('keeps a registry per server', async () => {
    const other = createApiServer({ node: a, token: TOKEN, version: VERSION });
    await api.call(api.app(a), { method: 'GET', url: '/api/v1/nothing' });
    const mine = await scrape();
    const theirs = parseExposition((await api.call(other, { method: 'GET', url: '/metrics' })).body);
    expect(total(theirs, 'drogulus_api_errors_total')).toBe(0);
    expect(total(mine, 'drogulus_api_errors_total')).toBeGreaterThan(0);
    // Counts the node keeps are the same from either.
    expect(total(theirs, 'drogulus_items_stored')).toBe(total(mine, 'drogulus_items_stored'));
    await other.close();
  });
});

describe('the Prometheus reader the metrics test uses', () => {
  it('refuses lines that are not the exposition format', () => {
    expect(() => parseExposition('# TYPE x counter\nx 1\n')).not.toThrow();
    expect(() => parseExposition('x 1\n')).toThrow(/TYPE was not declared/);
    expect(() => parseExposition('# TYPE x counter\nx{a="b} 1\n')).toThrow(/not a HELP/);
    expect(() => parseExposition('# TYPE x counter\nx one\n')).toThrow(/not a HELP/);
    expect(() => parseExposition('# TYPE x counter\nx 1')).toThrow(/newline/);
  });
});
