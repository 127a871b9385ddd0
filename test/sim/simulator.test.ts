/**
 * The simulator is deterministic: the same seed gives the same figures (wall
 * time aside), and a healthy small network stores and finds everything.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/simulator.js';

const withoutWallTime = ({ wall_seconds: _wall, ...rest }: Awaited<ReturnType<typeof runSimulation>>) => rest;

describe('the simulator', () => {
  it('gives the same figures for the same seed', async () => {
    const a = await runSimulation({ nodes: 80, items: 15, seed: 42 });
    const b = await runSimulation({ nodes: 80, items: 15, seed: 42 });
    expect(withoutWallTime(a)).toEqual(withoutWallTime(b));
  });

  it('gives different networks for different seeds', async () => {
    const a = await runSimulation({ nodes: 80, items: 15, seed: 1 });
    const b = await runSimulation({ nodes: 80, items: 15, seed: 2 });
    expect(withoutWallTime(a)).not.toEqual(withoutWallTime(b));
  });

  it('stores every item on K nodes and finds every item from another node', async () => {
    const report = await runSimulation({ nodes: 150, items: 30, seed: 7 });
    expect(report.put_success).toBe(1);
    expect(report.get_success).toBe(1);
    expect(report.replicas_per_put).toBe(20);
    expect(report.lookup_rounds_p50).toBeGreaterThanOrEqual(1);
    expect(report.messages_per_lookup).toBeGreaterThan(0);
    // Early Stores: the replicas are still the true K closest, and a copy beyond them is rare.
    expect(report.put_replicas_true_closest_mean).toBeGreaterThanOrEqual(19.5);
    expect(report.put_replicas_true_closest_fraction).toBeGreaterThanOrEqual(0.9);
    expect(report.extra_stores_per_put).toBeLessThan(1);
  });
});
