/**
 * The clock the DHT core is given. The core never reads Date.now or calls
 * setTimeout itself: the real node injects SystemClock, tests and the
 * simulator inject ManualClock, so the same code runs in real and virtual time.
 */
export type TimerHandle = { readonly timerId: number };

export interface Clock {
  /** Milliseconds since the Unix epoch (virtual in tests). */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;

export const seconds = (n: number): number => n * SECOND_MS;
export const minutes = (n: number): number => n * MINUTE_MS;
export const hours = (n: number): number => n * HOUR_MS;
