/**
 * The user-space impairment of the chaos test: what it reads, and that its
 * draws have the loss rate, the delay range and the stream order it claims,
 * reproducibly from a seed.
 */
import { describe, expect, it } from 'vitest';
import { formatImpairment, ImpairmentSchedule, parseImpairment } from './lib/impairment.js';

describe('the chaos impairment', () => {
  it('reads loss, delay, jitter and seed, and writes them back the same', () => {
    const impairment = parseImpairment('loss=0.03,delay=20,jitter=15,seed=7');
    expect(impairment).toEqual({ lossRate: 0.03, delayMs: 20, jitterMs: 15, seed: 7 });
    expect(parseImpairment(formatImpairment(impairment))).toEqual(impairment);
    expect(parseImpairment('delay=5')).toEqual({ lossRate: 0, delayMs: 5, jitterMs: 0, seed: 1 });
  });

  it('refuses what it cannot honour rather than guessing', () => {
    for (const bad of ['loss=1', 'loss=-0.1', 'delay=10,jitter=11', 'delay=-1', 'seed=1.5', 'latency=10', 'loss=', 'loss=abc']) {
      expect(() => parseImpairment(bad), bad).toThrow(RangeError);
    }
  });

  it('drops about lossRate of datagrams and holds the rest within delay ± jitter', () => {
    const schedule = new ImpairmentSchedule(parseImpairment('loss=0.05,delay=20,jitter=15,seed=3'));
    const delays: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const delay = schedule.datagram();
      if (delay !== undefined) delays.push(delay);
    }
    const lossRate = schedule.stats.datagramsDropped / schedule.stats.datagrams;
    expect(lossRate).toBeGreaterThan(0.04);
    expect(lossRate).toBeLessThan(0.06);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...delays)).toBeLessThanOrEqual(35);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(19);
    expect(mean).toBeLessThan(21);
    expect(schedule.stats.datagramDelayMs).toBe(delays.reduce((a, b) => a + b, 0));
  });

  it('never releases a stream write before the one written ahead of it', () => {
    const schedule = new ImpairmentSchedule(parseImpairment('delay=20,jitter=20,seed=9'));
    let previous = 0;
    for (let now = 0; now < 1_000; now += 3) {
      const release = schedule.streamRelease(previous, now);
      expect(release).toBeGreaterThanOrEqual(previous);
      expect(release).toBeGreaterThanOrEqual(now);
      previous = release;
    }
  });

  it('makes the same draws from the same seed', () => {
    const draws = (seed: number): Array<number | undefined> => {
      const schedule = new ImpairmentSchedule(parseImpairment(`loss=0.2,delay=30,jitter=10,seed=${seed}`));
      return Array.from({ length: 200 }, () => schedule.datagram());
    };
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
  });
});
