/**
 * The fuzzing loop. Inputs are mutations of corpus entries (byte mutations,
 * dictionary tokens, crossover, and the harness's structure-aware mutation);
 * an input joins the corpus when it makes V8 count a block of src/ or msgpackr
 * that no earlier input reached. Coverage is read per batch of inputs (reading
 * it costs a few ms) and, when a batch found something new, each of its inputs
 * is run again alone to find the ones that did. Failures are saved to the crash
 * directory under a name derived from the input and reported once per distinct
 * failure; a watchdog thread saves and kills on a hang.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoverageTracker } from './coverage.js';
import type { Harness } from './harness.js';
import { mutateBytes, type MutationContext } from './mutate.js';
import { Rng } from './rng.js';
import { Watchdog } from './watchdog.js';

export interface EngineOptions {
  /** Stop after this many executions of the harness. */
  readonly runs: number;
  /** Stop after this many seconds. */
  readonly seconds: number;
  readonly seed: number;
  /** Read-only seed corpus directories. */
  readonly seedDirs: readonly string[];
  /** Where inputs that found new coverage are written and read back on the next run; undefined: kept in memory only. */
  readonly workDir: string | undefined;
  readonly crashDir: string;
  readonly coverage: CoverageTracker | undefined;
  /** Inputs per coverage reading. */
  readonly batchSize: number;
  /** An input running longer than this is a hang: saved, then the process is killed. */
  readonly hangTimeoutMs: number;
  /** Inputs slower than this are reported (not failures). */
  readonly slowInputMs: number;
  /** Stop at the first failure instead of collecting distinct ones. */
  readonly stopOnFailure: boolean;
  readonly log: (line: string) => void;
}

export interface Failure {
  readonly signature: string;
  readonly message: string;
  readonly file: string;
  readonly count: number;
}

export interface EngineReport {
  readonly harness: string;
  readonly runs: number;
  readonly seconds: number;
  readonly execsPerSecond: number;
  readonly corpus: number;
  readonly coverageFeatures: number | undefined;
  readonly failures: readonly Failure[];
  readonly slowInputs: number;
  readonly slowestInputMs: number;
  readonly seed: number;
}

const sha1 = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');

const readCorpus = (dir: string): Buffer[] => {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.')).map((n) => readFileSync(join(dir, n)));
};

/**
 * The failure's identity, to report each bug once: a failed property by its
 * first line; an exception by its class and code and the frame that threw it.
 */
const signatureOf = (error: unknown): { signature: string; message: string } => {
  const e = error instanceof Error ? error : new Error(String(error));
  const message = e.stack ?? `${e.name}: ${e.message}`;
  if (e.name === 'PropertyFailure') return { signature: e.message.split('\n')[0], message };
  const code = (e as { code?: unknown }).code;
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  const frame = frames.find((l) => l.includes('/src/')) ?? frames[0] ?? '';
  const where = frame.replace(/^\s+at /, '').replace(/:\d+\)?$/, '');
  return { signature: `${e.name}${typeof code === 'string' ? ` ${code}` : ''} thrown at ${where}`, message };
};

export const runEngine = async (harness: Harness, options: EngineOptions): Promise<EngineReport> => {
  const rng = new Rng(options.seed);
  const corpus: Buffer[] = [];
  const known = new Set<string>();
  const addToCorpus = (data: Buffer, persist: boolean): void => {
    const hash = sha1(data);
    if (known.has(hash)) return;
    known.add(hash);
    corpus.push(data);
    if (persist && options.workDir) writeFileSync(join(options.workDir, hash), data);
  };
  if (options.workDir) mkdirSync(options.workDir, { recursive: true });
  const failures = new Map<string, { message: string; file: string; count: number }>();
  const watchdog = new Watchdog(harness.name, options.crashDir, options.hangTimeoutMs);
  let runs = 0;
  let slowInputs = 0;
  let slowestInputMs = 0;
  const started = performance.now();
  const elapsedS = (): number => (performance.now() - started) / 1000;

  const execute = async (data: Buffer): Promise<boolean> => {
    runs++;
    watchdog.starting(data);
    const t0 = performance.now();
    let failed = false;
    try {
      const pending = harness.run(data);
      if (pending) await pending;
    } catch (error) {
      failed = true;
      const { signature, message } = signatureOf(error);
      const seen = failures.get(signature);
      if (seen) seen.count++;
      else {
        mkdirSync(options.crashDir, { recursive: true });
        const file = join(options.crashDir, `${harness.name}-crash-${sha1(data).slice(0, 12)}.bin`);
        writeFileSync(file, data);
        writeFileSync(`${file}.txt`, `${message}\n`);
        failures.set(signature, { message, file, count: 1 });
        options.log(`==== FAILURE #${failures.size} after ${runs} runs: ${signature}\n${message}\ninput saved as ${file} (reproduce: npx tsx fuzz/run.ts ${harness.name} --repro ${file})`);
      }
    }
    watchdog.finished();
    const ms = performance.now() - t0;
    if (ms > slowestInputMs) slowestInputMs = ms;
    if (ms > options.slowInputMs) {
      slowInputs++;
      if (slowInputs <= 5) options.log(`slow input: ${ms.toFixed(0)} ms (run ${runs})`);
    }
    return failed;
  };

  // The seed corpus on disk (fuzz/make-corpus.ts writes it), else the harness's own seeds; then earlier finds.
  const seeds = options.seedDirs.flatMap(readCorpus);
  const previous = options.workDir ? readCorpus(options.workDir) : [];
  const initial = [...(seeds.length > 0 ? seeds : harness.seeds().map((s) => s.data)), ...previous];
  if (initial.length === 0) initial.push(Buffer.alloc(0));
  // Every seed is run alone so its coverage is known; seeds are kept whatever they cover.
  options.coverage?.collect();
  for (const data of initial) {
    await execute(data);
    options.coverage?.collect();
    addToCorpus(data, false);
  }
  options.log(`#${runs} INITED corpus: ${corpus.length} inputs, cov: ${options.coverage?.features ?? 'off'}`);

  const context: MutationContext = {
    rng,
    maxLength: harness.maxLength,
    dictionary: harness.dictionary ?? [],
    other: () => corpus[rng.below(corpus.length)],
  };
  const nextInput = (): Buffer => {
    // Recent finds are picked more often: they sit at the frontier.
    const parent = rng.chance(2) ? corpus[corpus.length - 1 - rng.below(Math.min(corpus.length, 64))] : corpus[rng.below(corpus.length)];
    if (harness.mutate && rng.chance(3)) {
      const structured = harness.mutate(parent, rng);
      if (structured) return structured.length > harness.maxLength ? structured.subarray(0, harness.maxLength) : structured;
    }
    return mutateBytes(parent, context);
  };

  /**
   * Finds the inputs of a batch that reached new blocks by running halves of
   * it again: about 2 log2(n) coverage readings per find instead of n.
   */
  const bisect = async (coverage: CoverageTracker, inputs: Buffer[]): Promise<void> => {
    const middle = Math.ceil(inputs.length / 2);
    for (const half of inputs.length === 1 ? [inputs] : [inputs.slice(0, middle), inputs.slice(middle)]) {
      if (half.length === 0 || done()) continue;
      for (const input of half) await execute(input);
      if (half.length === 1) {
        if (coverage.collect() > 0) addToCorpus(half[0], true);
      } else if (coverage.collect(true) > 0) {
        await bisect(coverage, half);
      }
    }
  };

  let lastLog = performance.now();
  const done = (): boolean => runs >= options.runs || elapsedS() >= options.seconds || (options.stopOnFailure && failures.size > 0);
  while (!done()) {
    const batch: Buffer[] = [];
    for (let i = 0; i < options.batchSize && !done(); i++) {
      const input = nextInput();
      batch.push(input);
      await execute(input);
    }
    if (options.coverage && options.coverage.collect(true) > 0) await bisect(options.coverage, batch);
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      options.log(`#${runs} cov: ${options.coverage?.features ?? 'off'} corp: ${corpus.length} exec/s: ${Math.round(runs / elapsedS())} failures: ${failures.size} elapsed: ${elapsedS().toFixed(0)} s`);
    }
  }
  await watchdog.stop();
  const seconds = elapsedS();
  options.log(`#${runs} DONE cov: ${options.coverage?.features ?? 'off'} corp: ${corpus.length} exec/s: ${Math.round(runs / seconds)} failures: ${failures.size} elapsed: ${seconds.toFixed(1)} s`);
  return {
    harness: harness.name,
    runs,
    seconds,
    execsPerSecond: runs / seconds,
    corpus: corpus.length,
    coverageFeatures: options.coverage?.features,
    failures: [...failures].map(([signature, f]) => ({ signature, ...f })),
    slowInputs,
    slowestInputMs,
    seed: options.seed,
  };
};
