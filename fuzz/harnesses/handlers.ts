/**
 * Harness 3, every message handler through DrogulusNode.receive(bytes, from),
 * the entry point for everything a peer sends. Each input is a program run
 * against a fresh node on a tiny Testnet (a ManualClock and a MemoryNetwork,
 * with a second, honest node B): its first byte picks the node's options, then
 * each action delivers raw bytes, a resealed mutation, a structurally valid
 * message of any type built from the data, an answer (genuine or forged) to a
 * request the node sent, a replay, or advances the clock. Invariants:
 *  - receive never throws, and nothing it catches is an internal error;
 *  - no item is stored unless its signature and key are genuine (checked
 *    independently of src/), it is live and not dated too far ahead;
 *  - a contact enters or moves in the routing table only at an address where
 *    its key answered a fresh request of the node: every contact is one the
 *    table started with, at the same address, or such a round trip;
 *  - blacklisted keys are never in the table;
 *  - afterwards (one input in four: two bits of the first byte) the node
 *    answers a valid Ping with a Pong sealed over its id.
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../src/crypto/bytes.js';
import type { Identity } from '../../src/crypto/identity.js';
import { DrogulusNode } from '../../src/dht/node.js';
import { DEFAULT_CODEC_OPTIONS, decodeMessage, encodeMessage, inspectMessage } from '../../src/protocol/codec.js';
import { createItem, type Item } from '../../src/protocol/item.js';
import type { Message, MessageBody, MessageType } from '../../src/protocol/messages.js';
import type { Address } from '../../src/routing/contact.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Testnet } from '../../src/sim/testnet.js';
import { MemoryItemStore } from '../../src/storage/memory-item-store.js';
import { buildMessage, T0_MS } from '../lib/build.js';
import { DataProvider } from '../lib/data-provider.js';
import { check, type Harness, PropertyFailure } from '../lib/harness.js';
import { fuzzIdentity, PEERS, sessionKeyBetween } from '../lib/identities.js';
import { mutateTree, parseMessage } from '../lib/msgpack-mutate.js';
import { messageDictionary, plausibleValues, reseal } from '../lib/plausible.js';
import type { Rng } from '../lib/rng.js';
import { seedBodies, withEnvelope } from '../lib/seed-messages.js';
import { specKey, specSigningBytes } from '../lib/spec-item.js';
import { frame, unframe } from '../lib/wire.js';
import { Packr } from 'msgpackr';
import sodium from 'sodium-native';

/**
 * Remembers X25519 agreements across inputs: every input builds fresh nodes,
 * and an agreement costs about 200 µs, more than the rest of an action. The
 * keys are the same ones; only their cost is saved.
 */
const rememberAgreements = (identity: Identity): Identity => {
  const agree = identity.agree.bind(identity);
  const known = new Map<string, Buffer | undefined>();
  identity.agree = (peerPublicKey: Uint8Array): Buffer | undefined => {
    const keyHex = toHex(peerPublicKey);
    if (!known.has(keyHex)) {
      if (known.size >= 4096) known.clear();
      known.set(keyHex, agree(peerPublicKey));
    }
    return known.get(keyHex);
  };
  return identity;
};

export const TARGET = rememberAgreements(fuzzIdentity('target'));
const HONEST = rememberAgreements(fuzzIdentity('honest node B'));
const PINGER = fuzzIdentity('liveness pinger');
export const TARGET_ADDRESS: Address = { host: '127.0.0.1', port: 1908 };
const HONEST_ADDRESS: Address = { host: '127.0.0.2', port: 1908 };
const PINGER_ADDRESS: Address = { host: '127.0.0.9', port: 4444 };

/** Where each fuzz peer says it lives. */
const homeOf = (i: number): Address => ({ host: `10.0.${i}.1`, port: 1908 });
/** Source addresses a delivery may claim: the peers' homes, B, the node itself, and others. */
const FROM: readonly Address[] = [
  ...PEERS.map((_, i) => homeOf(i)),
  HONEST_ADDRESS,
  TARGET_ADDRESS,
  { host: '10.0.0.1', port: 4000 },
  { host: '2001:db8::7', port: 1908 },
  { host: '::ffff:10.0.1.1', port: 1908 },
  { host: '10.0.0.1', port: 65535 },
];

/** The fuzz peers the table starts with (restored, not proven), and B. */
const INITIAL_CONTACTS = [
  { identity: HONEST, address: HONEST_ADDRESS },
  ...PEERS.slice(4).map((identity, i) => ({ identity, address: homeOf(i + 4) })),
];

const MAX_ACTIONS = 16;
/** Config bits that ask for the liveness check at the end: one input in four, to keep inputs fast. */
const CHECK_LIVENESS = 0x18;
const ADVANCES_MS = [0, 1, 10, 1000, 2001, 60_001, 600_001, 3_600_001];

enum Op {
  Raw,
  Reseal,
  Build,
  BuildMore,
  BuildEvenMore,
  Answer,
  AnswerMore,
  Advance,
  Replay,
}
const OPS = 9;

interface Sent {
  readonly to: Address;
  readonly bytes: Buffer;
  readonly message: Message | undefined;
}

/** Everything one input runs against. */
class World {
  readonly net = new Testnet({ seed: 1908, latencyMs: 5 });
  readonly node: DrogulusNode;
  readonly honest: DrogulusNode;
  /** Requests and replies the node sent, in order. */
  readonly sent: Sent[] = [];
  /** Messages delivered to the node, for replays. */
  readonly delivered: Buffer[] = [];
  /** "pk@host:port" of contacts that proved their address by answering a request of the node. */
  readonly proven = new Set<string>();
  readonly initial = new Set<string>();
  readonly violations: string[] = [];
  readonly sessionMacs: boolean;

  constructor(config: number) {
    this.sessionMacs = (config & 1) === 1;
    const options = { sessionMacs: this.sessionMacs, k: config & 2 ? 3 : 20, maxPendingChallenges: config & 4 ? 2 : 4096 };
    const make = (identity: Identity, address: Address, seed: number): DrogulusNode =>
      new DrogulusNode({ identity, transport: this.net.network.createTransport(address), clock: this.net.clock, random: new SeededRandom(seed), store: new MemoryItemStore(), options });
    this.node = make(TARGET, TARGET_ADDRESS, 1);
    this.honest = make(HONEST, HONEST_ADDRESS, 2);
    this.node.start();
    this.honest.start();
    const contacts = INITIAL_CONTACTS.map(({ identity, address }) => ({ publicKey: toHex(identity.publicKey), ...address }));
    this.node.table.restore({ version: 1, nodeId: toHex(TARGET.nodeId), contacts, blacklist: [] }, this.net.clock.now());
    for (const c of contacts) this.initial.add(`${c.publicKey}@${c.host}:${c.port}`);
    this.honest.table.restore({ version: 1, nodeId: toHex(HONEST.nodeId), contacts: [{ publicKey: toHex(TARGET.publicKey), ...TARGET_ADDRESS }], blacklist: [] }, this.net.clock.now());
    for (const item of STORED) this.node.store.put(item, this.net.clock.now());
    this.net.network.tap((packet) => {
      if (packet.from.host !== TARGET_ADDRESS.host || packet.from.port !== TARGET_ADDRESS.port) return;
      const bytes = Buffer.from(packet.bytes);
      const inspected = inspectMessage(bytes);
      this.sent.push({ to: packet.to, bytes, message: inspected.ok ? inspected.value.message : undefined });
      // B answers for real when the clock runs; a reply from B is a genuine round trip.
      if (packet.to.host === HONEST_ADDRESS.host && inspected.ok && isRequestType(inspected.value.message.type)) {
        this.proven.add(`${toHex(HONEST.publicKey)}@${packet.to.host}:${packet.to.port}`);
      }
    });
    this.node.onEvent((event) => {
      if (event.type === 'item-stored') this.checkStored(event.item, 'stored');
      if (event.type === 'message-dropped' && event.reason.startsWith('internal error')) this.violations.push(`receive caught an internal error\n${event.reason}`);
    });
  }

  deliver(bytes: Uint8Array, from: Address): void {
    this.delivered.push(Buffer.from(bytes));
    try {
      this.node.receive(bytes, from);
    } catch (error) {
      throw new PropertyFailure(`receive threw\n${(error as Error).stack ?? String(error)}`);
    }
  }

  /** The independent item check: genuine signature over the spec's bytes, the spec's key, live, not too far ahead. */
  checkStored(item: Item, what: string): void {
    const now = this.net.clock.now();
    if (!specKey(item.publicKey, item.name).equals(Buffer.from(item.key))) this.violations.push(`${what} an item whose key is not its key\n${toHex(item.key)}`);
    if (!verifyItem(item)) this.violations.push(`${what} an item whose signature is not genuine\n${toHex(item.key)}`);
    if (what === 'stored' && item.expires !== 0 && item.expires <= now) this.violations.push(`stored an expired item\nexpires ${item.expires}, now ${now}`);
    if (what === 'stored' && item.timestamp > now + this.node.options.maxClockSkewMs) this.violations.push(`stored an item dated too far ahead\n${item.timestamp - now} ms`);
  }

  /** The table holds only contacts it started with or that proved their address. */
  checkTable(): void {
    for (const c of this.node.table.contacts()) {
      const entry = `${toHex(c.publicKey)}@${c.host}:${c.port}`;
      if (!this.initial.has(entry) && !this.proven.has(entry)) this.violations.push(`a contact entered the table without a round trip\n${entry}`);
      if (this.node.table.isBlacklisted(c.id)) this.violations.push(`a blacklisted contact is in the table\n${entry}`);
    }
    const internal = (this.node.stats.dropped['internal-error'] ?? 0) + (this.node.stats.dropped['maintenance-error'] ?? 0);
    if (internal > 0) this.violations.push(`the node counted ${internal} internal or maintenance errors`);
  }

  raise(): void {
    if (this.violations.length > 0) throw new PropertyFailure(this.violations[0]);
  }
}

const isRequestType = (t: MessageType): boolean => t === 'ping' || t === 'store' || t === 'find-node' || t === 'find-value';

/**
 * Verdicts of Ed25519 verifications, by SHA-256 of the exact (signature,
 * public key, signed bytes) checked. A verdict is a function of those bytes
 * alone, so a repeat costs a hash instead of a verification: the two held
 * items are checked after every input, and the same genuine items are stored
 * again and again (the profile put these checks at a tenth of the harness).
 */
const verdicts = new Map<string, boolean>();

/** Ed25519 over the spec's signing bytes, with libsodium directly. */
const verifyItem = (item: Item): boolean => {
  if (item.publicKey.length !== 32 || item.signature.length !== 64) return false;
  const signed = specSigningBytes(item);
  const id = createHash('sha256').update(item.signature).update(item.publicKey).update(signed).digest('base64');
  let verdict = verdicts.get(id);
  if (verdict === undefined) {
    verdict = sodium.crypto_sign_verify_detached(Buffer.from(item.signature), signed, Buffer.from(item.publicKey));
    if (verdicts.size >= 4096) verdicts.clear();
    verdicts.set(id, verdict);
  }
  return verdict;
};

/** Items the node holds from the start: versions to supersede, keys to find. */
const STORED: readonly Item[] = [
  createItem(PEERS[0], { name: 'greeting', value: '"held"', timestamp: T0_MS - 10_000 }),
  createItem(PEERS[1], { name: '', value: Buffer.from('held'), timestamp: T0_MS - 10_000, expires: T0_MS + 1000 }),
];
const KEYS: readonly Uint8Array[] = [...STORED.map((i) => i.key), TARGET.nodeId, HONEST.nodeId, ...PEERS.map((p) => p.nodeId)];

const sealFor = (sender: Identity, mac: boolean): Uint8Array | undefined => (mac ? sessionKeyBetween(sender, TARGET.publicKey) : undefined);

/** An answer to one of the node's requests: right or wrong id, sealer, recipient and source host. */
const answer = (world: World, p: DataProvider): void => {
  const requests = world.sent.filter((s) => s.message !== undefined && isRequestType(s.message.type));
  if (requests.length === 0) return;
  const request = requests[requests.length - 1 - p.int(Math.min(requests.length, 8) - 1)];
  const asked = request.message!;
  const expectedId = asked.recipientId;
  const rightSealer = PEERS.find((peer) => peer.nodeId.equals(Buffer.from(expectedId)));
  const sealer = rightSealer && !p.oneIn(4) ? rightSealer : p.pick(PEERS);
  const requestId = p.oneIn(8) ? p.bytes(16) : Buffer.from(asked.requestId);
  const recipientId = p.oneIn(8) ? p.bytes(64) : TARGET.nodeId;
  const from = p.oneIn(8) ? p.pick(FROM) : request.to;
  const bodies: Array<() => MessageBody> = [
    () => ({ type: 'pong' }),
    () => ({ type: 'nodes', nodes: Array.from({ length: p.int(4) }, () => ({ publicKey: p.pick(PEERS).publicKey, host: homeOf(p.int(PEERS.length - 1)).host, port: 1908 })) }),
    () => ({ type: 'value', item: p.pick(STORED) }),
    () => ({ type: 'error', code: 8, title: 'Superseded value', details: { timestamp: String(p.number()) } }),
  ];
  const body = p.pick(bodies)();
  const message = { ...body, requestId, senderPublicKey: sealer.publicKey, replyPort: 1908, version: 1, recipientId } as Message;
  const bytes = encodeMessage(message, sealer, sealFor(sealer, world.sessionMacs && p.bool()));
  // A genuine round trip: the id of a request sent to this address, answered from its host, to us, by the key asked.
  const genuine =
    requestId.equals(Buffer.from(asked.requestId)) &&
    from.host === request.to.host &&
    recipientId.equals(TARGET.nodeId) &&
    (expectedId.length === 0 || sealer.nodeId.equals(Buffer.from(expectedId)));
  if (genuine) world.proven.add(`${toHex(sealer.publicKey)}@${request.to.host}:${request.to.port}`);
  world.deliver(bytes, from);
};

/** A message built from the fuzz data, of any type, to the node (usually) from a fuzz peer. */
const build = (world: World, p: DataProvider): void => {
  const senderIndex = p.int(PEERS.length - 1);
  const sender = PEERS[senderIndex];
  const recipientId = p.oneIn(8) ? p.pick([HONEST.nodeId, sender.nodeId, p.bytes(64)]) : TARGET.nodeId;
  const built = buildMessage(p, { sender, recipientId, nowMs: world.net.clock.now(), breakFields: p.oneIn(4), publishers: PEERS, keys: KEYS });
  const bytes = encodeMessage(built.message, sender, sealFor(sender, world.sessionMacs && p.bool()));
  world.deliver(bytes, p.oneIn(4) ? p.pick(FROM) : homeOf(senderIndex));
};

const act = async (world: World, p: DataProvider): Promise<void> => {
  const op = p.byte() % OPS;
  switch (op) {
    case Op.Raw: {
      const from = p.pick(FROM);
      world.deliver(p.bytes(Math.min(p.int(0xffff), p.remaining)), from);
      break;
    }
    case Op.Reseal: {
      // The bytes as a message body: addressed to the node and sealed again by the peer it names.
      const from = p.pick(FROM);
      const raw = p.bytes(Math.min(p.int(0xffff), p.remaining));
      const tree = parseMessage(raw);
      if (!tree) break;
      if (p.bool()) tree.root.set('to', TARGET.nodeId);
      world.deliver(reseal(tree, TARGET, { chance: (n) => p.oneIn(n) }), from);
      break;
    }
    case Op.Build:
    case Op.BuildMore:
    case Op.BuildEvenMore:
      build(world, p);
      break;
    case Op.Answer:
    case Op.AnswerMore:
      answer(world, p);
      break;
    case Op.Advance:
      await world.net.clock.advance(p.pick(ADVANCES_MS));
      break;
    case Op.Replay: {
      const pool = p.bool() ? world.delivered : world.sent.map((s) => s.bytes);
      if (pool.length > 0) world.deliver(p.pick(pool), p.pick(FROM));
      break;
    }
  }
};

/**
 * A valid Ping from a peer the input never used must get a Pong, sealed over
 * its id. It names the node and carries padding (an unknown field, which
 * receivers ignore), so that no reply budget for unproven addresses can
 * excuse silence: the Pong is smaller than the Ping.
 */
const checkLiveness = (world: World): void => {
  const requestId = createHash('sha256').update(String(world.sent.length)).digest().subarray(0, 16);
  const body = pingPackr.pack({ v: 1, t: 1, id: requestId, pk: PINGER.publicKey, port: PINGER_ADDRESS.port, to: TARGET.nodeId, pad: Buffer.alloc(256) });
  const before = world.sent.length;
  world.deliver(frame(body, PINGER), PINGER_ADDRESS);
  const pong = world.sent.slice(before).find((s) => s.to.host === PINGER_ADDRESS.host && s.to.port === PINGER_ADDRESS.port);
  check(pong !== undefined, 'the node did not answer a valid Ping');
  const decoded = decodeMessage(pong!.bytes, { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => sessionKeyBetween(PINGER, pk) });
  check(decoded.ok, () => `the node's Pong does not decode\n${decoded.ok ? '' : decoded.error.message}`);
  if (!decoded.ok) return;
  const m = decoded.value.message;
  check(m.type === 'pong' && Buffer.from(m.requestId).equals(requestId) && Buffer.from(m.recipientId).equals(PINGER.nodeId), `the node answered a Ping with a ${m.type} that does not echo it`);
  check(Buffer.from(m.senderPublicKey).equals(TARGET.publicKey) && unframe(pong!.bytes) !== undefined, 'the Pong is not sealed by the node');
};
const pingPackr = new Packr({ useRecords: false, variableMapSize: true });

const run = async (data: Buffer): Promise<void> => {
  const p = new DataProvider(data);
  const config = p.byte();
  const world = new World(config);
  try {
    for (let i = 0; i < MAX_ACTIONS && p.remaining > 0; i++) {
      await act(world, p);
      world.checkTable();
      world.raise();
    }
    // Let replies settle (a round trip adds its contact a few microtasks later), then look again.
    await world.net.clock.advance(0);
    world.checkTable();
    for (const stored of world.node.store.entries()) world.checkStored(stored.item, 'holds');
    world.raise();
    if ((config & CHECK_LIVENESS) === CHECK_LIVENESS) checkLiveness(world);
  } finally {
    await world.node.stop();
    await world.honest.stop();
  }
};

/** Seed programs: each message type delivered raw from its sender's home, then a challenge answered. */
const RAW_FROM = (index: number, bytes: Buffer): Buffer => {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([Buffer.from([Op.Raw, index]), length, bytes]);
};

const seeds = (): Array<{ name: string; data: Buffer }> => {
  const out: Array<{ name: string; data: Buffer }> = [];
  const bodies = seedBodies(PEERS[0], STORED[0].key, PEERS.slice(0, 3));
  bodies.forEach(([name, body], i) => {
    const index = (i % 3) + 1;
    const sender = PEERS[index];
    for (const mac of [false, true]) {
      const bytes = encodeMessage(withEnvelope(body, sender, TARGET.nodeId, Buffer.alloc(16, i)), sender, mac ? sealFor(sender, true) : undefined);
      // Config: liveness checked, session MACs as sealed; the message; an answer to the challenge it causes; time passes.
      out.push({ name: `${name}-${mac ? 'mac' : 'signed'}.bin`, data: Buffer.concat([Buffer.from([CHECK_LIVENESS | (mac ? 1 : 0)]), RAW_FROM(index, bytes), Buffer.from([Op.Answer, 0, 0, 0, 0, 0, 0, 0, Op.Advance, 4])]) });
    }
  });
  return out;
};

export const handlersHarness: Harness = {
  name: 'handlers',
  description: 'DrogulusNode.receive on a fresh node per input: raw bytes, resealed mutations, valid sealed messages of every type, answers and replays',
  maxLength: 8192,
  run,
  seeds,
  dictionary: [...messageDictionary([TARGET, HONEST]), ...[Op.Raw, Op.Build, Op.Answer, Op.Advance, Op.Replay].map((op) => Buffer.from([op]))],
  mutate: (data: Buffer, rng: Rng) => {
    // Mutate the message inside a raw delivery, keeping the program around it.
    if (data.length < 5 || data[1] % OPS !== Op.Raw) return undefined;
    const length = data.readUInt16BE(3);
    const message = data.subarray(5, 5 + length);
    const tree = mutateTree(message, { rng, plausible: plausibleValues([TARGET], rng) });
    if (!tree) return undefined;
    const sealed = reseal(tree, TARGET, rng);
    const header = Buffer.from(data.subarray(0, 5));
    header.writeUInt16BE(Math.min(sealed.length, 0xffff), 3);
    return Buffer.concat([header, sealed, data.subarray(5 + length)]);
  },
};

