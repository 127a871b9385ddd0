/**
 * When to send a request again that has had no answer: RTT-adaptive, so a
 * lost datagram costs a few round trips instead of the whole request timeout
 * (Falkner et al. 2007 traced Azureus's 127 s median lookups to fixed 5 s
 * timeouts). Per peer, three times its smoothed round trip, from the routing
 * table; for a peer we have not timed, Jacobson/Karels's SRTT + 4·RTTVAR over
 * every answer this node got (RFC 6298). Never below a floor, so that a busy
 * event loop is not taken for a lost datagram, nor above half the request
 * timeout, so that the second copy still has time to be answered.
 */
export class RetransmitTimer {
  private srttMs: number | undefined;
  private rttvarMs = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** Takes the round trip of an answered request. */
  observe(rttMs: number): void {
    if (!(rttMs >= 0)) return;
    if (this.srttMs === undefined) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
      return;
    }
    this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
    this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
  }

  /** Milliseconds to wait before sending again to a peer whose smoothed round trip is `peerRttMs` (undefined: not timed yet). */
  after(peerRttMs: number | undefined): number {
    const estimate = peerRttMs !== undefined ? 3 * peerRttMs : this.srttMs !== undefined ? this.srttMs + 4 * this.rttvarMs : this.maxMs;
    // Whole milliseconds: a virtual clock must not drift onto fractions.
    return Math.ceil(Math.min(this.maxMs, Math.max(this.minMs, estimate)));
  }
}
