/**
 * Coverage feedback from V8's own block coverage (the inspector's precise
 * coverage, the data behind `c8` and vitest's v8 provider), so the fuzzer
 * needs no native module and no source instrumentation. A feature is one
 * block of a function in a watched script (src/ and msgpackr) that ran.
 *
 * V8 reports a function as nested ranges with execution counts and merges a
 * block into its parent when their counts are equal, so a block that starts
 * to run can vanish from the report instead of appearing in it. We therefore
 * remember every block start ever reported for a function and, in each
 * report, count a start as covered when the innermost range around it ran.
 * Taking coverage resets V8's counters, so each report covers what ran since
 * the previous one. Coverage must be started before the code under test is
 * loaded: functions compiled earlier are not counted.
 */
import { Session } from 'node:inspector';

interface Range {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}
interface FunctionCoverage {
  readonly functionName: string;
  readonly ranges: readonly Range[];
}
interface ScriptCoverage {
  readonly url: string;
  readonly functions: readonly FunctionCoverage[];
}

export class CoverageTracker {
  private readonly session = new Session();
  /** Block starts seen per function ("url@start-end"), from every report so far. */
  private readonly blockStarts = new Map<string, Set<number>>();
  /** Features (function key and block start) covered by some input so far. */
  private readonly covered = new Set<string>();

  constructor(private readonly watched: (url: string) => boolean) {}

  /** Starts counting; call before importing the code under test. */
  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  get features(): number {
    return this.covered.size;
  }

  /** Takes (and resets) the counts; returns how many features they add, recording them unless `dryRun`. */
  collect(dryRun = false): number {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let added = 0;
    const fresh = dryRun ? new Set<string>() : this.covered;
    for (const script of result) {
      if (!this.watched(script.url)) continue;
      for (const fn of script.functions) {
        const ranges = fn.ranges;
        if (ranges.length === 0) continue;
        const fnKey = `${script.url}@${ranges[0].startOffset}-${ranges[0].endOffset}`;
        let starts = this.blockStarts.get(fnKey);
        if (!starts) this.blockStarts.set(fnKey, (starts = new Set()));
        for (const r of ranges) starts.add(r.startOffset);
        for (const position of starts) {
          if (innermostCount(ranges, position) <= 0) continue;
          const feature = `${fnKey}:${position}`;
          if (this.covered.has(feature) || fresh.has(feature)) continue;
          fresh.add(feature);
          added++;
        }
      }
    }
    return added;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }

  /** The inspector answers same-thread sessions synchronously. */
  private post(method: string, params: object = {}): unknown {
    let answer: unknown;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params, (error, result) => {
      failure = error;
      answer = result;
      answered = true;
    });
    if (!answered) throw new Error(`inspector did not answer ${method} synchronously`);
    if (failure) throw failure;
    return answer;
  }
}

/** Ranges come outermost first, sorted by start: the last one holding `position` is the innermost. */
const innermostCount = (ranges: readonly Range[], position: number): number => {
  let count = 0;
  for (const r of ranges) {
    if (r.startOffset > position) break;
    if (position < r.endOffset) count = r.count;
  }
  return count;
};
