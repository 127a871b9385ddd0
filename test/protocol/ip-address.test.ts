/**
 * The IP address encoding of Nodes contacts: text to 4 or 16 bytes and back to
 * canonical text, checked against tables and against node:net and node:dgram,
 * whose forms are the ones a node compares contact hosts with.
 */
import { createSocket } from 'node:dgram';
import { isIP, isIPv4, isIPv6, SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeIp, encodeIp, encodeIpv4, encodeIpv6 } from '../../src/protocol/ip-address.js';

const NUM_RUNS = 2000;

const hexOf = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString('hex'));
const fromHex = (hex: string): Buffer => Buffer.from(hex, 'hex');

/** Node's text for an address: what its sockets report (libuv's inet_ntop). */
const nodeForm = (address: string): string => new SocketAddress({ address, family: isIPv6(address) ? 'ipv6' : 'ipv4' }).address;
/** The transports report an IPv4-mapped peer as plain IPv4 (src/transport/udp-transport.ts, normaliseHost). */
const unmapped = (address: string): string => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1] ?? address;

/** All eight groups written out, four digits each: valid text that is never canonical. */
const fullText = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').match(/.{4}/g)!.join(':');
const isMapped = (bytes: Uint8Array): boolean => bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;

describe('IPv4', () => {
  it.each([
    ['192.0.2.7', 'c0000207'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['10.0.0.1', '0a000001'],
    ['127.0.0.1', '7f000001'],
  ])('%s is the 4 bytes %s and back', (text, hex) => {
    expect(hexOf(encodeIp(text))).toBe(hex);
    expect(hexOf(encodeIpv4(text))).toBe(hex);
    expect(encodeIpv6(text)).toBeUndefined();
    expect(decodeIp(fromHex(hex))).toBe(text);
  });

  it.each(['1.2.3', '256.1.1.1', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.-1', '1..2.3', '1.2.3.4.', ' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', '1e2.0.0.1', ''])(
    'refuses %j, as node:net does',
    (text) => {
      expect(encodeIpv4(text)).toBeUndefined();
      expect(encodeIp(text)).toBeUndefined();
      expect(isIP(text)).toBe(0);
    },
  );
});

describe('IPv6 encoding', () => {
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:DB8::1', '20010db8000000000000000000000001'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '20010db8000000000000000000000001'],
    ['2001:db8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1::8', '00010000000000000000000000000008'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffffffffffffffffffffffffffffffff'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
    ['::FFFF:1.2.3.4', '00000000000000000000ffff01020304'],
    ['::1.2.3.4', '00000000000000000000000001020304'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ['1::6:1.2.3.4', '00010000000000000000000601020304'],
    ['0:0:0:0:0:ffff:255.255.255.255', '00000000000000000000ffffffffffff'],
  ])('%s is the 16 bytes %s', (text, hex) => {
    expect(isIPv6(text)).toBe(true);
    expect(hexOf(encodeIp(text))).toBe(hex);
    expect(hexOf(encodeIpv6(text))).toBe(hex);
  });

  it.each([
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    ':::',
    '::::',
    '1::2::3',
    '::1::',
    '12345::',
    '::12345',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    ':',
    ':1',
    '1:',
    ':1::2',
    '1::2:',
    'g::1',
    '::1.2.3',
    '::256.1.1.1',
    '::01.2.3.4',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '::1.2.3.4.5',
    ':1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    'fe80::1%eth0',
    '[::1]',
    ' ::1',
    'localhost',
    'node.example.org',
    '',
  ])('refuses %j, as node:net does', (text) => {
    expect(encodeIpv6(text)).toBeUndefined();
    expect(encodeIp(text)).toBeUndefined();
    if (!text.includes('%')) expect(isIP(text)).toBe(0);
  });
});

describe('IPv6 decoding', () => {
  it.each([
    ['00000000000000000000000000000000', '::', 'all zeros'],
    ['00000000000000000000000000000001', '::1', 'the loopback'],
    ['00010000000000000000000000000000', '1::', 'a trailing run'],
    ['20010db8000000000000000000000001', '2001:db8::1', 'a run in the middle'],
    ['20010db8000000000001000000000000', '2001:db8:0:0:1::', 'the longest run, not the first'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1', 'the longest run, not the first (3 against 1)'],
    ['20010000000000010000000000010001', '2001::1:0:0:1:1', 'the first of two equal runs'],
    ['00010000000000000001000000000001', '1::1:0:0:1', 'a longer run before a shorter one'],
    ['00010000000000010000000000000001', '1:0:0:1::1', 'a longer run after a shorter one'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1', 'no "::" for a single zero group'],
    ['00010002000300040005000600070000', '1:2:3:4:5:6:7:0', 'no "::" for a single zero group at the end'],
    ['00000002000300040005000600070008', '0:2:3:4:5:6:7:8', 'no "::" for a single zero group at the start'],
    ['20010db800ab0cde000f0000000000ff', '2001:db8:ab:cde:f::ff', 'lowercase, no leading zeros'],
    ['abcdef0000000000000000000000abcd', 'abcd:ef00::abcd', 'lowercase hex'],
    ['ffffffffffffffffffffffffffffffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'no zeros'],
    ['0064ff9b0000000000000000c0000221', '64:ff9b::c000:221', 'an RFC 6052 address, in hex'],
    ['00000000000000000000ffff01020304', '1.2.3.4', 'an IPv4-mapped address, as plain IPv4'],
    ['00000000000000000000ffff00000000', '0.0.0.0', 'the IPv4-mapped unspecified address'],
    ['0000000000000000ffff000001020304', '::ffff:0:102:304', 'an RFC 2765 IPv4-translated address, in hex'],
    ['00000000000000000000000001020304', '::1.2.3.4', 'an IPv4-compatible address, in mixed form'],
    ['00000000000000000000000000010000', '::0.1.0.0', 'an IPv4-compatible address with zeros, in mixed form'],
    ['00000000000000000000000000000002', '::2', 'a ::/112 address, in hex'],
    ['00000000000000000000000000000100', '::100', 'another ::/112 address, in hex'],
    ['fe800000000000000000000000010002', 'fe80::1:2', 'a link-local address'],
  ])('%s is %s: %s', (hex, text) => {
    const bytes = fromHex(hex);
    expect(decodeIp(bytes)).toBe(text);
    expect(isIP(text)).not.toBe(0);
    expect(unmapped(nodeForm(fullText(bytes)))).toBe(text);
    if (!isMapped(bytes)) expect(hexOf(encodeIp(text))).toBe(hex);
  });

  it('takes the bytes from a Uint8Array view at any offset', () => {
    const backing = fromHex('ff20010db8000000000000000000000001ff');
    expect(decodeIp(new Uint8Array(backing.buffer, backing.byteOffset + 1, 16))).toBe('2001:db8::1');
    expect(decodeIp(backing.subarray(1, 5))).toBe('32.1.13.184');
  });

  it.each([0, 1, 2, 3, 5, 6, 8, 12, 15, 17, 32])('gives undefined for %i bytes', (length) => {
    expect(decodeIp(new Uint8Array(length))).toBeUndefined();
  });
});

/** 16 bytes as eight groups, often 0 or ffff, so runs of zeros and mapped forms come up. */
const sixteenBytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }).map((groups) => {
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
    return new Uint8Array(out);
  }),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => new Uint8Array([...new Uint8Array(12), ...v4])),
);
const fourBytes = fc.uint8Array({ minLength: 4, maxLength: 4 });

describe('on random addresses', () => {
  it('16 bytes that are not IPv4-mapped decode to IPv6 text that encodes to the same bytes', () => {
    fc.assert(
      fc.property(
        sixteenBytes.filter((b) => !isMapped(b)),
        (bytes) => {
          const text = decodeIp(bytes)!;
          expect(isIPv6(text)).toBe(true);
          expect(hexOf(encodeIp(text))).toBe(hexOf(bytes));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('4 bytes decode to IPv4 text that encodes to the same bytes', () => {
    fc.assert(
      fc.property(fourBytes, (bytes) => {
        const text = decodeIp(bytes)!;
        expect(isIPv4(text)).toBe(true);
        expect(hexOf(encodeIp(text))).toBe(hexOf(bytes));
        expect(nodeForm(text)).toBe(text);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('IPv4-mapped bytes decode to the IPv4 address, whose own bytes are the last 4', () => {
    fc.assert(
      fc.property(fourBytes, (v4) => {
        const mapped = new Uint8Array([...new Uint8Array(10), 0xff, 0xff, ...v4]);
        const text = decodeIp(mapped)!;
        expect(isIPv4(text)).toBe(true);
        expect(text).toBe(decodeIp(v4));
        expect(hexOf(encodeIp(`::ffff:${text}`))).toBe(hexOf(mapped));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decode to the text node:net gives for the same address, whichever valid text it was given', () => {
    fc.assert(
      fc.property(sixteenBytes, (bytes) => {
        const text = decodeIp(bytes)!;
        // Node canonicalises the uncompressed text, which owes nothing to decodeIp.
        expect(unmapped(nodeForm(fullText(bytes)))).toBe(text);
        expect(unmapped(nodeForm(fullText(bytes).toUpperCase()))).toBe(text);
        // Node's own text is a fixed point, and encodes to the same address.
        expect(nodeForm(text)).toBe(isMapped(bytes) ? text : nodeForm(fullText(bytes)));
        expect(hexOf(encodeIp(nodeForm(fullText(bytes))))).toBe(hexOf(bytes));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('accept exactly the text node:net accepts as an IP address (without zone ids)', () => {
    const piece = fc.constantFrom('0', '1', '9', 'a', 'F', 'ffff', '12345', ':', '::', '.', '1.2.3.4', '255', '256', '01', 'g');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (pieces) => {
        const text = pieces.join('');
        expect(encodeIp(text) !== undefined).toBe(isIP(text) !== 0);
        if (isIPv4(text)) expect(encodeIp(text)).toHaveLength(4);
        if (isIPv6(text)) expect(encodeIp(text)).toHaveLength(16);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('what node:dgram reports', () => {
  /** The address a datagram sent to oneself on `host` arrives from. */
  const reportedSource = (type: 'udp4' | 'udp6', host: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = createSocket({ type });
      socket.once('error', (error) => {
        socket.close();
        reject(error);
      });
      socket.once('message', (_, rinfo) => {
        socket.close();
        resolve(rinfo.address);
      });
      socket.bind(0, host, () => socket.send('x', socket.address().port, host));
    });

  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)('on %s %s is a fixed point of encoding and decoding', async (type, host) => {
    const reported = await reportedSource(type, host);
    expect(reported).toBe(host);
    expect(decodeIp(encodeIp(reported)!)).toBe(reported);
  });
});
