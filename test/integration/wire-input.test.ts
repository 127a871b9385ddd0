/**
 * Bad input on the wire, sent with node:dgram to a running `drogulus start`
 * process: random bytes, truncated and oversized datagrams, wrong versions,
 * forged seals, forged items and replays. The node must not crash, must not
 * change its routing table or store, and must answer the next valid request.
 */
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { fromHex } from '../../src/crypto/bytes.js';
import { DEFAULT_CODEC_OPTIONS, decodeMessage, encodeMessage, inspectMessage } from '../../src/protocol/codec.js';
import { createItem } from '../../src/protocol/item.js';
import type { Message } from '../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { fetchJson, type NodeProcess, portBlock, runCli, startNodeProcess, tempDir } from './cli-process.js';

const BASE_PORT = portBlock(16);
const BASE_API = BASE_PORT + 8;
const root = tempDir('drogulus-wire-');
const nodes: NodeProcess[] = [];
const random = new SeededRandom(7);
const attacker = Identity.fromSeed(Buffer.alloc(32, 0xa7));

let socket: Socket;
const replies: Buffer[] = [];

const send = (bytes: Uint8Array, port = BASE_PORT): Promise<void> =>
  new Promise((resolve) => socket.send(bytes, port, '127.0.0.1', () => resolve()));

const envelope = (recipientHex: string, identity = attacker) => ({
  requestId: Buffer.from(random.bytes(16)),
  senderPublicKey: identity.publicKey,
  replyPort: socket.address().port,
  version: PROTOCOL_VERSION,
  recipientId: fromHex(recipientHex, 64)!,
});

const tableOf = async (node: NodeProcess): Promise<string[]> => {
  const { body } = await fetchJson(`${node.api}/api/v1/peers`);
  return (body as { peers: Array<{ node_id: string; host: string; port: number }> }).peers.map((p) => `${p.node_id}@${p.host}:${p.port}`).sort();
};
const itemsOf = async (node: NodeProcess): Promise<number> => ((await fetchJson(`${node.api}/api/v1/status`)).body as { items: number }).items;

describe('a running node fed bad input over UDP', () => {
  let targetId: string;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) expect((await runCli(['keygen', '--data-dir', join(root.path, `n${i}`)])).code).toBe(0);
    nodes.push(await startNodeProcess({ index: 0, dataDir: join(root.path, 'n0'), port: BASE_PORT, apiPort: BASE_API }));
    for (let i = 1; i < 3; i++) nodes.push(await startNodeProcess({ index: i, dataDir: join(root.path, `n${i}`), port: BASE_PORT + i, apiPort: BASE_API + i, bootstrap: `127.0.0.1:${BASE_PORT}` }));
    const set = await runCli(['set', 'keepsake', 'kept', '--data-dir', join(root.path, 'n1'), '--api', nodes[1].api]);
    expect(set.code, set.stderr).toBe(0);
    targetId = ((await fetchJson(`${nodes[0].api}/api/v1/status`)).body as { node_id: string }).node_id;
    socket = createSocket('udp4');
    socket.on('message', (m) => replies.push(m));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  }, 120_000);

  afterAll(async () => {
    socket?.close();
    for (const n of nodes) n.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    root.remove();
  });

  it('survives hostile datagrams without changing its table or store, then answers a valid ping', async () => {
    const tableBefore = await tableOf(nodes[0]);
    const itemsBefore = await itemsOf(nodes[0]);
    expect(tableBefore.length).toBe(2);

    const validPing = encodeMessage({ type: 'ping', ...envelope(targetId) } as Message, attacker);
    // Random bytes of every size up to a datagram, and an oversized one.
    for (let i = 0; i < 300; i++) await send(random.bytes(1 + random.int(1400)));
    await send(random.bytes(60_000));
    // Truncations of a valid message.
    for (let cut = 0; cut < validPing.length; cut += 3) await send(validPing.subarray(0, cut));
    // Every single-byte corruption of a valid message's body: forged seals and fields.
    for (let i = 0; i < validPing.length; i += 2) {
      const corrupt = Buffer.from(validPing);
      corrupt[i] ^= 0x5a;
      await send(corrupt);
    }
    // A wrong protocol version, properly sealed (a small one is refused silently, since
    // the error would be bigger than what came in; a Store is big enough to be told).
    // The junk above can overflow the node's socket buffer (UDP drops what does not fit); let it drain, so
    // that the sealed requests below, whose answers are checked, arrive.
    await new Promise((r) => setTimeout(r, 1000));
    const victim = Identity.fromSeed(Buffer.alloc(32, 0x11));
    const genuine = createItem(victim, { name: 'keepsake', value: Buffer.from('genuine'), timestamp: Date.now() });
    await send(encodeMessage({ type: 'ping', ...envelope(targetId), version: 99 } as Message, attacker));
    await send(encodeMessage({ type: 'store', ...envelope(targetId), version: 99, item: genuine } as Message, attacker));
    // A sealed message addressed to another node.
    await send(encodeMessage({ type: 'find-node', ...envelope('ab'.repeat(64)), key: Buffer.alloc(64, 1) } as Message, attacker));
    // Forged items: a tampered value, a tampered key, a forged publisher.
    const forgeries = [
      { ...genuine, value: Buffer.from('forged') },
      { ...genuine, key: Buffer.alloc(64, 3) },
      { ...genuine, publicKey: attacker.publicKey },
    ];
    const forger = Identity.fromSeed(Buffer.alloc(32, 0xf0));
    for (const item of forgeries) await send(encodeMessage({ type: 'store', ...envelope(targetId, forger), item } as Message, forger));
    // It did read them: the sealed wrong version gets error 5 and the forged items error 6, once the node has
    // worked through the backlog (seconds on a loaded machine).
    const errorCodes = (): Set<number> => new Set(replies.map((r) => inspectMessage(r)).flatMap((d) => (d.ok && d.value.message.type === 'error' ? [d.value.message.code] : [])));
    for (const wantedBy = Date.now() + 10_000; Date.now() < wantedBy && !(errorCodes().has(5) && errorCodes().has(6)); ) await new Promise((r) => setTimeout(r, 100));
    expect(nodes[0].child.exitCode).toBeNull();
    expect(await tableOf(nodes[0])).toEqual(tableBefore);
    expect(await itemsOf(nodes[0])).toBe(itemsBefore);
    const codes = errorCodes();
    expect(codes).toContain(5);
    expect(codes).toContain(6);

    replies.length = 0;
    const probe = Identity.fromSeed(Buffer.alloc(32, 0x99));
    const ping = { type: 'ping', ...envelope(targetId, probe) } as Message;
    await send(encodeMessage(ping, probe));
    const deadline = Date.now() + 5000;
    let pong: Message | undefined;
    while (!pong && Date.now() < deadline) {
      for (const reply of replies) {
        const decoded = decodeMessage(reply, { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => probe.agree(pk) });
        if (decoded.ok && decoded.value.message.type === 'pong' && Buffer.compare(decoded.value.message.requestId, ping.requestId) === 0) pong = decoded.value.message;
      }
      if (!pong) await new Promise((r) => setTimeout(r, 50));
    }
    expect(pong?.type).toBe('pong');
    expect(Buffer.compare(pong!.recipientId, probe.nodeId)).toBe(0);
  }, 60_000);
});
