/**
 * Structure-aware mutation of a sealed message: decode its body as msgpack
 * (maps as Maps, so any key and order survive), change one thing (a value of
 * another type, a field added, removed or set to a plausible value, a byte
 * string one byte longer or shorter, an edge integer), encode it again and let
 * the harness seal it, so that the mutated message reaches the checks after the
 * seal instead of dying at it.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Rng } from './rng.js';
import { type Framed, unframe } from './wire.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' });

export const FIELD_NAMES = ['v', 't', 'id', 'pk', 'port', 'to', 'd', 'pad', 'key', 'item', 'nodes', 'code', 'title', 'details', 'k', 'ts', 'exp', 'cw', 'n', 'm', 'sig', '__proto__', 'constructor', ''];
const EDGE_INTS = [0, 1, 2, 7, 8, 9, 255, 256, 1023, 1024, 1025, 65535, 65536, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, -1, -(2 ** 31)];
const BIN_LENGTHS = [0, 1, 4, 15, 16, 17, 31, 32, 33, 63, 64, 65];

/** Values the mutation may plant; `plausible` adds field-specific valid values. */
export interface PlantContext {
  readonly rng: Rng;
  /** Valid values for a named field (recipient ids, public keys), to steer toward acceptance. */
  readonly plausible?: (field: string) => unknown[];
}

const randomValue = (rng: Rng, depth = 0): unknown => {
  switch (rng.below(depth > 2 ? 9 : 12)) {
    case 0:
      return null;
    case 1:
      return rng.chance(2);
    case 2:
      return rng.pick(EDGE_INTS);
    case 3:
      return rng.pick([1.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 64, 1e300]);
    case 4:
      return rng.pick([BigInt(2) ** BigInt(63), BigInt(2) ** BigInt(64) - BigInt(1), BigInt(-1) * BigInt(2) ** BigInt(63), BigInt(2) ** BigInt(53) + BigInt(1)]);
    case 5:
      return rng.pick(FIELD_NAMES);
    case 6:
      return 'x'.repeat(rng.pick([0, 1, 127, 128, 129, 1023, 1024, 1025]));
    case 7:
      return rng.bytes(rng.pick(BIN_LENGTHS));
    case 8:
      return rng.bytes(rng.below(80));
    case 9:
      return Array.from({ length: rng.below(4) }, () => randomValue(rng, depth + 1));
    case 10:
      // Something shaped like a contact.
      return [rng.bytes(32), rng.bytes(rng.pick([4, 16, 5, 0])), rng.pick([1, 1908, 65535, 0, 65536])];
    default:
      return new Map(Array.from({ length: rng.below(4) }, () => [rng.pick(FIELD_NAMES), randomValue(rng, depth + 1)] as const));
  }
};

interface Slot {
  readonly get: () => unknown;
  readonly set: (value: unknown) => void;
  readonly remove: () => void;
  readonly field: string | undefined;
}

const slotsOf = (value: unknown, out: Slot[], depth = 0): void => {
  if (depth > 4) return;
  if (value instanceof Map) {
    for (const key of value.keys()) {
      out.push({ get: () => value.get(key), set: (v) => value.set(key, v), remove: () => value.delete(key), field: typeof key === 'string' ? key : undefined });
      slotsOf(value.get(key), out, depth + 1);
    }
  } else if (Array.isArray(value)) {
    value.forEach((element, index) => {
      out.push({ get: () => value[index], set: (v) => (value[index] = v), remove: () => value.splice(index, 1), field: undefined });
      slotsOf(element, out, depth + 1);
    });
  }
};

const mutateValue = (value: unknown, rng: Rng): unknown => {
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value);
    switch (rng.below(3)) {
      case 0:
        if (bytes.length > 0) bytes[rng.below(bytes.length)] ^= 1 << rng.below(8);
        return bytes;
      case 1:
        return Buffer.concat([bytes, rng.bytes(1)]);
      default:
        return bytes.subarray(0, Math.max(0, bytes.length - 1));
    }
  }
  if (typeof value === 'number') return rng.chance(2) ? value + rng.pick([1, -1]) : rng.pick(EDGE_INTS);
  if (typeof value === 'string') return rng.chance(2) ? value + rng.pick(['x', 'é', '😀', '\u0000']) : value.slice(0, Math.max(0, value.length - 1));
  if (Array.isArray(value)) {
    const copy = value.slice();
    if (rng.chance(2) && copy.length > 0) copy.push(copy[rng.below(copy.length)]);
    else copy.push(randomValue(rng, 2));
    return copy;
  }
  return randomValue(rng);
};

export interface MessageTree {
  readonly framed: Framed;
  readonly root: Map<unknown, unknown>;
}

/** The message's body as a tree of Maps, or undefined when it is not a msgpack map. */
export const parseMessage = (bytes: Uint8Array): MessageTree | undefined => {
  const framed = unframe(bytes);
  if (!framed) return undefined;
  try {
    const root: unknown = unpackr.unpack(framed.body);
    return root instanceof Map ? { framed, root } : undefined;
  } catch {
    return undefined;
  }
};

export const packBody = (root: Map<unknown, unknown>): Buffer => packr.pack(root);

/** One structural change to the body of `bytes`; the caller seals the result. Undefined when the body is not a map. */
export const mutateTree = (bytes: Uint8Array, ctx: PlantContext): MessageTree | undefined => {
  const tree = parseMessage(bytes);
  if (!tree) return undefined;
  const { rng } = ctx;
  const slots: Slot[] = [];
  slotsOf(tree.root, slots);
  const maps: Array<Map<unknown, unknown>> = [tree.root];
  for (const s of slots) {
    const v = s.get();
    if (v instanceof Map) maps.push(v);
  }
  const steps = 1 + rng.below(3);
  for (let i = 0; i < steps; i++) {
    const slot = slots.length > 0 ? rng.pick(slots) : undefined;
    switch (rng.below(7)) {
      case 0:
        slot?.set(randomValue(rng));
        break;
      case 1:
        slot?.remove();
        break;
      case 2: {
        const field = rng.pick(FIELD_NAMES);
        const options = ctx.plausible?.(field) ?? [];
        rng.pick(maps).set(field, options.length > 0 && rng.chance(2) ? rng.pick(options) : randomValue(rng));
        break;
      }
      case 3:
      case 4: {
        // A named field set to a plausible value: steers toward messages the checks accept.
        if (!slot?.field) break;
        const options = ctx.plausible?.(slot.field) ?? [];
        slot.set(options.length > 0 ? rng.pick(options) : mutateValue(slot.get(), rng));
        break;
      }
      default:
        slot?.set(mutateValue(slot.get(), rng));
        break;
    }
  }
  return tree;
};
