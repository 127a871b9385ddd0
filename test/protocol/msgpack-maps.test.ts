import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { declaredMapSizes } from '../../src/protocol/msgpack-maps.js';

const small = new Packr({ useRecords: false, variableMapSize: true });
const wide = new Packr({ useRecords: false, variableMapSize: false });
const fields = { v: 1, item: { k: Buffer.alloc(64), m: { x: '1', y: '2' }, n: 'name' }, details: { q: 'r' }, nodes: [[Buffer.alloc(32), Buffer.alloc(4), 1908]] };

const replaceOnce = (body: Buffer, from: Buffer, to: Buffer): Buffer => {
  const at = body.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  return Buffer.concat([body.subarray(0, at), to, body.subarray(at + from.length)]);
};

describe('declaredMapSizes', () => {
  it('reads the counts of the body, item, meta and details maps, whatever map header holds them', () => {
    const sizes = { envelope: 4, item: 3, meta: 2, details: 1 };
    expect(declaredMapSizes(small.pack(fields))).toEqual(sizes);
    const body = wide.pack(fields);
    expect(body[0]).toBe(0xde);
    expect(declaredMapSizes(body)).toEqual(sizes);
    const map32 = Buffer.concat([Buffer.from([0xdf, 0, 0, 0, 4]), body.subarray(3)]);
    expect(declaredMapSizes(map32)).toEqual(sizes);
  });

  it('finds the keys in any str format', () => {
    let body = small.pack(fields);
    body = replaceOnce(body, Buffer.from([0xa4, ...Buffer.from('item')]), Buffer.from([0xd9, 4, ...Buffer.from('item')]));
    body = replaceOnce(body, Buffer.from([0xa1, ...Buffer.from('m')]), Buffer.from([0xda, 0, 1, ...Buffer.from('m')]));
    body = replaceOnce(body, Buffer.from([0xa7, ...Buffer.from('details')]), Buffer.from([0xdb, 0, 0, 0, 7, ...Buffer.from('details')]));
    expect(declaredMapSizes(body)).toEqual({ envelope: 4, item: 3, meta: 2, details: 1 });
  });

  it('counts a key sent twice, which a decoded Map holds once', () => {
    const body = replaceOnce(small.pack(fields), Buffer.from([0xa1, ...Buffer.from('y')]), Buffer.from([0xa1, ...Buffer.from('x')]));
    expect(declaredMapSizes(body)?.meta).toBe(2);
  });

  it('answers -1 for a field that is absent or not a map', () => {
    expect(declaredMapSizes(small.pack({ v: 1, item: [1], details: 'text' }))).toEqual({ envelope: 3, item: -1, meta: -1, details: -1 });
  });

  it('refuses a body that is not one map, is cut short or has bytes after it', () => {
    expect(declaredMapSizes(small.pack([1, 2]))).toBeUndefined();
    const body = small.pack(fields);
    for (let length = 0; length < body.length; length++) expect(declaredMapSizes(body.subarray(0, length))).toBeUndefined();
    expect(declaredMapSizes(Buffer.concat([body, Buffer.from([0xc0])]))).toBeUndefined();
  });

  it('refuses the extensions msgpackr reads beyond their payload, and skips the others', () => {
    const withExtra = (extra: number[]): Buffer => {
      const body = small.pack({ ...fields, zz: 0 });
      return Buffer.concat([body.subarray(0, -1), Buffer.from(extra)]);
    };
    for (const type of [0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x78]) expect(declaredMapSizes(withExtra([0xd4, type, 0]))).toBeUndefined();
    expect(declaredMapSizes(withExtra([0xd6, 0xff, 0, 0, 0, 1]))?.envelope).toBe(5);
    expect(declaredMapSizes(withExtra([0xc7, 2, 0x74, 1, 2]))?.envelope).toBe(5);
  });

  it('skips values nested deeper than any stack allows, without recursion', () => {
    const depth = 200_000;
    const nested = Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
    const body = small.pack({ v: 1, zz: 0 });
    expect(declaredMapSizes(Buffer.concat([body.subarray(0, -1), nested]))).toEqual({ envelope: 2, item: -1, meta: -1, details: -1 });
  });
});
