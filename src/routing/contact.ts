/**
 * A peer as the routing table knows it: identity (public key, id derived from
 * it), the address it last proved it answers at, and its health.
 */
import { toHex } from '../crypto/bytes.js';
import { nodeIdOf } from '../crypto/identity.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface Contact extends Address {
  readonly id: Buffer;
  readonly idHex: string;
  readonly publicKey: Buffer;
  /** When it last answered us or sent us a valid message (ms). */
  readonly lastSeenMs: number;
  /** Failed requests since it last answered. */
  readonly failures: number;
  /** Smoothed round-trip time, when measured. */
  readonly rttMs: number | undefined;
}

/** A verified peer about to enter the table. */
export interface ContactInfo extends Address {
  readonly publicKey: Uint8Array;
}

export const makeContact = (info: ContactInfo, nowMs: number): Contact => {
  const publicKey = Buffer.from(info.publicKey);
  const id = nodeIdOf(publicKey);
  return { id, idHex: toHex(id), publicKey, host: info.host, port: info.port, lastSeenMs: nowMs, failures: 0, rttMs: undefined };
};

export const sameAddress = (a: Address, b: Address): boolean => a.host === b.host && a.port === b.port;

export const formatAddress = (a: Address): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
