/**
 * The public exports of the drogulus library. Nothing but re-exports.
 */
export { Identity, nodeIdOf, verifySignature } from './crypto/identity.js';
export { toHex, fromHex } from './crypto/bytes.js';
export { readKeyFile, writeKeyFile } from './crypto/key-file.js';
export { createItem, checkItem, itemKey, compareItemVersions, isExpired, type Item, type ItemValue, type NewItem } from './protocol/item.js';
export { encodeMessage, decodeMessage, inspectMessage } from './protocol/codec.js';
export type { Message, MessageType } from './protocol/messages.js';
export { ErrorCode, ERROR_TITLES } from './protocol/errors.js';
export { PROTOCOL_VERSION, PACKAGE_VERSION } from './protocol/version.js';
export { RoutingTable, type TableSnapshot } from './routing/routing-table.js';
export type { Contact, Address } from './routing/contact.js';
export type { ItemStore, StoredItem } from './storage/item-store.js';
export { MemoryItemStore } from './storage/memory-item-store.js';
export { SqliteItemStore } from './storage/sqlite-item-store.js';
export { DrogulusNode, type NodeDeps, type Seed, type SetOptions, type ReplicateReport, type RetrieveReport } from './dht/node.js';
export { DEFAULTS, type NodeOptions } from './dht/defaults.js';
export type { Transport } from './dht/transport.js';
export type { NodeEvent } from './dht/events.js';
export type { LookupEvent, LookupResult } from './dht/lookup.js';
export { MemoryNetwork, MemoryTransport } from './transport/memory-network.js';
export { UdpTransport } from './transport/udp-transport.js';
export { ManualClock } from './runtime/manual-clock.js';
export { SystemClock } from './runtime/system-clock.js';
export { SeededRandom, SystemRandom } from './runtime/random.js';
export { Testnet, createTestnet } from './sim/testnet.js';
export { runSimulation } from './sim/simulator.js';
export { createApiServer } from './api/server.js';
export { DrogulusClient, ApiError } from './api/client.js';
