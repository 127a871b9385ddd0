/**
 * The simulator's new figures on small networks: lookups judged against the
 * brute-force closest nodes, routing tables against the true neighbourhoods,
 * and the WAN model's virtual latencies, all reproducible from the seed.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/simulator.js';

describe('the simulator with probes and the WAN model', () => {
  it('finds the true 20 closest nodes in a healthy network, whose tables know their neighbours (80 nodes, seed 9)', async () => {
    const report = await runSimulation({ nodes: 80, items: 5, seed: 9, probes: 20 });
    expect(report.true_closest_fraction).toBe(1);
    expect(report.true_closest_overlap_mean).toBe(20);
    expect(report.nodes_knowing_18_of_20).toBeGreaterThanOrEqual(0.95);
    expect(report.lookup_rounds_p99).toBeGreaterThanOrEqual(report.lookup_rounds_p50);
    expect(report.churn).toBeNull();
    expect(report.rtt_ms).toBeNull();
  });

  it('measures virtual latency over a wide-area network with loss, the same way for the same seed (60 nodes, seed 10)', async () => {
    const params = { nodes: 60, items: 10, seed: 10, latencyModel: 'wan', lossRate: 0.01 } as const;
    const { wall_seconds: _a, ...report } = await runSimulation(params);
    const { wall_seconds: _b, ...again } = await runSimulation(params);
    expect(again).toEqual(report);
    expect(report.rtt_ms!.p50).toBeGreaterThan(60);
    expect(report.rtt_ms!.p99).toBeGreaterThan(report.rtt_ms!.p50);
    expect(report.lookup_latency_ms_p50).toBeGreaterThan(30);
    expect(report.publish_latency_ms_p50).toBeGreaterThan(report.lookup_latency_ms_p50);
    expect(report.get_success).toBeGreaterThanOrEqual(0.9);
  });
});
