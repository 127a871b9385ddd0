/**
 * drogulus as a real node runs it (src/cli/run-node.ts) minus the API and
 * SQLite: DrogulusNodes over UdpTransport on 127.0.0.1, SystemClock,
 * SystemRandom, MemoryItemStore, fresh identities. Each node joins through a
 * random earlier one. A put is node.set(name, value) with the default
 * duplication; a get is node.retrieve(key, { fresh: true }), so the getter
 * always asks the network even when it holds a replica itself.
 */
import { readFileSync } from 'node:fs';
import { bytesEqual } from '../../../src/crypto/bytes.js';
import { Identity } from '../../../src/crypto/identity.js';
import { resolveOptions } from '../../../src/dht/defaults.js';
import { DrogulusNode, SELF } from '../../../src/dht/node.js';
import { SystemRandom } from '../../../src/runtime/random.js';
import { SystemClock } from '../../../src/runtime/system-clock.js';
import { MemoryItemStore } from '../../../src/storage/memory-item-store.js';
import { UdpTransport } from '../../../src/transport/udp-transport.js';
import type { BenchSystem, Deployment, PutOutcome } from '../system.js';
import { countDgramSends, wire } from '../wire-counters.js';

const HOST = '127.0.0.1';
const REQUEST_TYPES = ['ping', 'find-node', 'find-value', 'store'];
/** The first byte of a message sealed with a session MAC; a signed message starts with its msgpack map, never 0xC1. */
const MAC_MARKER = 0xc1;

/** Counts messages by seal as they leave a transport and as they reach a node. */
interface SealCounts {
  signedOut: number;
  macOut: number;
  signedIn: number;
  macIn: number;
}

const isMac = (bytes: Uint8Array): boolean => bytes.length > 0 && bytes[0] === MAC_MARKER;

/** Session-key derivations, where the node has session keys (an X25519 agreement each). */
const keyAgreements = (node: DrogulusNode): number => (node as unknown as { sessionKeys?: { derivations?: number } }).sessionKeys?.derivations ?? 0;

const sum = (values: Iterable<number>): number => {
  let total = 0;
  for (const v of values) total += v;
  return total;
};

export const drogulus: BenchSystem = {
  name: 'drogulus',
  version: (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  getModes: ['get'],
  counting: "messages: the sum of every node's stats.messagesOut; requests: the Ping, FindNode, FindValue and Store among them; seals (Ed25519 signature or session MAC) counted on each message as it leaves a transport and reaches a node",
  async deploy(size, pick): Promise<Deployment> {
    countDgramSends();
    const clock = new SystemClock();
    const random = new SystemRandom();
    const { maxMessageBytes } = resolveOptions();
    const nodes: DrogulusNode[] = [];
    // Item signatures made and checked outside any message handler, counted here for the crypto floor.
    const local = { itemSigns: 0, itemChecks: 0 };
    const seals: SealCounts = { signedOut: 0, macOut: 0, signedIn: 0, macIn: 0 };
    try {
      for (let i = 0; i < size; i++) {
        const transport = await UdpTransport.bind({ host: HOST, port: 0, maxMessageBytes });
        const send = transport.send.bind(transport);
        transport.send = (to, bytes) => {
          if (isMac(bytes)) seals.macOut++;
          else seals.signedOut++;
          send(to, bytes);
        };
        const node = new DrogulusNode({ identity: Identity.generate(), transport, clock, random, store: new MemoryItemStore() });
        // The transport's handler calls node.receive, so this sees every message that arrives.
        const receive = node.receive.bind(node);
        node.receive = (bytes, from) => {
          if (isMac(bytes)) seals.macIn++;
          else seals.signedIn++;
          receive(bytes, from);
        };
        node.start();
        if (i > 0) {
          const seed = nodes[pick(i)];
          await node.join([{ ...seed.address, publicKey: seed.publicKey }]);
        }
        nodes.push(node);
      }
    } catch (error) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw error;
    }
    return {
      size,
      tableSizes: () => nodes.map((n) => n.table.size),
      async put(from, index, value): Promise<PutOutcome> {
        const report = await nodes[from].set(`bench-${index}`, value);
        // set() signs the item, replicate() checks it once, and a local replica checks it again.
        local.itemSigns++;
        local.itemChecks += 1 + report.replicas.filter((r) => r.peer === SELF).length;
        return { ok: report.stored > 0, key: report.item.key, signature: report.item.signature, replicas: report.stored };
      },
      async get(from, stored): Promise<Uint8Array | undefined> {
        const found = await nodes[from].retrieve(stored.key, { fresh: true });
        // The lookup checks the first valid value's signature, then stops.
        if (found.source === 'network' && found.item) local.itemChecks++;
        return found.item && bytesEqual(found.item.key, stored.key) ? found.item.signature : undefined;
      },
      counters: () => {
        const out = nodes.map((n) => n.stats.messagesOut);
        const inn = nodes.map((n) => n.stats.messagesIn);
        return {
          messages: sum(nodes.map((n) => n.stats.totalOut)),
          requests: sum(out.flatMap((o) => REQUEST_TYPES.map((t) => o[t] ?? 0))),
          messagesIn: sum(inn.flatMap((o) => Object.values(o))),
          storesIn: sum(inn.map((o) => o.store ?? 0)),
          valuesIn: sum(inn.map((o) => o.value ?? 0)),
          bytesOut: sum(nodes.map((n) => n.stats.bytesOut)),
          dropped: sum(nodes.flatMap((n) => Object.values(n.stats.dropped))),
          datagrams: wire.datagrams,
          itemSigns: local.itemSigns,
          itemChecks: local.itemChecks,
          ...seals,
          keyAgreements: sum(nodes.map(keyAgreements)),
        };
      },
      async close() {
        await Promise.all(nodes.map((n) => n.stop()));
      },
    };
  },
};
