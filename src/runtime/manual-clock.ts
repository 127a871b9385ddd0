/**
 * Virtual time for tests and the simulator. Timers fire only when the clock is
 * advanced, in (time, creation) order, and every promise chain a timer starts
 * is allowed to settle before the next timer fires, so runs are deterministic.
 */
import type { Clock, TimerHandle } from './clock.js';

interface Timer {
  readonly timerId: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

/** Lets every queued microtask and promise continuation run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ManualClock implements Clock {
  private currentMs: number;
  private nextId = 1;
  // A binary min-heap on (dueMs, timerId): the simulator keeps ~10^5 timers.
  private readonly heap: Timer[] = [];
  // Ids of timers that are set and have neither fired nor been cleared;
  // cleared timers stay in the heap and are skipped when they surface.
  private readonly active = new Set<number>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  get pendingTimers(): number {
    return this.active.size;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: Timer = { timerId: this.nextId++, dueMs: this.currentMs + Math.max(0, delayMs), callback };
    this.push(timer);
    this.active.add(timer.timerId);
    return { timerId: timer.timerId };
  }

  clearTimeout(handle: TimerHandle): void {
    this.active.delete(handle.timerId);
  }

  /** Runs every timer due within `ms` from now, then sets the time to now + ms. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.currentMs + ms;
    await settle();
    while (this.runNextTimerDueBy(targetMs)) await settle();
    this.currentMs = targetMs;
    await settle();
  }

  /**
   * Runs timers in order until `work` settles, and returns its result. Fails if
   * virtual time passes `limitMs` first, or if nothing is left to run.
   */
  async run<T>(work: Promise<T>, limitMs = 24 * 3600 * 1000): Promise<T> {
    let settled = false;
    const tracked = work.finally(() => {
      settled = true;
    });
    tracked.catch(() => undefined);
    const deadline = this.currentMs + limitMs;
    await settle();
    while (!settled) {
      if (!this.runNextTimerDueBy(deadline)) {
        throw new Error(settledError(this.active.size === 0, limitMs));
      }
      await settle();
    }
    return tracked;
  }

  private runNextTimerDueBy(limitMs: number): boolean {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (!this.active.has(top.timerId)) {
        this.pop();
        continue;
      }
      if (top.dueMs > limitMs) return false;
      this.pop();
      this.active.delete(top.timerId);
      this.currentMs = Math.max(this.currentMs, top.dueMs);
      top.callback();
      return true;
    }
    return false;
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && earlier(heap[left], heap[smallest])) smallest = left;
      if (right < heap.length && earlier(heap[right], heap[smallest])) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
      i = smallest;
    }
  }
}

const earlier = (a: Timer, b: Timer): boolean => a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.timerId < b.timerId);

const settledError = (idle: boolean, limitMs: number): string =>
  idle ? 'ManualClock.run: the work never settled and no timer is left to run' : `ManualClock.run: the work did not settle within ${limitMs} ms of virtual time`;
