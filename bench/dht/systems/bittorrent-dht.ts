/**
 * bittorrent-dht (BEP 44 mutable items) with libsodium's Ed25519 through
 * sodium-native, as its `verify` option allows. Nodes start with
 * `bootstrap: false`, listen on 127.0.0.1, and join by addNode of a random
 * earlier node followed by a lookup of their own id. A put is dht.put with a
 * fresh key pair per value (k, seq 0, v, sign); a get is dht.get(hash) from
 * another node with `cache: false`, so it always asks the network.
 */
import DHT, { type Client } from 'bittorrent-dht';
import sodium from 'sodium-native';
import type { BenchSystem, Deployment, PutOutcome } from '../system.js';
import { packageVersion } from '../package-version.js';
import { countCalls, countDgramSends, wire } from '../wire-counters.js';

const HOST = '127.0.0.1';
const JOIN_TIMEOUT_MS = 5_000;

interface KeyPair {
  readonly publicKey: Buffer;
  readonly secretKey: Buffer;
}

const keyPair = (): KeyPair => {
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_keypair(publicKey, secretKey);
  return { publicKey, secretKey };
};

const verify = (signature: Buffer, message: Buffer, publicKey: Buffer): boolean =>
  signature.length === sodium.crypto_sign_BYTES && publicKey.length === sodium.crypto_sign_PUBLICKEYBYTES && sodium.crypto_sign_verify_detached(signature, message, publicKey);

const queries = { sent: 0 };

const within = <T>(ms: number, what: string, run: (done: (value: T) => void, fail: (error: Error) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    run(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

const startNode = async (): Promise<Client> => {
  const dht = new DHT({ bootstrap: false, verify });
  dht.on('error', () => undefined);
  dht.on('warning', () => undefined);
  await within<void>(JOIN_TIMEOUT_MS, 'listen', (done) => dht.listen(0, HOST, () => done()));
  countCalls(dht._rpc.socket, 'query', () => queries.sent++);
  return dht;
};

export const bittorrentDht: BenchSystem = {
  name: 'bittorrent-dht',
  version: packageVersion('bittorrent-dht'),
  getModes: ['get'],
  counting: "messages: UDP datagrams counted by wrapping node:dgram's socket send; requests: calls of k-rpc-socket's query (bittorrent-dht keeps no counters)",
  async deploy(size, pick): Promise<Deployment> {
    countDgramSends();
    const nodes: Client[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const dht = await startNode();
        if (i > 0) {
          const seed = nodes[pick(i)];
          await within<void>(JOIN_TIMEOUT_MS, 'addNode', (done) => {
            dht.once('node', () => done());
            dht.addNode({ host: HOST, port: seed.address().port });
          });
          await within<void>(JOIN_TIMEOUT_MS, 'self lookup', (done, fail) => dht.lookup(dht.nodeId, (error) => (error ? fail(error) : done())));
        }
        nodes.push(dht);
      }
    } catch (error) {
      for (const n of nodes) n.destroy();
      throw error;
    }
    let keyPairs: KeyPair[] = [];
    return {
      size,
      tableSizes: () => nodes.map((n) => n.nodes.count()),
      prepare(puts) {
        keyPairs = Array.from({ length: puts }, keyPair);
      },
      put(from, index, value): Promise<PutOutcome> {
        const keys = keyPairs[index] ?? keyPair();
        let signature = Buffer.alloc(0);
        const sign = (message: Buffer): Buffer => {
          signature = Buffer.alloc(sodium.crypto_sign_BYTES);
          sodium.crypto_sign_detached(signature, message, keys.secretKey);
          return signature;
        };
        return new Promise((resolve, reject) => {
          nodes[from].put({ k: keys.publicKey, seq: 0, v: value, sign }, (error, hash, stored) => {
            if (error) reject(error);
            else resolve({ ok: stored > 0, key: hash, signature, replicas: stored });
          });
        });
      },
      get(from, stored): Promise<Uint8Array | undefined> {
        return new Promise((resolve, reject) => {
          nodes[from].get(Buffer.from(stored.key), { cache: false }, (error, reply) => (error ? reject(error) : resolve(reply?.sig)));
        });
      },
      counters: () => ({ messages: wire.datagrams, requests: queries.sent }),
      async close() {
        await Promise.all(nodes.map((n) => new Promise<void>((resolve) => n.destroy(() => resolve()))));
      },
    };
  },
};
