/**
 * `npm run bench`: drogulus against hyperdht and bittorrent-dht on this
 * machine, all nodes on 127.0.0.1 (docs/performance.md explains the workload
 * and the method). Each system runs at each size in a child process of its
 * own (bench/dht/run-system.ts). Prints the tables, writes
 * bench/results/latest.json and the tables into docs/performance.md.
 *
 *   npm run bench -- [--nodes 32,128] [--ops 500] [--sequential-ops 500]
 *     [--systems drogulus,hyperdht,bittorrent-dht] [--quick] [--seed 1] [--repeat 3]
 *     [--phase-limit-s 60] [--out FILE] [--docs FILE | --no-docs] [--cpu-prof]
 *
 * Each system runs --repeat times at each size, the repeats interleaved
 * across systems (seed, seed + 1, …), and every figure reported is the median
 * over the repeats: another process on a 2-core machine then disturbs one
 * repeat, not the result. --quick is a smoke run (16 nodes, 40 operations,
 * 1 repeat) written to bench/results/quick.json. --cpu-prof profiles every
 * phase with the V8 profiler, writes the profiles to bench/results/profiles/
 * and prints where the CPU time went; its figures include the profiler's
 * cost, so it writes bench/results/profile.json and leaves
 * docs/performance.md alone.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { comparisonTable, compareAtSize, floorTable, type Machine, machineLine, profileTables, verdicts, verdictTable } from './dht/report.js';
import { medianOf } from './dht/median.js';
import { SYSTEM_NAMES, SYSTEMS } from './dht/systems/index.js';
import type { SystemRun, WorkloadOptions } from './dht/workload.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'bench/dht/run-system.ts');
const START_MARKER = '<!-- bench:start -->';
const END_MARKER = '<!-- bench:end -->';
const TARGET_NODES = 128;

export interface BenchReport {
  readonly machine: Machine;
  readonly source: { readonly commit: string; readonly uncommittedSrcFiles: number };
  readonly options: WorkloadOptions & { readonly nodeCounts: readonly number[]; readonly systems: readonly string[]; readonly repeat: number };
  /** The median of the repeats, per system and size. */
  readonly runs: readonly SystemRun[];
  /** Every repeat as measured. */
  readonly repeats: readonly SystemRun[];
  readonly failures: ReadonlyArray<{ readonly system: string; readonly nodes: number; readonly error: string }>;
  readonly comparisons: ReturnType<typeof compareAtSize>[];
  readonly verdictNodes: number;
  readonly verdicts: ReturnType<typeof verdicts>;
  readonly countingMethods: Readonly<Record<string, string>>;
  readonly durationS: number;
}

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string' },
    ops: { type: 'string' },
    'sequential-ops': { type: 'string' },
    systems: { type: 'string', default: SYSTEM_NAMES.join(',') },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    repeat: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    'phase-limit-s': { type: 'string', default: '60' },
    out: { type: 'string' },
    docs: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
});

const positiveInt = (text: string, name: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
};

const quick = args.quick;
const profiling = args['cpu-prof'];
const nodeCounts = (args.nodes ?? (quick ? '16' : '32,128')).split(',').map((n) => positiveInt(n.trim(), 'nodes'));
if (nodeCounts.some((n) => n < 3)) throw new RangeError('--nodes: each network needs at least 3 nodes');
const ops = positiveInt(args.ops ?? (quick ? '40' : '500'), 'ops');
const repeat = positiveInt(args.repeat ?? (quick || profiling ? '1' : '3'), 'repeat');
const systems = args.systems.split(',').map((s) => s.trim());
for (const s of systems) if (!SYSTEMS[s]) throw new RangeError(`--systems: unknown system ${JSON.stringify(s)} (known: ${SYSTEM_NAMES.join(', ')})`);
const workload: WorkloadOptions = {
  nodes: 0,
  ops,
  sequentialOps: positiveInt(args['sequential-ops'] ?? String(quick ? Math.min(ops, 20) : ops), 'sequential-ops'),
  concurrency: positiveInt(args.concurrency, 'concurrency'),
  valueBytes: 100,
  phaseLimitMs: positiveInt(args['phase-limit-s'], 'phase-limit-s') * 1000,
  opTimeoutMs: 20_000,
  settleLimitMs: 15_000,
  seed: positiveInt(args.seed, 'seed'),
  ...(profiling ? { profileDir: join(ROOT, 'bench/results/profiles') } : {}),
};
// A smoke run or a profiled run must not overwrite the real figures.
const defaultOut = quick ? 'bench/results/quick.json' : profiling ? 'bench/results/profile.json' : 'bench/results/latest.json';
const outFile = resolve(args.out ?? join(ROOT, defaultOut));
const docsFile = args['no-docs'] ? undefined : args.docs ? resolve(args.docs) : quick || profiling ? undefined : join(ROOT, 'docs/performance.md');

/** Runs one system at one size in a child process, killed if it outlives every phase's limit. */
const runChild = (system: string, nodes: number, seed: number, scratch: string): Promise<SystemRun> => {
  const file = join(scratch, `${system}-${nodes}-${seed}.json`);
  const phases = 1 + 2 * SYSTEMS[system].getModes.length;
  const limitMs = 90_000 + phases * (workload.phaseLimitMs + workload.opTimeoutMs);
  const nodeArgs = [...process.execArgv.filter((a) => a !== '--expose-gc'), '--expose-gc'];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CHILD, system, JSON.stringify({ ...workload, nodes, seed }), file], { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!existsSync(file)) return reject(new Error(signal ? `killed by ${signal} after ${limitMs} ms` : `exited with code ${code} and no result`));
      const result = JSON.parse(readFileSync(file, 'utf8')) as SystemRun | { error: string };
      if ('error' in result) reject(new Error(result.error));
      else resolvePromise(result);
    });
  });
};

/** The commit measured, and whether src/ had uncommitted changes (other work in progress is measured too). */
const sourceState = (): { commit: string; uncommittedSrcFiles: number } => {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return { commit, uncommittedSrcFiles: changed };
  } catch {
    return { commit: 'unknown', uncommittedSrcFiles: 0 };
  }
};
const source = sourceState();

const machine: Machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryBytes: os.totalmem(),
  node: process.version,
  os: `${os.platform()} ${os.release()}`,
  date: new Date().toISOString(),
};

const started = performance.now();
const scratch = mkdtempSync(join(os.tmpdir(), 'drogulus-bench-'));
const repeats: SystemRun[] = [];
const failures: Array<{ system: string; nodes: number; error: string }> = [];
try {
  for (const nodes of nodeCounts) {
    for (let r = 0; r < repeat; r++) {
      for (const system of systems) {
        const t0 = performance.now();
        process.stderr.write(`bench: ${system} at ${nodes} nodes, repeat ${r + 1}/${repeat} … `);
        try {
          repeats.push(await runChild(system, nodes, workload.seed + r, scratch));
          process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        } catch (error) {
          const message = (error as Error).message;
          failures.push({ system, nodes, error: message });
          process.stderr.write(`FAILED: ${message.split('\n')[0]}\n`);
        }
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const runs: SystemRun[] = nodeCounts.flatMap((nodes) =>
  systems.flatMap((system) => {
    const mine = repeats.filter((r) => r.system === system && r.nodes === nodes);
    return mine.length > 0 ? [medianOf(mine)] : [];
  }),
);

const verdictNodes = nodeCounts.includes(TARGET_NODES) ? TARGET_NODES : Math.max(...nodeCounts);
const report: BenchReport = {
  machine,
  source,
  options: { ...workload, nodeCounts, systems, repeat },
  runs,
  repeats,
  failures,
  comparisons: nodeCounts.map((n) => compareAtSize(runs, n)),
  verdictNodes,
  verdicts: verdicts(runs, verdictNodes),
  countingMethods: Object.fromEntries(systems.map((s) => [s, SYSTEMS[s].counting])),
  durationS: Math.round((performance.now() - started) / 100) / 10,
};

const markdown = (): string => {
  const parts = [
    `Measured on ${machineLine(machine)}, drogulus at commit ${source.commit}${source.uncommittedSrcFiles > 0 ? ` with ${source.uncommittedSrcFiles} uncommitted files in src/` : ''}. Versions: ${runs.filter((r, i, all) => all.findIndex((x) => x.system === r.system) === i).map((r) => `${r.system} ${r.version}`).join(', ')}.`,
    `Workload: ${ops} puts of ${workload.valueBytes}-byte values at concurrency ${workload.concurrency}, then ${ops} gets at concurrency ${workload.concurrency} and ${workload.sequentialOps} at concurrency 1. Every figure is the median of ${repeat} interleaved repeat${repeat === 1 ? '' : 's'} (seeds ${workload.seed}–${workload.seed + repeat - 1}); the whole run took ${report.durationS} s.`,
  ];
  for (const c of report.comparisons) if (c) parts.push(`### ${c.nodes} nodes\n\n${comparisonTable(c)}`);
  if (runs.some((r) => r.cryptoFloor)) parts.push(`### The crypto floor of drogulus\n\n${floorTable(runs)}`);
  parts.push(`### Targets\n\n${verdictTable(report.verdicts)}`);
  const blocked = runs.reduce((n, r) => n + r.blockedSends, 0);
  parts.push(`Sends to non-loopback addresses refused: ${blocked}.`);
  const loads = repeats.flatMap((r) => [r.loadAverage.start, r.loadAverage.end]);
  if (loads.length > 0) {
    const busiest = Math.max(...loads);
    const note = busiest > machine.cores ? ` Other processes were competing for the ${machine.cores} cores during part of the run; the medians damp that, but throughput figures are less certain than CPU per operation.` : '';
    parts.push(`1-minute load average during the run: ${Math.min(...loads).toFixed(2)} to ${busiest.toFixed(2)} (the benchmark itself accounts for about 1).${note}`);
  }
  if (profiling) parts.push(`### Where the CPU time goes (profiled run)\n\n${profileTables(runs)}`);
  if (failures.length > 0) parts.push(`### Failed runs\n\n${failures.map((f) => `- ${f.system} at ${f.nodes} nodes: ${f.error.split('\n')[0]}`).join('\n')}`);
  return parts.join('\n\n');
};

const text = markdown();
console.log(text);
// A run with a failed system must not replace the last good figures: it is kept beside them.
const failed = failures.length > 0;
const jsonFile = failed ? outFile.replace(/\.json$/, '') + '.failed.json' : outFile;
mkdirSync(dirname(jsonFile), { recursive: true });
writeFileSync(jsonFile, JSON.stringify(report, null, 2) + '\n');
console.error(`bench: wrote ${jsonFile}`);
if (docsFile && failed) console.error(`bench: ${failures.length} run(s) failed, so ${docsFile} was left as it was`);
if (docsFile && !failed) {
  const old = existsSync(docsFile) ? readFileSync(docsFile, 'utf8') : `# Performance\n\n${START_MARKER}\n${END_MARKER}\n`;
  const from = old.indexOf(START_MARKER);
  const to = old.indexOf(END_MARKER);
  const block = `${START_MARKER}\n${text}\n${END_MARKER}`;
  const updated = from >= 0 && to > from ? old.slice(0, from) + block + old.slice(to + END_MARKER.length) : `${old.trimEnd()}\n\n${block}\n`;
  writeFileSync(docsFile, updated);
  console.error(`bench: updated ${docsFile}`);
}
process.exitCode = failed ? 1 : 0;
