/**
 * Wall-clock time and Node.js timers, for a real node. Timers are unref'd so a
 * pending retry never keeps a finished process alive.
 */
import type { Clock, TimerHandle } from './clock.js';

export class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timerId = this.nextId++;
    const timer = setTimeout(() => {
      this.timers.delete(timerId);
      callback();
    }, Math.max(0, delayMs));
    timer.unref();
    this.timers.set(timerId, timer);
    return { timerId };
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle.timerId);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(handle.timerId);
    }
  }
}
