/**
 * Churn: nodes leave abruptly after Weibull sessions and fresh nodes take
 * their places, so the population holds its size; and a small network under
 * 30-minute sessions, with maintenance running, keeps finding its items.
 */
import { describe, expect, it } from 'vitest';
import type { Address } from '../../src/routing/contact.js';
import { MINUTE_MS } from '../../src/runtime/clock.js';
import { Churn, CHURN_PRESETS } from '../../src/sim/churn.js';
import { Population } from '../../src/sim/population.js';
import { runSimulation } from '../../src/sim/simulator.js';

const key = (a: Address): string => `${a.host}:${a.port}`;

describe('churn', () => {
  it('replaces nodes that leave after short sessions, and they leave without a word (stress sessions, seed 5)', async () => {
    const population = new Population({ seed: 5 });
    await population.grow(50, { windowMs: MINUTE_MS });
    const departedAt = new Map<string, number>();
    const departed: Array<{ address: Address; isRunning: () => boolean }> = [];
    const sentAfterLeaving: string[] = [];
    population.net.network.tap((packet) => {
      const at = departedAt.get(key(packet.from));
      if (at !== undefined && population.clock.now() >= at) sentAfterLeaving.push(key(packet.from));
    });
    const churn = new Churn(population, {
      sessions: CHURN_PRESETS.stress,
      seed: 6,
      onEvent: ({ type, node }) => {
        if (type !== 'departed') return;
        departedAt.set(key(node.address), population.clock.now());
        departed.push({ address: node.address, isRunning: () => node.isRunning });
        expect(population.isLive(node)).toBe(false);
      },
    });
    churn.start();
    const sizes: number[] = [];
    for (let minute = 0; minute < 12; minute++) {
      await population.clock.advance(MINUTE_MS);
      sizes.push(population.size);
    }
    churn.stop();
    await population.net.run(churn.settled);

    expect(churn.counters.departures).toBeGreaterThan(30);
    // Replacements are live once joined; under stress churn a join meets dead contacts and takes seconds.
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    expect(churn.counters.arrivals).toBe(churn.counters.departures);
    expect(population.size).toBe(50);
    expect(sentAfterLeaving).toEqual([]);
    for (const d of departed) {
      expect(d.isRunning()).toBe(false);
      expect(population.net.network.isAttached(d.address)).toBe(false);
    }
    await population.stop();
  });

  it('keeps finding items over two hours of 30-minute sessions, and none is lost (100 nodes, seed 7)', async () => {
    const report = await runSimulation({ nodes: 100, items: 20, seed: 7, churn: 'weibull', hours: 2, probes: 40 });
    const churn = report.churn!;
    expect(churn.session_median_minutes).toBe(30);
    expect(churn.departures).toBeGreaterThan(40);
    expect(churn.get_success).toBeGreaterThanOrEqual(0.95);
    expect(churn.survival).toBe(1);
    expect(churn.items_with_live_copy).toBe(1);
  });
});
