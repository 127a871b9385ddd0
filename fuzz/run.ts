/**
 * The fuzzing command: `npx tsx fuzz/run.ts <harness|all> [options]`.
 *
 *   --runs N            stop after N executions (default 1,000,000)
 *   --seconds S         stop after S seconds (default 3,600)
 *   --seed N            seed of the mutations (default: random, printed)
 *   --fresh             neither read nor write the working corpus fuzz/.work/<harness>/
 *   --no-coverage       mutate blindly (no V8 coverage feedback)
 *   --batch N           inputs per coverage reading (default 256)
 *   --hang-ms N         an input running longer is a hang (default 10,000)
 *   --stop-on-failure   stop at the first failure
 *   --repro FILE...     run the harness once on each file and print what fails
 *
 * Harnesses: codec, seal, handlers (fuzz/harnesses/). Failures are written to
 * fuzz/crashes/ (ignored by git). The last line on stdout is a JSON summary;
 * the exit code is 1 when any harness failed or hung.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoverageTracker } from './lib/coverage.js';
import { type EngineReport, runEngine } from './lib/engine.js';
import type { Harness } from './lib/harness.js';

const FUZZ_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(FUZZ_DIR, '..');
export const HARNESSES = ['codec', 'seal', 'handlers'] as const;
type HarnessName = (typeof HARNESSES)[number];

const loadHarness = async (name: HarnessName): Promise<Harness> => {
  switch (name) {
    case 'codec':
      return (await import('./harnesses/codec.js')).codecHarness;
    case 'seal':
      return (await import('./harnesses/seal.js')).sealHarness;
    case 'handlers':
      return (await import('./harnesses/handlers.js')).handlersHarness;
  }
};

interface Args {
  readonly target: string;
  readonly runs: number;
  readonly seconds: number;
  readonly seed: number;
  readonly fresh: boolean;
  readonly coverage: boolean;
  readonly batch: number;
  readonly hangMs: number;
  readonly stopOnFailure: boolean;
  readonly repro: string[];
}

const parseArgs = (argv: string[]): Args => {
  const args: { -readonly [K in keyof Args]: Args[K] } = {
    target: '',
    runs: 1_000_000,
    seconds: 3600,
    seed: Math.floor(Math.random() * 2 ** 31),
    fresh: false,
    coverage: true,
    batch: 256,
    hangMs: 10_000,
    stopOnFailure: false,
    repro: [],
  };
  const number = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') args.runs = number(arg, argv[++i]);
    else if (arg === '--seconds') args.seconds = number(arg, argv[++i]);
    else if (arg === '--seed') args.seed = number(arg, argv[++i]);
    else if (arg === '--batch') args.batch = Math.max(1, number(arg, argv[++i]));
    else if (arg === '--hang-ms') args.hangMs = number(arg, argv[++i]);
    else if (arg === '--fresh') args.fresh = true;
    else if (arg === '--no-coverage') args.coverage = false;
    else if (arg === '--stop-on-failure') args.stopOnFailure = true;
    else if (arg === '--repro') while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) args.repro.push(argv[++i]);
    else if (!arg.startsWith('--') && args.target === '') args.target = arg;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (args.target !== 'all' && !(HARNESSES as readonly string[]).includes(args.target)) {
    throw new Error(`usage: fuzz/run.ts <${HARNESSES.join('|')}|all> [--runs N] [--seconds S] [--seed N] [--fresh] [--no-coverage] [--repro FILE...]`);
  }
  return args;
};

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const repro = async (harness: Harness, files: string[]): Promise<number> => {
  let failed = 0;
  for (const file of files) {
    try {
      const pending = harness.run(readFileSync(file));
      if (pending) await pending;
      log(`${file}: passes`);
    } catch (error) {
      failed++;
      log(`${file}: FAILS\n${(error as Error).stack ?? String(error)}`);
    }
  }
  return failed > 0 ? 1 : 0;
};

const fuzzOne = async (name: HarnessName, args: Args): Promise<number> => {
  // Coverage first: V8 counts only code compiled after it starts.
  const watched = (url: string): boolean => url.includes(`${ROOT}/src/`) || url.includes('/node_modules/msgpackr/');
  const coverage = args.coverage ? new CoverageTracker(watched) : undefined;
  coverage?.start();
  const harness = await loadHarness(name);
  if (args.repro.length > 0) return repro(harness, args.repro);
  log(`fuzzing ${harness.name}: ${harness.description}`);
  log(`seed ${args.seed}, at most ${args.runs} runs or ${args.seconds} s, coverage ${args.coverage ? 'on (V8 block coverage)' : 'off'}`);
  const report: EngineReport = await runEngine(harness, {
    runs: args.runs,
    seconds: args.seconds,
    seed: args.seed,
    seedDirs: [join(FUZZ_DIR, 'corpus', name)],
    workDir: args.fresh ? undefined : join(FUZZ_DIR, '.work', name),
    crashDir: join(FUZZ_DIR, 'crashes'),
    coverage,
    batchSize: args.batch,
    hangTimeoutMs: args.hangMs,
    slowInputMs: 1000,
    stopOnFailure: args.stopOnFailure,
    log,
  });
  coverage?.stop();
  process.stdout.write(`${JSON.stringify({ summary: true, ...report, failures: report.failures.map(({ signature, file, count }) => ({ signature, file, count })) })}\n`);
  return report.failures.length > 0 ? 1 : 0;
};

/** Each harness in its own process, one after the other, so coverage and a hang kill stay separate. */
const fuzzAll = (args: Args, argv: string[]): number => {
  let status = 0;
  const rest = argv.filter((a) => a !== 'all');
  for (const name of HARNESSES) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name, ...rest, '--seed', String(args.seed)], { stdio: 'inherit' });
    if (child.status !== 0) status = 1;
    if (child.signal) log(`harness ${name} was killed by ${child.signal}`);
  }
  return status;
};

const main = async (): Promise<void> => {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  process.exitCode = args.target === 'all' ? fuzzAll(args, argv) : await fuzzOne(args.target as HarnessName, args);
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    log((error as Error).stack ?? String(error));
    process.exitCode = 2;
  });
}
