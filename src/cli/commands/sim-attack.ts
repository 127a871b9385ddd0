/**
 * `drogulus sim --attack KIND [--malicious FRACTION] [--disjoint D]`: the
 * attack simulation of src/sim/attack-simulation.ts (docs/security.md,
 * "Attack simulation") from the command line, its report as JSON (--json,
 * or report.json with --out) or as a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { type AttackName, type AttackReport, ATTACKS, type GetTally, runAttackSimulation } from '../../sim/attack-simulation.js';
import { useHeapKeyMemory } from '../../sim/key-memory.js';
import { usageError } from '../exit-codes.js';

export interface AttackOptions {
  readonly nodes: number;
  readonly items: number;
  readonly seed: number;
  readonly latency: number;
  readonly attack?: AttackName;
  readonly malicious?: number;
  readonly disjoint?: number;
  readonly sybilNetworks?: number;
  readonly out?: string;
  readonly json?: boolean;
}

/** True when the options ask for the attack simulation rather than the churn one. */
export const wantsAttack = (opts: Pick<AttackOptions, 'attack' | 'malicious' | 'disjoint' | 'sybilNetworks'>): boolean =>
  opts.attack !== undefined || opts.malicious !== undefined || opts.disjoint !== undefined || opts.sybilNetworks !== undefined;

export const parseMalicious = (text: string): number => {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x < 0 || x >= 1) throw new InvalidArgumentError(`--malicious must be a fraction in [0, 1), such as 0.2, got ${text}`);
  return x;
};

export const parseDisjoint = (text: string): number => {
  const d = Number(text);
  if (text.trim() === '' || !Number.isInteger(d) || d < 1 || d > 64) throw new InvalidArgumentError(`--disjoint must be an integer from 1 to 64 (disjoint paths per get), got ${text}`);
  return d;
};

const percent = (x: number): string => `${Number((x * 100).toPrecision(4))}%`;

const tallyRow = (name: string, t: GetTally): string[] => [
  name,
  String(t.disjoint),
  String(t.quorum),
  String(t.gets),
  String(t.true_value),
  String(t.forged_returned),
  String(t.stale_returned),
  String(t.not_found),
  percent(t.success),
  String(t.requests_mean),
];

const table = (rows: string[][]): string => {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
};

/** The report as text: what ran, the gets, the curve, the details. */
export const formatAttackReport = (report: AttackReport): string => {
  const lines: string[] = [];
  const who = report.attack === 'sybil' ? `${report.malicious_nodes} Sybils` : `${percent(report.malicious)} malicious (${report.malicious_nodes} nodes)`;
  lines.push(`attack ${report.attack}: ${report.nodes} nodes, ${report.items} items, seed ${report.seed}, ${who}`);
  lines.push('');
  const rows = [['run', 'd', 'quorum', 'gets', 'true value', 'forged', 'stale', 'not found', 'success', 'requests/get'], tallyRow('with the options', report.gets)];
  if (report.baseline) rows.push(tallyRow('baseline', report.baseline));
  lines.push(table(rows));
  if (report.curve?.length) {
    lines.push('');
    lines.push(table([['malicious', 'd = 1', `d = ${report.curve[0].d}`], ...report.curve.map((p) => [percent(p.malicious), percent(p.success_d1), percent(p.success_d)])]));
  }
  lines.push('');
  const width = Math.max(...Object.keys(report.details).map((k) => k.length));
  for (const [k, v] of Object.entries(report.details)) lines.push(`${k.padEnd(width)}  ${String(v)}`);
  lines.push(`${'build_virtual_seconds'.padEnd(width)}  ${report.build_virtual_seconds}`);
  lines.push(`${'wall_seconds'.padEnd(width)}  ${report.wall_seconds}`);
  return `${lines.join('\n')}\n`;
};

export const runAttackCommand = async (opts: AttackOptions): Promise<void> => {
  if (opts.attack === undefined) throw usageError(`--malicious, --disjoint and --sybil-networks need --attack KIND (one of ${ATTACKS.join(', ')})`);
  if (opts.attack !== 'sybil' && opts.attack !== 'none' && opts.malicious === undefined) throw usageError(`--attack ${opts.attack} needs --malicious FRACTION`);
  if (opts.sybilNetworks !== undefined && opts.attack !== 'sybil') throw usageError('--sybil-networks applies only to --attack sybil');
  // Thousands of identities in one process: see key-memory.ts.
  useHeapKeyMemory();
  if (!opts.json) process.stderr.write(`attack simulation: ${opts.attack} on ${opts.nodes} nodes, ${opts.items} items (seed ${opts.seed})...\n`);
  const report = await runAttackSimulation({
    nodes: opts.nodes,
    items: opts.items,
    seed: opts.seed,
    malicious: opts.malicious ?? 0,
    attack: opts.attack,
    disjoint: opts.disjoint,
    latencyMs: opts.latency,
    ...(opts.sybilNetworks !== undefined ? { sybilNetworks: opts.sybilNetworks } : {}),
  });
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (!opts.json) process.stderr.write(`wrote ${opts.out}/report.json\n`);
  }
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatAttackReport(report));
};
