import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/manual-clock.js';

const START_MS = Date.UTC(2026, 0, 1);

describe('ManualClock', () => {
  it('starts at the time it is given, 2026-01-01 by default', () => {
    expect(new ManualClock().now()).toBe(START_MS);
    expect(new ManualClock(42).now()).toBe(42);
  });

  it('fires no timer until it is advanced', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('a'), 0);
    clock.setTimeout(() => fired.push('b'), 10);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(0);
    expect(fired).toEqual(['a']);
    await clock.advance(9);
    expect(fired).toEqual(['a']);
    await clock.advance(1);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers in due order, and timers due together in the order they were set', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('late'), 30);
    clock.setTimeout(() => fired.push('first at 10'), 10);
    clock.setTimeout(() => fired.push('early'), 5);
    clock.setTimeout(() => fired.push('second at 10'), 10);
    await clock.advance(100);
    expect(fired).toEqual(['early', 'first at 10', 'second at 10', 'late']);
  });

  it('reads each timer due time while its callback runs, and the target time after advancing', async () => {
    const clock = new ManualClock(1000);
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 25);
    clock.setTimeout(() => seen.push(clock.now()), 70);
    await clock.advance(100);
    expect(seen).toEqual([1025, 1070]);
    expect(clock.now()).toBe(1100);
  });

  it('fires a timer set by another timer when it falls due within the same advance', async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 20);
    }, 10);
    await clock.advance(50);
    expect(fired).toEqual([10, 30]);
  });

  it('treats a negative delay as zero', async () => {
    const clock = new ManualClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), -5);
    await clock.advance(0);
    expect(fired).toBe(true);
  });

  it('never fires a cleared timer', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const handle = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => fired.push('kept'), 10);
    clock.clearTimeout(handle);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(20);
    expect(fired).toEqual(['kept']);
  });

  it('lets the promise chain a timer starts settle before the next timer fires', async () => {
    const clock = new ManualClock(0);
    const events: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => undefined)
        .then(() => events.push('continuation of the first timer'));
    }, 10);
    clock.setTimeout(() => events.push('second timer'), 10);
    await clock.advance(10);
    expect(events).toEqual(['continuation of the first timer', 'second timer']);
  });

  describe('run', () => {
    const delay = (clock: ManualClock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));

    it('runs timers until the work settles and returns its result', async () => {
      const clock = new ManualClock(0);
      const work = (async () => {
        await delay(clock, 1000);
        await delay(clock, 500);
        return 'done';
      })();
      await expect(clock.run(work)).resolves.toBe('done');
      expect(clock.now()).toBe(1500);
    });

    it('does not run timers past the moment the work settles', async () => {
      const clock = new ManualClock(0);
      let laterFired = false;
      clock.setTimeout(() => (laterFired = true), 5000);
      await clock.run(delay(clock, 100));
      expect(laterFired).toBe(false);
      expect(clock.now()).toBe(100);
    });

    it('passes on the rejection of the work', async () => {
      const clock = new ManualClock(0);
      const work = delay(clock, 10).then(() => {
        throw new Error('boom');
      });
      await expect(clock.run(work)).rejects.toThrow('boom');
    });

    it('throws when the work is pending and no timer is left to run', async () => {
      const clock = new ManualClock(0);
      const never = new Promise<void>(() => undefined);
      await expect(clock.run(never)).rejects.toThrow(/no timer is left/);
    });

    it('throws when the work needs more virtual time than the limit', async () => {
      const clock = new ManualClock(0);
      await expect(clock.run(delay(clock, 10_000), 1000)).rejects.toThrow(/did not settle within 1000 ms/);
    });
  });
});
