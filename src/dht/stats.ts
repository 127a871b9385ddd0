/**
 * Counters a node keeps about its traffic: messages in and out by type, error
 * codes sent, inputs dropped by reason, and the bytes exchanged with
 * addresses that had not proven they receive what we send (the reflection
 * bound: out never exceeds in). Metrics and the simulator read them.
 */
export class NodeStats {
  readonly messagesIn: Record<string, number> = {};
  readonly messagesOut: Record<string, number> = {};
  readonly errorsSent: Record<string, number> = {};
  readonly dropped: Record<string, number> = {};
  /** Replies cut to fit the bytes an unproven address sent, by the type the handler answered with. */
  readonly repliesShrunk: Record<string, number> = {};
  bytesIn = 0;
  bytesOut = 0;
  lookups = 0;
  /** Stores a publish sent while its lookup ran to peers the lookup then found not among the closest (earlyStores). */
  extraStores = 0;
  /** Requests sent again, under a fresh id, after no answer within the retransmission time. */
  retransmits = 0;
  /** Stores sent to new neighbours of the items they are now among the K closest to (store-on-join). */
  handoffStores = 0;
  /** Bytes of requests (and undecodable input) from addresses that had not proven they receive. */
  unprovenBytesIn = 0;
  /** Bytes we sent to such addresses in answer: replies, challenges, errors. */
  unprovenBytesOut = 0;

  countIn(type: string, bytes: number): void {
    this.messagesIn[type] = (this.messagesIn[type] ?? 0) + 1;
    this.bytesIn += bytes;
  }

  countOut(type: string, bytes: number): void {
    this.messagesOut[type] = (this.messagesOut[type] ?? 0) + 1;
    this.bytesOut += bytes;
  }

  countError(code: number): void {
    this.errorsSent[code] = (this.errorsSent[code] ?? 0) + 1;
  }

  countDrop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  get totalOut(): number {
    return Object.values(this.messagesOut).reduce((a, b) => a + b, 0);
  }
}
