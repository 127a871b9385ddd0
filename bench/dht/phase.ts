/**
 * One timed phase of the workload: `planned` operations run by `concurrency`
 * workers, each operation bounded by `opTimeoutMs`, no new operation started
 * after `limitMs`. It measures wall time, per-operation latency, the process's
 * CPU time (every node lives in this process) and the change in the system's
 * counters (messages, requests …) over the phase.
 */

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

export interface PhaseResult {
  readonly concurrency: number;
  readonly planned: number;
  /** Operations that finished (succeeded or failed) before the phase ended. */
  readonly completed: number;
  readonly succeeded: number;
  /** succeeded / planned: an operation never started for lack of time counts as failed. */
  readonly successRate: number;
  readonly wallMs: number;
  /** completed / wall time. */
  readonly opsPerSec: number;
  readonly latencyMs: LatencySummary;
  /** User + system CPU time of the whole process over the phase, per completed operation. */
  readonly cpuMsPerOp: number;
  /** Every counter's change over the phase, divided by completed operations. */
  readonly perOp: Readonly<Record<string, number>>;
  /** Every counter's change over the phase. */
  readonly totals: Readonly<Record<string, number>>;
  /** True when the time limit stopped the phase before every operation ran. */
  readonly timedOut: boolean;
  readonly errors: readonly string[];
}

export interface PhaseSpec {
  readonly planned: number;
  readonly concurrency: number;
  readonly limitMs: number;
  readonly opTimeoutMs: number;
  /** Runs operation `index`; resolves true when it succeeded. */
  readonly op: (index: number) => Promise<boolean>;
  readonly counters: () => Record<string, number>;
}

const MAX_ERRORS_KEPT = 5;

export const summariseLatency = (samples: readonly number[]): LatencySummary => {
  if (samples.length === 0) return { p50: NaN, p95: NaN, p99: NaN, mean: NaN, max: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  // Nearest-rank percentiles.
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), mean: round(sorted.reduce((s, x) => s + x, 0) / sorted.length), max: round(sorted[sorted.length - 1]) };
};

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`operation timed out after ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });

const difference = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - (before[key] ?? 0)]));

export const runPhase = async (spec: PhaseSpec): Promise<PhaseResult> => {
  const latencies: number[] = [];
  const errors: string[] = [];
  let next = 0;
  let succeeded = 0;
  let timedOut = false;
  const countersBefore = spec.counters();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < spec.planned) {
      if (performance.now() - started > spec.limitMs) {
        timedOut = true;
        return;
      }
      const index = next++;
      const opStarted = performance.now();
      let ok = false;
      try {
        ok = await withTimeout(spec.op(index), spec.opTimeoutMs);
      } catch (error) {
        if (errors.length < MAX_ERRORS_KEPT) errors.push((error as Error).message);
      }
      latencies.push(performance.now() - opStarted);
      if (ok) succeeded++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.planned) }, worker));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const totals = difference(spec.counters(), countersBefore);
  const completed = latencies.length;
  const per = (x: number): number => (completed === 0 ? NaN : x / completed);
  return {
    concurrency: spec.concurrency,
    planned: spec.planned,
    completed,
    succeeded,
    successRate: spec.planned === 0 ? 1 : succeeded / spec.planned,
    wallMs: Math.round(wallMs * 10) / 10,
    opsPerSec: completed === 0 ? 0 : completed / (wallMs / 1000),
    latencyMs: summariseLatency(latencies),
    cpuMsPerOp: per((cpu.user + cpu.system) / 1000),
    perOp: Object.fromEntries(Object.entries(totals).map(([key, value]) => [key, per(value)])),
    totals,
    timedOut,
    errors,
  };
};
