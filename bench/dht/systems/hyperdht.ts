/**
 * hyperdht through its own test network: createTestnet(n) binds every node to
 * 127.0.0.1 and bootstraps them from the first, never from the public
 * bootstrap servers. A put is mutablePut with a fresh key pair per value
 * (hyperdht keys a mutable record by its public key alone); a get is
 * mutableGet from another node, either `latest: false` (the first verified
 * value) or `latest: true` (the highest seq after the whole query).
 */
import { createRequire } from 'node:module';
import HyperDHT, { type KeyPair } from 'hyperdht';
import createTestnet from 'hyperdht/testnet.js';
import type { BenchSystem, Deployment, PutOutcome } from '../system.js';
import { packageVersion } from '../package-version.js';
import { countUdxSends, wire } from '../wire-counters.js';

/** udx-native's socket class, as dht-rpc loads it, so sends are counted from the first bootstrap packet on. */
const udxSocketPrototype = (): object => {
  const fromHere = createRequire(import.meta.url);
  const fromDhtRpc = createRequire(createRequire(fromHere.resolve('hyperdht')).resolve('dht-rpc'));
  return (fromDhtRpc('udx-native/lib/socket.js') as { prototype: object }).prototype;
};

export const hyperdht: BenchSystem = {
  name: 'hyperdht',
  version: packageVersion('hyperdht'),
  getModes: ['first-value', 'latest'],
  counting: "messages: UDP datagrams counted by wrapping udx-native's socket send (hyperdht keeps no total); requests: the sum of every node's io.stats.requests.total (dht-rpc's counter)",
  async deploy(size): Promise<Deployment> {
    countUdxSends(udxSocketPrototype());
    const testnet = await createTestnet(size, { host: '127.0.0.1' });
    const nodes = testnet.nodes;
    let keyPairs: KeyPair[] = [];
    return {
      size,
      tableSizes: () => nodes.map((n) => n.toArray().length),
      prepare(puts) {
        keyPairs = Array.from({ length: puts }, () => HyperDHT.keyPair());
      },
      async put(from, index, value): Promise<PutOutcome> {
        const keyPair = keyPairs[index] ?? HyperDHT.keyPair();
        const { signature } = await nodes[from].mutablePut(keyPair, value);
        // mutablePut resolves once its commits settle and does not say how many succeeded.
        return { ok: true, key: keyPair.publicKey, signature, replicas: NaN };
      },
      async get(from, stored, mode): Promise<Uint8Array | undefined> {
        const found = await nodes[from].mutableGet(Buffer.from(stored.key), { latest: mode === 'latest' });
        return found?.signature;
      },
      counters: () => ({
        messages: wire.datagrams,
        requests: nodes.reduce((total, n) => total + n.io.stats.requests.total, 0),
      }),
      async close() {
        await testnet.destroy();
      },
    };
  },
};
