/**
 * What the DHT core needs from a network: send bytes to an address, be told of
 * bytes that arrive. Implementations: the in-memory network (tests, simulator)
 * and UDP/TCP sockets (real nodes). Delivery is best effort; the core handles
 * loss with timeouts.
 */
import type { Address } from '../routing/contact.js';

export type ReceiveHandler = (bytes: Uint8Array, from: Address) => void;

export interface Transport {
  /** The address peers reach this node at; its port is carried in every message. */
  readonly localAddress: Address;
  send(to: Address, bytes: Uint8Array): void;
  /** Sets the single receiver of incoming bytes. */
  onReceive(handler: ReceiveHandler): void;
  close(): void;
  /** Settles once close() has released every socket, for transports that hold any. */
  readonly closed?: Promise<void>;
}
