/**
 * IP addresses as they travel in Nodes messages: 4 bytes for IPv4, 16 for
 * IPv6, so that 20 contacts fit a 1,200-byte datagram. Decoding gives the
 * canonical text form (RFC 5952 for IPv6), the form Node's sockets report.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const encodeIpv4 = (host: string): Buffer | undefined => (IPV4.test(host) ? Buffer.from(host.split('.').map(Number)) : undefined);

/** The 16 bytes of an IPv6 address in any valid text form, or undefined. */
export const encodeIpv6 = (host: string): Buffer | undefined => {
  if (host.length > 45 || !/^[0-9a-fA-F:.]+$/.test(host)) return undefined;
  let text = host;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = encodeIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    // Drop the dotted part, keeping a "::" that precedes it.
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  } else {
    if (given !== 8) return undefined;
    groups = [...head, ...tail];
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
};

export const encodeIp = (host: string): Buffer | undefined => encodeIpv4(host) ?? encodeIpv6(host);

/**
 * IPv4 texts by address, remembered: every Nodes message carries K contacts,
 * and the same few hundred hosts come back in each. Bounded; emptied when full.
 */
const ipv4Texts = new Map<number, string>();
const IPV4_TEXTS = 4096;

const ipv4Text = (bytes: Uint8Array): string => {
  const n = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  let text = ipv4Texts.get(n);
  if (text === undefined) {
    if (ipv4Texts.size >= IPV4_TEXTS) ipv4Texts.clear();
    text = `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
    ipv4Texts.set(n, text);
  }
  return text;
};

/** Canonical text of 4 or 16 address bytes; undefined for any other length. */
export const decodeIp = (bytes: Uint8Array): string | undefined => {
  if (bytes.length === 4) return ipv4Text(bytes);
  if (bytes.length !== 16) return undefined;
  // IPv4-mapped addresses are given as plain IPv4, as the transports report them.
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return decodeIp(bytes.subarray(12));
  // IPv4-compatible addresses (::/96, deprecated) take the mixed form "::a.b.c.d" that Node's
  // sockets (libuv's inet_ntop) report and RFC 5952 section 5 recommends, unless the upper 16 of
  // the last 32 bits are zero (so "::1" and "::" stay hexadecimal, as they do there).
  if (bytes.subarray(0, 12).every((b) => b === 0) && (bytes[12] !== 0 || bytes[13] !== 0)) return `::${decodeIp(bytes.subarray(12))}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952: compress the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
};
