/**
 * The groups a contact's address belongs to, for the routing table's
 * diversity caps (docs/protocol.md, "Routing rules"): its host (one IP) and
 * its network, the /24 of an IPv4 address or the /48 of an IPv6 one, which is
 * what one operator typically holds. A shared host, such as the loopback
 * address every node of a devnet listens on, counts each port as a host of
 * its own. Pure functions: no sockets, no DNS.
 */
import { decodeIp, encodeIp } from '../protocol/ip-address.js';
import type { Address } from './contact.js';

/** Hosts that many honest nodes share on purpose; no remote peer can send from them (kernels drop loopback sources). */
export const DEFAULT_SHARED_HOSTS: readonly string[] = Object.freeze(['127.0.0.1', '::1']);

export interface AddressGroup {
  /** One key per IP address (per address and port on a shared host). */
  readonly host: string;
  /** One key per /24 (IPv4) or /48 (IPv6); equal to `host` on a shared host or a host that is not an IP. */
  readonly network: string;
}

export const addressGroup = (address: Address, sharedHosts: readonly string[] = DEFAULT_SHARED_HOSTS): AddressGroup => {
  const bytes = encodeIp(address.host);
  const canonical = bytes ? decodeIp(bytes)! : address.host;
  if (!bytes || sharedHosts.includes(canonical)) {
    const host = `${canonical}:${address.port}`;
    return { host, network: host };
  }
  const v4 = !canonical.includes(':');
  // decodeIp gives an IPv4-mapped IPv6 address as plain IPv4, so both spellings land in one /24.
  const network = v4 ? `${canonical.split('.').slice(0, 3).join('.')}.0/24` : `${bytes.subarray(0, 6).toString('hex')}/48`;
  return { host: canonical, network };
};
