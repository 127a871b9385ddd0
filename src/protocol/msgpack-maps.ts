/**
 * The entry counts that a message body's msgpack headers declare for the maps
 * the decoder reads: the body itself (the envelope), its `item`, that item's
 * `m` (meta) and its `details`. The codec decodes maps as `Map`, which keeps
 * every key as it was sent (no renaming of "__proto__", no number made a
 * string) but keeps only the last of a duplicated key; a `Map` holding fewer
 * entries than its header declared had a key twice (docs/protocol.md,
 * "msgpack rules").
 *
 * This reads headers only: values it does not descend into are skipped by
 * their lengths, without decoding or allocating, in a loop (no recursion, so
 * nesting cannot exhaust the stack). It runs on bodies msgpackr has already
 * decoded, and refuses (undefined) an extension that msgpackr reads beyond its
 * own payload (records, errors, sets, regular expressions, structured-clone
 * references, bundled strings): past one, msgpackr and a plain msgpack reader
 * no longer agree on where values start, so the counts could not be trusted.
 */

/** -1 where the body has no such field, or it is not a map. */
export interface DeclaredMapSizes {
  readonly envelope: number;
  readonly item: number;
  readonly meta: number;
  readonly details: number;
}

/** Extension types msgpackr reads from their own payload only: undefined (0), bigint (0x42), typed arrays (0x74), timestamps (-1). */
const PLAIN_EXTENSIONS = new Set([0x00, 0x42, 0x74, 0xff]);

const ITEM = Buffer.from('item');
const META = Buffer.from('m');
const DETAILS = Buffer.from('details');

// The read position, shared by the helpers below so that reading allocates nothing.
let at = 0;

const u16 = (b: Uint8Array, i: number): number => (b[i] << 8) | b[i + 1];
const u32 = (b: Uint8Array, i: number): number => ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);

/** If a map header starts at `at`: its entry count, and `at` moves past it. Else -1, and `at` stays. */
const mapHeader = (b: Uint8Array): number => {
  const t = b[at];
  if (t >= 0x80 && t <= 0x8f) {
    at += 1;
    return t - 0x80;
  }
  if (t === 0xde && at + 3 <= b.length) {
    at += 3;
    return u16(b, at - 2);
  }
  if (t === 0xdf && at + 5 <= b.length) {
    at += 5;
    return u32(b, at - 4);
  }
  return -1;
};

/** Whether the value at `at` is a str (any of its four formats) holding exactly `name`. `at` stays. */
const isString = (b: Uint8Array, name: Uint8Array): boolean => {
  if (at >= b.length) return false;
  const t = b[at];
  let start = at + 1;
  let length = t - 0xa0;
  if (t === 0xd9) {
    start = at + 2;
    length = b[at + 1];
  } else if (t === 0xda) {
    start = at + 3;
    length = u16(b, at + 1);
  } else if (t === 0xdb) {
    start = at + 5;
    length = u32(b, at + 1);
  } else if (t < 0xa0 || t > 0xbf) return false;
  if (length !== name.length || start + length > b.length) return false;
  for (let i = 0; i < length; i++) if (b[start + i] !== name[i]) return false;
  return true;
};

/** Moves `at` past `count` values. False when the bytes end first or hold an extension msgpackr reads otherwise. */
const skip = (b: Uint8Array, count: number): boolean => {
  let pending = count;
  let p = at;
  const end = b.length;
  while (pending > 0) {
    if (p >= end) return false;
    const t = b[p];
    pending--;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) p += 1;
    else if (t <= 0x8f) {
      pending += 2 * (t - 0x80);
      p += 1;
    } else if (t <= 0x9f) {
      pending += t - 0x90;
      p += 1;
    } else if (t <= 0xbf) p += 1 + (t - 0xa0);
    else {
      switch (t) {
        case 0xc4:
        case 0xd9:
          p += 2 + b[p + 1];
          break;
        case 0xc5:
        case 0xda:
          p += 3 + u16(b, p + 1);
          break;
        case 0xc6:
        case 0xdb:
          p += 5 + u32(b, p + 1);
          break;
        case 0xc7:
          if (!PLAIN_EXTENSIONS.has(b[p + 2])) return false;
          p += 3 + b[p + 1];
          break;
        case 0xc8:
          if (!PLAIN_EXTENSIONS.has(b[p + 3])) return false;
          p += 4 + u16(b, p + 1);
          break;
        case 0xc9:
          if (!PLAIN_EXTENSIONS.has(b[p + 5])) return false;
          p += 6 + u32(b, p + 1);
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          p += 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          p += 9;
          break;
        case 0xcc:
        case 0xd0:
          p += 2;
          break;
        case 0xcd:
        case 0xd1:
          p += 3;
          break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          if (!PLAIN_EXTENSIONS.has(b[p + 1])) return false;
          p += 2 + (1 << (t - 0xd4));
          break;
        case 0xdc:
          pending += u16(b, p + 1);
          p += 3;
          break;
        case 0xdd:
          pending += u32(b, p + 1);
          p += 5;
          break;
        case 0xde:
          pending += 2 * u16(b, p + 1);
          p += 3;
          break;
        case 0xdf:
          pending += 2 * u32(b, p + 1);
          p += 5;
          break;
        default:
          return false; // 0xc1, never used
      }
    }
  }
  at = p;
  return p <= end;
};

/** The declared sizes, or undefined when the body cannot be read as plain msgpack (see above). */
export const declaredMapSizes = (body: Uint8Array): DeclaredMapSizes | undefined => {
  at = 0;
  const envelope = mapHeader(body);
  if (envelope < 0) return undefined;
  let item = -1;
  let meta = -1;
  let details = -1;
  for (let i = 0; i < envelope; i++) {
    const isItem = isString(body, ITEM);
    const isDetails = !isItem && isString(body, DETAILS);
    if (!skip(body, 1)) return undefined;
    const size = isItem || isDetails ? mapHeader(body) : -1;
    if (size < 0) {
      if (!skip(body, 1)) return undefined;
    } else if (isDetails) {
      details = size;
      if (!skip(body, 2 * size)) return undefined;
    } else {
      item = size;
      for (let j = 0; j < size; j++) {
        const isMeta = isString(body, META);
        if (!skip(body, 1)) return undefined;
        const metaSize = isMeta ? mapHeader(body) : -1;
        if (metaSize >= 0) meta = metaSize;
        if (!skip(body, metaSize >= 0 ? 2 * metaSize : 1)) return undefined;
      }
    }
  }
  return at === body.length ? { envelope, item, meta, details } : undefined;
};
