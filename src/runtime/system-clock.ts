/**
 * Wall-clock time and Node.js timers, for a real node. Timers are unref'd so a
 * pending retry never keeps a finished process alive.
 */
import type { Clock, TimerHandle } from './clock.js';

const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timerId = this.nextId++;
    this.arm(timerId, Date.now() + Math.max(0, delayMs), callback);
    return { timerId };
  }

  /** Node fires delays over 2^31 - 1 ms at once, so long ones are re-armed in steps. */
  private arm(timerId: number, dueMs: number, callback: () => void): void {
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, dueMs - Date.now()));
    const timer = setTimeout(() => {
      if (dueMs > Date.now()) return this.arm(timerId, dueMs, callback);
      this.timers.delete(timerId);
      callback();
    }, delay);
    timer.unref();
    this.timers.set(timerId, timer);
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle.timerId);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(handle.timerId);
    }
  }
}
