/**
 * Item survival over a churn run: hourly censuses of live copies, summarised
 * per check and per item; and the churn report's probe figures on a small
 * network.
 */
import { describe, expect, it } from 'vitest';
import { summarizeCensuses } from '../../src/sim/measure.js';
import { runSimulation } from '../../src/sim/simulator.js';

describe('the survival census', () => {
  it('counts a check as survived when the item has a live copy, and an item as lost once it had none', () => {
    const summary = summarizeCensuses([
      [3, 1, 2],
      [2, 0, 2],
      [4, 0, 1],
    ]);
    expect(summary.probes).toBe(9);
    expect(summary.survived).toBe(0.7778);
    expect(summary.items_lost).toBe(1);
    expect(summary.min_live_copies).toBe(0);
    expect(summary.live_copies_mean).toBe(1.67);
  });

  it('reports everything survived when every check found a copy', () => {
    const summary = summarizeCensuses([[20, 19], [18, 21]]);
    expect(summary).toEqual({ probes: 4, survived: 1, items_lost: 0, min_live_copies: 18, live_copies_mean: 19.5 });
  });

  it('gives a vacuous census for no checks', () => {
    expect(summarizeCensuses([])).toEqual({ probes: 0, survived: 1, items_lost: 0, min_live_copies: 0, live_copies_mean: 0 });
  });

  it('takes a census every hour of churn and at its end, and counts the spread and final gets as item probes (60 nodes, 2 h, seed 5)', async () => {
    const report = await runSimulation({ nodes: 60, items: 8, seed: 5, churn: 'weibull', hours: 2, probes: 30 });
    const churn = report.churn!;
    // Censuses at 1 h and at the end: 2 × 8 checks.
    expect(churn.census.probes).toBe(2 * 8);
    expect(churn.item_probes).toBe(churn.probes + 8);
    expect(churn.item_probe_survival).toBeGreaterThanOrEqual(0);
    expect(churn.item_probe_survival).toBeLessThanOrEqual(1);
    expect(churn.census.live_copies_mean).toBeGreaterThan(0);
    if (churn.census.items_lost === 0) expect(churn.census.survived).toBe(1);
    else expect(churn.census.survived).toBeLessThan(1);
  });
});
