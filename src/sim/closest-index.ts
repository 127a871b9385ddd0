/**
 * The ground truth a lookup is judged against: the ids closest to a target by
 * XOR among a set of ids, found without comparing the target with all of
 * them. The ids are kept sorted, so every subtree of the binary trie they
 * form is a contiguous range; a query walks down the target's side of the
 * trie and takes whole subtrees once they fit, in O(count · log n).
 */
import { compareDistance } from '../routing/distance.js';

const ID_BITS = 512;

const bitOf = (id: Uint8Array, bit: number): number => (id[bit >> 3] >> (7 - (bit & 7))) & 1;

export class ClosestIndex {
  private readonly ids: Buffer[];

  constructor(ids: Iterable<Buffer>) {
    this.ids = [...ids].sort(Buffer.compare);
  }

  get size(): number {
    return this.ids.length;
  }

  /** The `count` ids closest to `target`, closest first, leaving out `exclude` (a node is not its own neighbour). */
  closest(target: Uint8Array, count: number, exclude?: Uint8Array): Buffer[] {
    const want = exclude ? count + 1 : count;
    const out: Buffer[] = [];
    this.collect(0, this.ids.length, 0, target, want, out);
    out.sort((a, b) => compareDistance(a, b, target));
    const kept = exclude ? out.filter((id) => !id.equals(exclude)) : out;
    return kept.slice(0, count);
  }

  private collect(lo: number, hi: number, bit: number, target: Uint8Array, count: number, out: Buffer[]): void {
    if (count <= 0 || lo >= hi) return;
    if (hi - lo <= count || bit >= ID_BITS) {
      // Past the last bit the ids are equal: any `count` of them will do.
      for (let i = lo; i < Math.min(hi, lo + count); i++) out.push(this.ids[i]);
      return;
    }
    // Within [lo, hi) every id shares the first `bit` bits: those with the next bit 0 come first.
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (bitOf(this.ids[mid], bit) === 0) a = mid + 1;
      else b = mid;
    }
    const split = a;
    const [nearLo, nearHi, farLo, farHi] = bitOf(target, bit) === 0 ? [lo, split, split, hi] : [split, hi, lo, split];
    const nearSize = nearHi - nearLo;
    if (nearSize >= count) {
      this.collect(nearLo, nearHi, bit + 1, target, count, out);
      return;
    }
    for (let i = nearLo; i < nearHi; i++) out.push(this.ids[i]);
    this.collect(farLo, farHi, bit + 1, target, count - nearSize, out);
  }
}
