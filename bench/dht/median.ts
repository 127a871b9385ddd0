/**
 * Combines repeated runs of the same system at the same size: every numeric
 * figure becomes the median of that figure over the repeats, except that a
 * success rate is the lowest and a count of refused sends the highest, so a
 * failure in one repeat is never hidden; anything else (names, error lists,
 * profiles) is taken from the first run.
 */

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

const REDUCERS: Readonly<Record<string, (xs: number[]) => number>> = {
  successRate: (xs) => Math.min(...xs),
  blockedSends: (xs) => Math.max(...xs),
};

const combine = (values: unknown[], key = ''): unknown => {
  const first = values[0];
  if (typeof first === 'number') {
    const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    return finite.length > 0 ? (REDUCERS[key] ?? median)(finite) : first;
  }
  if (isRecord(first)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(first)) out[k] = combine(values.map((v) => (isRecord(v) ? v[k] : undefined)), k);
    return out;
  }
  return first;
};

export const medianOf = <T>(runs: readonly T[]): T => {
  if (runs.length === 0) throw new RangeError('medianOf: no runs');
  return combine([...runs]) as T;
};
