#!/usr/bin/env node
/**
 * The drogulus command. Until the networked node lands, it offers the
 * simulator: `drogulus sim --nodes N --items M --seed S [--json]`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { runSimulation } from '../sim/simulator.js';

const positiveInt = (name: string) => (text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

const program = new Command()
  .name('drogulus')
  .description('An openly writable, decentralised key/value store on a Kademlia DHT')
  .version('0.1.0')
  .exitOverride();

program
  .command('sim')
  .description('run real nodes on an in-memory network and report lookup and storage figures')
  .option('--nodes <n>', 'number of nodes', positiveInt('--nodes'), 200)
  .option('--items <m>', 'number of items to set and get', positiveInt('--items'), 50)
  .option('--seed <s>', 'random seed: the same seed gives the same figures', positiveInt('--seed'), 1)
  .option('--latency <ms>', 'one-way virtual latency per packet', positiveInt('--latency'), 5)
  .option('--json', 'write the report as one JSON object')
  .action(async (opts: { nodes: number; items: number; seed: number; latency: number; json?: boolean }) => {
    if (opts.nodes < 2) throw new InvalidArgumentError('--nodes must be at least 2');
    if (!opts.json) process.stderr.write(`simulating ${opts.nodes} nodes and ${opts.items} items (seed ${opts.seed})...\n`);
    const report = await runSimulation({ nodes: opts.nodes, items: opts.items, seed: opts.seed, latencyMs: opts.latency });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const width = Math.max(...Object.keys(report).map((k) => k.length));
    for (const [k, v] of Object.entries(report)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { exitCode?: number }).exitCode;
  if (code === 0) process.exit(0);
  if ((error as { code?: string }).code?.startsWith('commander.')) process.exit(2);
  process.stderr.write(`drogulus: ${(error as Error).message}\n`);
  process.exit(code ?? 3);
}
