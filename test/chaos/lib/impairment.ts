/**
 * A user-space network impairment: these kernels have no `netem` qdisc, so
 * delay, jitter and loss are drawn here, per datagram, from a seeded random
 * source. Datagrams are dropped with probability lossRate or held for
 * delayMs ± jitterMs (uniform), so they may arrive out of order, as on a real
 * path; a stream (TCP) loses nothing and keeps its order, so each write is
 * held until no earlier than the write before it. Pure: no sockets, no timers
 * (impair-preload.ts applies it to a node's sockets).
 */
import { type Random, SeededRandom } from '../../../src/runtime/random.js';

export interface Impairment {
  /** Probability in [0, 1) that a datagram is lost. */
  readonly lossRate: number;
  /** Mean one-way delay added to every datagram and stream write. */
  readonly delayMs: number;
  /** Half-width of the uniform spread around delayMs; at most delayMs. */
  readonly jitterMs: number;
  /** Seed of the random source, so that a run can be replayed per process. */
  readonly seed: number;
}

export interface ImpairmentStats {
  datagrams: number;
  datagramsDropped: number;
  /** Sum of the delays given to datagrams that were sent. */
  datagramDelayMs: number;
  streamWrites: number;
  streamDelayMs: number;
}

const KEYS = { loss: 'lossRate', delay: 'delayMs', jitter: 'jitterMs', seed: 'seed' } as const;

/** `loss=0.03,delay=20,jitter=15,seed=7` → an Impairment; throws RangeError on anything else. */
export const parseImpairment = (text: string): Impairment => {
  const fields: Record<string, number> = { lossRate: 0, delayMs: 0, jitterMs: 0, seed: 1 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, raw] = part.split('=');
    const key = KEYS[name as keyof typeof KEYS];
    const value = Number(raw);
    if (!key || raw === undefined || raw.trim() === '' || !Number.isFinite(value)) throw new RangeError(`impairment: cannot read "${part}" (expected loss=P,delay=MS,jitter=MS,seed=N)`);
    fields[key] = value;
  }
  const impairment: Impairment = { lossRate: fields.lossRate, delayMs: fields.delayMs, jitterMs: fields.jitterMs, seed: fields.seed };
  if (impairment.lossRate < 0 || impairment.lossRate >= 1) throw new RangeError(`impairment: loss must be in [0, 1), got ${impairment.lossRate}`);
  if (impairment.delayMs < 0 || impairment.jitterMs < 0 || impairment.jitterMs > impairment.delayMs) throw new RangeError('impairment: need 0 ≤ jitter ≤ delay');
  if (!Number.isInteger(impairment.seed)) throw new RangeError(`impairment: seed must be an integer, got ${impairment.seed}`);
  return impairment;
};

export const formatImpairment = (i: Impairment): string => `loss=${i.lossRate},delay=${i.delayMs},jitter=${i.jitterMs},seed=${i.seed}`;

export class ImpairmentSchedule {
  readonly stats: ImpairmentStats = { datagrams: 0, datagramsDropped: 0, datagramDelayMs: 0, streamWrites: 0, streamDelayMs: 0 };
  private readonly random: Random;

  constructor(readonly impairment: Impairment, random?: Random) {
    this.random = random ?? new SeededRandom(impairment.seed);
  }

  /** The fate of one datagram: undefined when it is lost, else how long to hold it. */
  datagram(): number | undefined {
    this.stats.datagrams++;
    if (this.random.float() < this.impairment.lossRate) {
      this.stats.datagramsDropped++;
      return undefined;
    }
    const delay = this.delay();
    this.stats.datagramDelayMs += delay;
    return delay;
  }

  /** When a stream write made at nowMs may go: after its own delay, and never before the previous write on the same stream. */
  streamRelease(previousReleaseMs: number, nowMs: number): number {
    const release = Math.max(nowMs + this.delay(), previousReleaseMs);
    this.stats.streamWrites++;
    this.stats.streamDelayMs += release - nowMs;
    return release;
  }

  private delay(): number {
    const { delayMs, jitterMs } = this.impairment;
    return Math.round(delayMs - jitterMs + this.random.float() * 2 * jitterMs);
  }
}
