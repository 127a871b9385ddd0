// The parts of bittorrent-dht (which ships no types) that the benchmark uses.
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events';

  export interface MutablePut {
    readonly k: Buffer;
    readonly seq: number;
    readonly v: Buffer;
    readonly sign: (message: Buffer) => Buffer;
    readonly salt?: Buffer;
  }

  export interface GetReply {
    readonly v: Buffer;
    readonly k?: Buffer;
    readonly sig?: Buffer;
    readonly seq?: number;
  }

  export interface DHTOptions {
    readonly bootstrap?: false | string[];
    readonly verify?: (signature: Buffer, message: Buffer, publicKey: Buffer) => boolean;
    readonly concurrency?: number;
  }

  export class Client extends EventEmitter {
    constructor(options?: DHTOptions);
    readonly nodeId: Buffer;
    readonly nodes: { count(): number };
    /** k-rpc's instance; its socket is the k-rpc-socket whose sends the benchmark counts. */
    readonly _rpc: { readonly socket: object };
    listen(port: number, address: string, onListening?: () => void): void;
    address(): { address: string; port: number };
    addNode(node: { host: string; port: number }): void;
    lookup(infoHash: Buffer, callback?: (error: Error | null) => void): void;
    put(options: MutablePut, callback: (error: Error | null, hash: Buffer, stored: number) => void): Buffer;
    get(hash: Buffer, options: { cache?: boolean }, callback: (error: Error | null, reply: GetReply | null) => void): void;
    destroy(callback?: () => void): void;
  }

  export default Client;
}
