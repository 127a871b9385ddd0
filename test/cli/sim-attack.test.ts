/**
 * `drogulus sim --attack KIND --malicious FRACTION --disjoint D`: the attack
 * simulation from the command line, run as the real command on a small
 * network, its report as JSON or a table, and clear usage errors (exit 2).
 */
import { describe, expect, it } from 'vitest';
import type { AttackReport } from '../../src/sim/attack-simulation.js';
import { runCli } from '../integration/cli-process.js';

describe('drogulus sim --attack', () => {
  it('runs the attack simulation and writes its report as JSON', async () => {
    const result = await runCli(['sim', '--nodes', '40', '--items', '4', '--seed', '3', '--attack', 'forge', '--malicious', '0.2', '--disjoint', '2', '--json'], { timeoutMs: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as AttackReport;
    expect(report).toMatchObject({ attack: 'forge', nodes: 40, items: 4, seed: 3, malicious: 0.2, malicious_nodes: 8 });
    expect(report.gets).toMatchObject({ disjoint: 2, quorum: 1, gets: 8, forged_returned: 0 });
    expect(report.baseline).toMatchObject({ disjoint: 1, quorum: 1, gets: 8, forged_returned: 0 });
    expect(report.gets.true_value + report.gets.stale_returned + report.gets.not_found).toBe(8);
  }, 120_000);

  it('prints a readable table otherwise', async () => {
    const result = await runCli(['sim', '--nodes', '40', '--items', '3', '--attack', 'collude', '--malicious', '0.1'], { timeoutMs: 120_000 });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('attack simulation: collude on 40 nodes');
    expect(result.stdout).toContain('attack collude: 40 nodes, 3 items, seed 1, 10% malicious (4 nodes)');
    expect(result.stdout).toMatch(/^run\s+d\s+quorum\s+gets\s+true value\s+forged\s+stale\s+not found\s+success\s+requests\/get$/m);
    expect(result.stdout).toMatch(/^with the options\s+1\s+1\s+6\s+\d+\s+0\s/m);
    expect(result.stdout).toMatch(/^collusive_replies\s+\d+$/m);
  }, 120_000);

  it.each([
    [['--attack', 'drop', '--malicious', '1'], /--malicious must be a fraction in \[0, 1\)/],
    [['--attack', 'drop', '--malicious', '-0.1'], /--malicious must be a fraction in \[0, 1\)/],
    [['--attack', 'drop', '--malicious', 'lots'], /--malicious must be a fraction in \[0, 1\)/],
    [['--attack', 'eclipse', '--malicious', '0.1'], /argument 'eclipse' is invalid\. Allowed choices are none, drop, collude, forge, stale, flood, replay, sybil/],
    [['--attack', 'drop', '--malicious', '0.1', '--disjoint', '0'], /--disjoint must be an integer from 1 to 64/],
    [['--attack', 'drop', '--malicious', '0.1', '--disjoint', '1.5'], /--disjoint must be an integer from 1 to 64/],
    [['--malicious', '0.1'], /need --attack KIND/],
    [['--attack', 'collude'], /--attack collude needs --malicious FRACTION/],
  ])('refuses %j with a usage error', async (args, message) => {
    const result = await runCli(['sim', '--nodes', '10', '--items', '1', ...args], { timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  }, 60_000);
});
