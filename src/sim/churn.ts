/**
 * Churn after Stutzbach and Rejaie (2006): every node stays for a Weibull
 * session (shape 0.4–0.6 in their measurements, median tens of minutes),
 * then leaves abruptly: node.stop(), no goodbye, its store lost. A fresh node
 * (new key, empty store) takes its place at once and joins through a random
 * live node, so the population stays at its size give or take the joins in
 * progress. Fresh identities are the harder case for the DHT: every departure
 * loses its replicas for good, and nothing is remembered across sessions.
 * The nodes present at the start are given the remaining part of a session
 * already under way, so the run starts in steady state rather than with a
 * wave of departures. Departures are timers on the simulation's clock.
 */
import type { DrogulusNode } from '../dht/node.js';
import { MINUTE_MS, type TimerHandle } from '../runtime/clock.js';
import { SeededRandom } from '../runtime/random.js';
import { sampleWeibull, sampleWeibullResidual, type WeibullParams } from './distributions.js';
import type { Population } from './population.js';

/** Session models: Stutzbach and Rejaie's Kad and Gnutella fits, and the stress setting of 1.4-minute sessions. */
export const CHURN_PRESETS = Object.freeze({
  weibull: Object.freeze({ shape: 0.5, medianMs: 30 * MINUTE_MS }),
  stress: Object.freeze({ shape: 0.5, medianMs: 1.4 * MINUTE_MS }),
});

export type ChurnEvent = { readonly type: 'departed' | 'arrived'; readonly node: DrogulusNode };

export interface ChurnOptions {
  readonly sessions: WeibullParams;
  readonly seed: number;
  /** Wait before a replacement that failed to join tries again with a new node. */
  readonly retryMs?: number;
  readonly onEvent?: (event: ChurnEvent) => void;
}

export interface ChurnCounters {
  departures: number;
  arrivals: number;
  failedArrivals: number;
}

export class Churn {
  readonly counters: ChurnCounters = { departures: 0, arrivals: 0, failedArrivals: 0 };
  private readonly random: SeededRandom;
  private readonly timers = new Map<DrogulusNode, TimerHandle>();
  private readonly pending = new Set<Promise<void>>();
  private running = false;

  constructor(
    private readonly population: Population,
    private readonly options: ChurnOptions,
  ) {
    this.random = new SeededRandom(options.seed);
  }

  /** Gives every live node the rest of a session under way, and starts replacing the nodes that leave. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const node of this.population.nodes) this.scheduleDeparture(node, sampleWeibullResidual(this.random, this.options.sessions));
  }

  /** No more departures; arrivals already joining finish (await `settled`). */
  stop(): void {
    this.running = false;
    for (const timer of this.timers.values()) this.population.clock.clearTimeout(timer);
    this.timers.clear();
  }

  /** Settles when every arrival in progress has joined or given up. */
  get settled(): Promise<void> {
    return Promise.all([...this.pending]).then(() => undefined);
  }

  private scheduleDeparture(node: DrogulusNode, afterMs: number): void {
    const timer = this.population.clock.setTimeout(() => {
      this.timers.delete(node);
      if (!this.running || !this.population.isLive(node)) return;
      this.population.depart(node);
      this.counters.departures++;
      this.options.onEvent?.({ type: 'departed', node });
      this.track(this.arrive());
    }, afterMs);
    this.timers.set(node, timer);
  }

  private async arrive(): Promise<void> {
    const clock = this.population.clock;
    for (;;) {
      const session = sampleWeibull(this.random, this.options.sessions);
      const startedMs = clock.now();
      const node = this.population.spawn();
      if (await this.population.join(node)) {
        this.counters.arrivals++;
        this.options.onEvent?.({ type: 'arrived', node });
        if (this.running) this.scheduleDeparture(node, Math.max(0, session - (clock.now() - startedMs)));
        return;
      }
      this.counters.failedArrivals++;
      void node.stop();
      if (!this.running) return;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, this.options.retryMs ?? 10_000));
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}
