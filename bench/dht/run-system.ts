/**
 * Runs the workload for one system at one size in a process of its own, so
 * that memory, CPU time and patched sockets of one system never touch
 * another's figures. Started by bench/dht-bench.ts:
 *   run-system.ts SYSTEM WORKLOAD_OPTIONS_JSON OUT_FILE
 * It writes a SystemRun (or { error }) as JSON to OUT_FILE and exits.
 */
import { writeFileSync } from 'node:fs';
import { SYSTEMS } from './systems/index.js';
import { runWorkload, type WorkloadOptions } from './workload.js';

const [name, optionsJson, outFile] = process.argv.slice(2);
const system = SYSTEMS[name];
if (!system || !optionsJson || !outFile) {
  console.error('usage: run-system.ts SYSTEM WORKLOAD_OPTIONS_JSON OUT_FILE');
  process.exit(2);
}
try {
  const run = await runWorkload(system, JSON.parse(optionsJson) as WorkloadOptions);
  writeFileSync(outFile, JSON.stringify(run));
} catch (error) {
  writeFileSync(outFile, JSON.stringify({ error: (error as Error).stack ?? String(error) }));
}
// Libraries may leave timers behind; the figures are written, so stop here.
process.exit(0);
