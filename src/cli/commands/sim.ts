/** `drogulus sim`: real nodes on an in-memory network in virtual time, and a report (JSON and SVG charts with --out). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { cdfChart, lineChart } from '../../sim/charts.js';
import { useHeapKeyMemory } from '../../sim/key-memory.js';
import { provenance, stampSvg } from '../../sim/provenance.js';
import { type ChurnName, DEFAULT_BUILD_MINUTES, type LatencyModelName, simulate, type SimulationParams, type SimulationReport } from '../../sim/simulator.js';
import { parseInteger } from '../common.js';
import { parseDisjoint, parseMalicious, runAttackCommand, wantsAttack } from './sim-attack.js';
import { type AttackName, ATTACKS } from '../../sim/attack-simulation.js';

interface SimOptions {
  nodes: number;
  items: number;
  seed: number;
  latency: number;
  latencyModel: LatencyModelName;
  loss: number;
  churn: ChurnName;
  sessionMedian?: number;
  shape?: number;
  hours: number;
  probes: number;
  buildMinutes: number;
  sweep?: number[];
  out?: string;
  json?: boolean;
  // The attack simulation (sim-attack.ts):
  attack?: AttackName;
  malicious?: number;
  disjoint?: number;
  sybilNetworks?: number;
}

const parseFraction = (name: string, max: number) => (text: string): number => {
  const x = Number(text);
  if (!Number.isFinite(x) || x < 0 || x > max) throw new InvalidArgumentError(`${name} must be a number from 0 to ${max}`);
  return x;
};

const parsePositive = (name: string) => (text: string): number => {
  const x = Number(text);
  if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return x;
};

const parseList = (name: string) => (text: string): number[] => text.split(',').map((part) => parsePositive(name)(part.trim()));

export const registerSim = (program: Command): void => {
  program
    .command('sim')
    .description('run real nodes on an in-memory network in virtual time and report lookup, storage and churn figures')
    .option('--nodes <n>', 'number of nodes', parseInteger('--nodes', 2, 1_000_000), 200)
    .option('--items <m>', 'number of items to set and get', parseInteger('--items', 0, 1_000_000), 50)
    .option('--seed <s>', 'random seed: the same seed gives the same figures', parseInteger('--seed', 0, 2 ** 32 - 1), 1)
    .option('--latency <ms>', 'one-way virtual latency per packet (fixed model)', parseInteger('--latency', 0, 60_000), 5)
    .addOption(new Option('--latency-model <model>', 'fixed: --latency per packet; wan: sites on the globe, log-normal access links (median RTT ~100 ms)').choices(['fixed', 'wan']).default('fixed'))
    .option('--loss <fraction>', 'fraction of packets lost', parseFraction('--loss', 0.99), 0)
    .addOption(new Option('--churn <model>', 'none; weibull: sessions of median 30 min, shape 0.5; stress: median 1.4 min').choices(['none', 'weibull', 'stress']).default('none'))
    .option('--session-median <minutes>', 'median session under churn (overrides the preset)', parsePositive('--session-median'))
    .option('--shape <k>', 'Weibull shape of sessions (default 0.5)', parsePositive('--shape'))
    .option('--hours <h>', 'simulated hours of churn', parsePositive('--hours'), 2)
    .option('--probes <n>', 'FindNode lookups checked against the true closest; gets spread over a churn run', parseInteger('--probes', 0, 1_000_000), 100)
    .option('--build-minutes <m>', 'virtual minutes over which the nodes arrive and join; 0 joins them one after another', parseFraction('--build-minutes', 10_000), DEFAULT_BUILD_MINUTES)
    .option('--sweep <minutes,...>', 'also run churn at each of these session medians (same nodes, items, hours) and chart get success against churn', parseList('--sweep'))
    .option('--out <dir>', 'write report.json and SVG charts to this directory')
    .option('--json', 'write the report as one JSON object')
    .addOption(new Option('--attack <kind>', 'run the attack simulation instead (docs/security.md): what the malicious nodes do').choices([...ATTACKS]))
    .option('--malicious <fraction>', 'attack simulation: fraction of the nodes that turn malicious, in [0, 1)', parseMalicious)
    .option('--disjoint <d>', 'attack simulation: disjoint paths per get (1 = plain Kademlia; the report adds a d = 1 baseline)', parseDisjoint)
    .option('--sybil-networks <n>', 'attack simulation, sybil: how many /24 networks the 20 Sybils per key come from', parseInteger('--sybil-networks', 1, 250))
    .action(async (opts: SimOptions) => {
      if (wantsAttack(opts)) return runAttackCommand(opts);
      // Thousands of identities in one process: see key-memory.ts.
      useHeapKeyMemory();
      const params: SimulationParams = {
        nodes: opts.nodes,
        items: opts.items,
        seed: opts.seed,
        latencyModel: opts.latencyModel,
        latencyMs: opts.latency,
        lossRate: opts.loss,
        churn: opts.churn,
        sessionMedianMinutes: opts.sessionMedian,
        shape: opts.shape,
        hours: opts.hours,
        probes: opts.probes,
        buildMinutes: opts.buildMinutes,
        measureResources: true,
      };
      // Before the run: the worktree may change while it goes.
      const origin = provenance({ sourceRoot: resolve(dirname(fileURLToPath(import.meta.url)), '../..'), argv: process.argv.slice(2), params: { ...params, sweep: opts.sweep }, seed: opts.seed });
      const say = (text: string): void => {
        if (!opts.json) process.stderr.write(`${text}\n`);
      };
      say(`simulating ${opts.nodes} nodes and ${opts.items} items (seed ${opts.seed}, ${opts.latencyModel} latency, churn ${opts.churn})...`);
      const { report, samples } = await simulate({ ...params, onProgress: (text) => process.stderr.write(`${text}\n`) });
      const sweep: Array<{ median: number; report: SimulationReport }> = [];
      for (const median of opts.sweep ?? []) {
        say(`sweep: churn with ${median}-minute sessions...`);
        const churn = opts.churn === 'none' ? 'weibull' : opts.churn;
        sweep.push({ median, report: (await simulate({ ...params, churn, sessionMedianMinutes: median })).report });
      }
      const output = { ...report, ...(sweep.length ? { sweep: sweep.map((s) => s.report.churn!) } : {}), source: origin.source, provenance: origin };

      if (opts.out) {
        mkdirSync(opts.out, { recursive: true });
        writeFileSync(join(opts.out, 'report.json'), `${JSON.stringify(output, null, 2)}\n`);
        const series = [{ name: 'get, no churn', samples: samples.lookupLatencyMs }];
        if (samples.churnLookupLatencyMs.length) series.push({ name: 'get, under churn', samples: samples.churnLookupLatencyMs });
        if (samples.publishLatencyMs.length) series.push({ name: 'set (publish)', samples: samples.publishLatencyMs });
        const title = `Lookup latency, ${opts.nodes} nodes, ${opts.latencyModel} latency${opts.loss ? `, ${Number((opts.loss * 100).toPrecision(3))}% loss` : ''}`;
        writeFileSync(join(opts.out, 'lookup-latency-cdf.svg'), stampSvg(cdfChart({ title, xLabel: 'virtual milliseconds (log scale)', series, logX: true }), origin));
        if (sweep.length) {
          // The main run is a point of the sweep too when it has churn.
          const runs = report.churn ? [...sweep, { median: report.churn.session_median_minutes, report }] : sweep;
          runs.sort((a, b) => a.median - b.median);
          const points = (pick: (r: SimulationReport) => number): Array<[number, number]> => runs.map((s) => [s.median, pick(s.report)]);
          writeFileSync(
            join(opts.out, 'get-success-vs-churn.svg'),
            stampSvg(lineChart({
              title: `Get success against churn, ${opts.nodes} nodes, ${opts.hours} h, ${opts.latencyModel} latency`,
              xLabel: 'median session, minutes (log scale; shorter = more churn)',
              yLabel: 'fraction',
              logX: true,
              yMin: 0,
              yMax: 1,
              series: [
                { name: 'get success', points: points((r) => r.churn!.get_success) },
                { name: 'survival at end', points: points((r) => r.churn!.survival) },
                { name: 'true 20 closest found', points: points((r) => r.churn!.true_closest_fraction ?? 0) },
              ],
            }), origin),
          );
        }
        say(`wrote ${opts.out}/report.json and charts`);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(output)}\n`);
        return;
      }
      const width = Math.max(...Object.keys(output).map((k) => k.length));
      for (const [k, v] of Object.entries(output)) process.stdout.write(`${k.padEnd(width)}  ${typeof v === 'object' && v !== null ? JSON.stringify(v) : v}\n`);
    });
};
