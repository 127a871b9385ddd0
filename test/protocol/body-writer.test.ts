/**
 * body-writer.ts must write exactly the bytes msgpackr writes for the wire
 * object (docs/protocol.md pins them with test/vectors): compared here on
 * random messages, padded or not, and on values it leaves to msgpackr.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeIp } from '../../src/protocol/ip-address.js';
import { referenceBody } from '../../src/protocol/codec.js';
import { writeBody } from '../../src/protocol/body-writer.js';
import type { Message } from '../../src/protocol/messages.js';
import { nameHost, sealed } from './arbitraries.js';
import { alice, message } from './fixtures.js';

const wireIp = (host: string): Buffer | undefined => encodeIp(host);
const written = (m: Message, pad?: number): Buffer | undefined => {
  const body = writeBody(m, wireIp, pad);
  return body && Buffer.from(body);
};

describe('writeBody', () => {
  it('writes the bytes msgpackr writes, for any message', () => {
    fc.assert(
      fc.property(sealed, fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }), ({ message: m }, pad, difficulty) => {
        const withDifficulty = difficulty === undefined ? m : ({ ...m, difficulty } as Message);
        expect(written(withDifficulty, pad)).toEqual(referenceBody(withDifficulty, pad));
      }),
      { numRuns: 400 },
    );
  });

  it('leaves out contacts whose host is not an IP address, as the msgpackr path does', () => {
    fc.assert(
      fc.property(fc.array(nameHost, { maxLength: 3 }), (hosts) => {
        const nodes = [...hosts, '10.0.0.1', '::1'].map((host, i) => ({ publicKey: Buffer.alloc(32, i), host, port: 1000 + i }));
        const m = message({ type: 'nodes', nodes });
        expect(written(m)).toEqual(referenceBody(m));
      }),
    );
  });

  it('writes pads of every bin header size as msgpackr does', () => {
    const m = message({ type: 'ping' });
    for (const pad of [0, 255, 256, 65_535, 65_536, 70_000]) expect(written(m, pad)).toEqual(referenceBody(m, pad));
  });

  it('writes numbers of every size and sign as msgpackr does', () => {
    const values = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -(2 ** 31), -(2 ** 31) - 1, 1.5, -0];
    for (const v of values) {
      const base = message({ type: 'store', item: { key: Buffer.alloc(64), value: 'null', timestamp: v, expires: v, createdWith: 'x', publicKey: alice.publicKey, name: 'n', meta: {}, signature: Buffer.alloc(64) } });
      expect(written(base)).toEqual(referenceBody(base));
    }
  });

  it('writes strings of every header size, and lone surrogates as U+FFFD, as msgpackr does', () => {
    for (const title of ['', 'a'.repeat(31), 'a'.repeat(32), 'é'.repeat(16), 'é'.repeat(200), 'x'.repeat(300), '😀'.repeat(20000), '\ud800x', 'a\udc00'.repeat(40)]) {
      const m = message({ type: 'error', code: 1, title, details: { [title]: title } });
      expect(written(m)).toEqual(referenceBody(m));
    }
  });

  it('gives undefined, for msgpackr to write, a value of a type it was not made for', () => {
    const base = message({ type: 'error', code: 1, title: 't', details: {} });
    expect(writeBody({ ...base, details: { a: 1 } } as unknown as Message, wireIp)).toBeUndefined();
    expect(writeBody({ ...base, details: new Map() } as unknown as Message, wireIp)).toBeUndefined();
    expect(writeBody({ ...base, title: 7 } as unknown as Message, wireIp)).toBeUndefined();
    expect(writeBody({ ...base, type: 'nope' } as unknown as Message, wireIp)).toBeUndefined();
  });
});
