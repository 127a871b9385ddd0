/**
 * An in-memory network for tests and the simulator: transports that deliver
 * bytes through the injected clock after a configurable latency, with optional
 * loss, taps that see every packet, and nodes that can be cut off. Addresses
 * are in 127.0.0.0/8, each node with its own /24, though nothing leaves the process.
 */
import type { ReceiveHandler, Transport } from '../dht/transport.js';
import type { Address } from '../routing/contact.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';

export interface Packet {
  readonly from: Address;
  readonly to: Address;
  readonly bytes: Uint8Array;
}

export interface MemoryNetworkOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** One-way delay in ms, fixed or per packet. */
  readonly latencyMs?: number | ((from: Address, to: Address) => number);
  /** Fraction of packets lost, in [0, 1). */
  readonly lossRate?: number;
}

export interface NetworkCounters {
  sent: number;
  delivered: number;
  lost: number;
  undeliverable: number;
  bytes: number;
}

const addressKey = (a: Address): string => `${a.host}:${a.port}`;

export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly taps = new Set<(packet: Packet) => void>();
  private nextHost = 0;
  readonly counters: NetworkCounters = { sent: 0, delivered: 0, lost: 0, undeliverable: 0, bytes: 0 };

  constructor(private readonly options: MemoryNetworkOptions) {}

  /** A transport at `address`, or at a fresh address of its own. */
  createTransport(address: Address = this.freshAddress()): MemoryTransport {
    const key = addressKey(address);
    if (this.endpoints.has(key)) throw new Error(`address ${key} is already in use`);
    const transport = new MemoryTransport(this, address);
    this.endpoints.set(key, transport);
    return transport;
  }

  /** Sees every packet sent, before loss; for tests that capture and replay. */
  tap(listener: (packet: Packet) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** Injects raw bytes as if `from` had sent them (spoofing, for tests). */
  inject(from: Address, to: Address, bytes: Uint8Array): void {
    this.route({ from, to, bytes });
  }

  isAttached(address: Address): boolean {
    return this.endpoints.has(addressKey(address));
  }

  /** @internal */
  detach(transport: MemoryTransport): void {
    const key = addressKey(transport.localAddress);
    if (this.endpoints.get(key) === transport) this.endpoints.delete(key);
  }

  /** @internal */
  route(packet: Packet): void {
    this.counters.sent++;
    this.counters.bytes += packet.bytes.length;
    for (const tap of this.taps) tap(packet);
    const lossRate = this.options.lossRate ?? 0;
    if (lossRate > 0 && this.options.random.float() < lossRate) {
      this.counters.lost++;
      return;
    }
    const latency = this.options.latencyMs;
    const delayMs = typeof latency === 'function' ? latency(packet.from, packet.to) : (latency ?? 1);
    this.options.clock.setTimeout(() => {
      const endpoint = this.endpoints.get(addressKey(packet.to));
      if (!endpoint) {
        this.counters.undeliverable++;
        return;
      }
      this.counters.delivered++;
      endpoint.deliver(packet.bytes, packet.from);
    }, delayMs);
  }

  private freshAddress(): Address {
    const n = this.nextHost++;
    // 127.a.b.c with a ≥ 1: one /24 (127.a.b) per node for the first 65,280
    // nodes, so that the routing table's per-/24 caps see distinct networks;
    // after that c counts up, for 16.5 million distinct addresses in all.
    const slot = n % 65_280;
    return { host: `127.${1 + (slot >> 8)}.${slot & 255}.${1 + Math.floor(n / 65_280)}`, port: 1908 };
  }
}

export class MemoryTransport implements Transport {
  private handler: ReceiveHandler | undefined;
  private isClosed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly localAddress: Address,
  ) {}

  send(to: Address, bytes: Uint8Array): void {
    if (this.isClosed) return;
    this.network.route({ from: this.localAddress, to, bytes });
  }

  onReceive(handler: ReceiveHandler): void {
    this.handler = handler;
  }

  /** @internal */
  deliver(bytes: Uint8Array, from: Address): void {
    if (!this.isClosed) this.handler?.(bytes, from);
  }

  /** Leaves the network: packets to this address are lost from now on. */
  close(): void {
    this.isClosed = true;
    this.network.detach(this);
  }
}
