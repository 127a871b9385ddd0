/**
 * The retransmission time of a request: three smoothed round trips of a peer
 * we have timed, SRTT + 4·RTTVAR over every answer for one we have not, and
 * always within [floor, cap].
 */
import { describe, expect, it } from 'vitest';
import { RetransmitTimer } from '../../src/dht/retransmit-timer.js';

describe('RetransmitTimer', () => {
  it('waits the cap before any answer was timed, for a peer never timed', () => {
    expect(new RetransmitTimer(250, 1000).after(undefined)).toBe(1000);
  });

  it('waits three round trips of a timed peer, within the floor and the cap', () => {
    const timer = new RetransmitTimer(250, 1000);
    expect(timer.after(150)).toBe(450);
    expect(timer.after(20)).toBe(250);
    expect(timer.after(800)).toBe(1000);
  });

  it('follows SRTT + 4·RTTVAR of every answer for a peer never timed (RFC 6298)', () => {
    const timer = new RetransmitTimer(10, 10_000);
    timer.observe(100);
    // First sample: SRTT 100, RTTVAR 50.
    expect(timer.after(undefined)).toBe(300);
    timer.observe(200);
    // RTTVAR 0.75·50 + 0.25·100 = 62.5; SRTT 0.875·100 + 0.125·200 = 112.5.
    expect(timer.after(undefined)).toBe(Math.ceil(112.5 + 4 * 62.5));
  });

  it('settles near the round trip when every answer takes the same time', () => {
    const timer = new RetransmitTimer(1, 10_000);
    for (let i = 0; i < 100; i++) timer.observe(80);
    expect(timer.after(undefined)).toBeGreaterThanOrEqual(80);
    expect(timer.after(undefined)).toBeLessThanOrEqual(81);
  });

  it('ignores a negative or NaN round trip, and gives whole milliseconds', () => {
    const timer = new RetransmitTimer(1, 10_000);
    timer.observe(-5);
    timer.observe(Number.NaN);
    expect(timer.after(undefined)).toBe(10_000);
    timer.observe(33.3);
    expect(Number.isInteger(timer.after(undefined))).toBe(true);
    expect(Number.isInteger(timer.after(33.3))).toBe(true);
  });
});
