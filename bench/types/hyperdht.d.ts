// The parts of hyperdht (which ships no types) that the benchmark uses.
declare module 'hyperdht' {
  export interface KeyPair {
    readonly publicKey: Buffer;
    readonly secretKey: Buffer;
  }

  export interface MutableRecord {
    readonly value: Buffer;
    readonly seq: number;
    readonly signature: Buffer;
  }

  export default class HyperDHT {
    static keyPair(seed?: Buffer): KeyPair;
    mutablePut(keyPair: KeyPair, value: Buffer, options?: { seq?: number }): Promise<{ signature: Buffer; seq: number }>;
    mutableGet(publicKey: Buffer, options?: { latest?: boolean; seq?: number }): Promise<MutableRecord | null>;
    toArray(): Array<{ host: string; port: number }>;
    address(): { host: string; port: number };
    readonly io: {
      readonly stats: { readonly requests: { readonly total: number } };
      readonly serverSocket: object;
      readonly clientSocket: object;
    };
    destroy(): Promise<void>;
  }
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht';

  export interface Testnet {
    readonly nodes: HyperDHT[];
    readonly bootstrap: Array<{ host: string; port: number }>;
    destroy(): Promise<void>;
  }

  export default function createTestnet(size: number, options?: { host?: string; port?: number }): Promise<Testnet>;
}
