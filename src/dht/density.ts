/**
 * Id density checks against Sybils ground next to a key (docs/security.md,
 * "Density of ids near a key").
 *
 * Honest ids are SHA-512 hashes, so they fall uniformly over the id space,
 * and the number of N nodes within XOR distance d of any point is about
 * N·d/2^512 (XOR with the point is a bijection of the space). A node
 * estimates N from the distances of the contacts closest to its own id, the
 * part of the space its table knows completely (the least-squares fit of
 * d_i = i/N, as libp2p's network size estimator does). For a key, the i-th
 * closest id is then expected at about i·2^512/N; when, for some m at or
 * above `minCluster`, the m-th closest is nearer than m·2^512/(N·factor),
 * the m closest form an anomalous cluster: more ids there than N random ids
 * put there, by the factor. Cholez, Chrisment and Festor (2010) detect the
 * same thing in KAD by the KL divergence of the prefix lengths of the 20
 * closest; the rank test here needs no prefix histogram and tells how many
 * of the closest are suspect.
 *
 * The cluster is never excluded: a lookup asks it and a replicate stores on
 * it as well, and then goes on to the K closest ids beyond it. A false
 * positive only widens the sets.
 *
 * Pure arithmetic on ids; no state.
 */
import { ID_BYTES } from '../routing/distance.js';

/** XOR distance of `a` and `b` as a fraction of the id space, in [0, 1): its leading 41 to 48 significant bits, down to 2^-512. */
export const distanceFraction = (a: Uint8Array, b: Uint8Array): number => {
  let first = 0;
  while (first < ID_BYTES && (a[first] ^ b[first]) === 0) first++;
  if (first === ID_BYTES) return 0;
  let mantissa = 0;
  // Six bytes stay exact in a double, so the fraction never rounds up to 1.
  const last = Math.min(ID_BYTES, first + 6);
  for (let i = first; i < last; i++) mantissa = mantissa * 256 + (a[i] ^ b[i]);
  return mantissa * 2 ** (-8 * last);
};

/**
 * The network size a node estimates from the ids closest to its own (at
 * least `minContacts` of them, else undefined: a table that small says
 * nothing reliable): N̂ = Σ i² / Σ i·d_i, the least-squares fit of d_i = i/N
 * for the i-th closest at distance d_i (fraction of the space).
 */
export const estimateNetworkSize = (ownId: Uint8Array, ids: readonly Uint8Array[], minContacts: number): number | undefined => {
  if (ids.length < Math.max(1, minContacts)) return undefined;
  const distances = ids.map((id) => distanceFraction(id, ownId)).sort((x, y) => x - y);
  let squares = 0;
  let weighted = 0;
  distances.forEach((d, index) => {
    const i = index + 1;
    squares += i * i;
    weighted += i * d;
  });
  if (weighted <= 0) return undefined;
  // At least the contacts we hold (and ourselves).
  return Math.max(ids.length + 1, squares / weighted);
};

export interface DensityCheck {
  /** The estimated network size N̂. */
  readonly networkSize: number;
  /** How much denser than N̂ random ids the closest must be to count as a cluster. */
  readonly factor: number;
  /** The fewest ids that can form a cluster: one or two close ids are common by chance. */
  readonly minCluster: number;
  /** The most ids counted as a cluster (and so asked beyond the K closest). */
  readonly maxCluster: number;
}

/**
 * How many of `distances` (fractions of the space from a key to the ids
 * closest to it, nearest first) form an anomalous cluster: the largest m in
 * [minCluster, maxCluster] whose m-th distance is below m/(N̂·factor), or 0.
 */
export const clusterSize = (distances: readonly number[], check: DensityCheck): number => {
  const { networkSize, factor, minCluster } = check;
  if (!(networkSize > 0) || !(factor > 0)) return 0;
  const limit = Math.min(distances.length, check.maxCluster);
  const scale = networkSize * factor;
  for (let m = limit; m >= Math.max(1, minCluster); m--) {
    if (distances[m - 1] * scale < m) return m;
  }
  return 0;
};
