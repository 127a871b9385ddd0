/** `drogulus sim`: real nodes on an in-memory network in virtual time, and a report. */
import type { Command } from 'commander';
import { runSimulation } from '../../sim/simulator.js';
import { parseInteger } from '../common.js';

export const registerSim = (program: Command): void => {
  program
    .command('sim')
    .description('run real nodes on an in-memory network and report lookup and storage figures')
    .option('--nodes <n>', 'number of nodes', parseInteger('--nodes', 2, 1_000_000), 200)
    .option('--items <m>', 'number of items to set and get', parseInteger('--items', 0, 1_000_000), 50)
    .option('--seed <s>', 'random seed: the same seed gives the same figures', parseInteger('--seed', 0, 2 ** 32 - 1), 1)
    .option('--latency <ms>', 'one-way virtual latency per packet', parseInteger('--latency', 0, 60_000), 5)
    .option('--json', 'write the report as one JSON object')
    .action(async (opts: { nodes: number; items: number; seed: number; latency: number; json?: boolean }) => {
      if (!opts.json) process.stderr.write(`simulating ${opts.nodes} nodes and ${opts.items} items (seed ${opts.seed})...\n`);
      const report = await runSimulation({ nodes: opts.nodes, items: opts.items, seed: opts.seed, latencyMs: opts.latency });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const width = Math.max(...Object.keys(report).map((k) => k.length));
      for (const [k, v] of Object.entries(report)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
    });
};
