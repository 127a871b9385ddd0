/**
 * Messages on a TCP stream: each is a frame, a 4-byte big-endian length and
 * then that many bytes (docs/protocol.md, "Transport"). The decoder never
 * holds more than one frame header plus `maxFrameBytes`, never allocates for a
 * length before checking it, and never throws: a bad length is a result.
 */

export const FRAME_HEADER_BYTES = 4;

/** A frame's length prefix followed by `message`, as one buffer ready to write. */
export const encodeFrame = (message: Uint8Array): Buffer => {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame.writeUInt32BE(message.length, 0);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
};

export type FrameError = { readonly reason: 'oversized-frame'; readonly length: number };

export interface FramePush {
  /** Whole frames completed by this chunk, in order; empty frames included. */
  readonly frames: Buffer[];
  /** Set when a length prefix broke the limit; the stream is unusable from then on. */
  readonly error?: FrameError;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The length of the frame being read, once its header is complete. */
  private expected: number | undefined;
  private failed: FrameError | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held for a frame not yet complete. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): FramePush {
    if (this.failed) return { frames: [], error: this.failed };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    while (true) {
      if (this.expected === undefined) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          this.failed = { reason: 'oversized-frame', length };
          this.chunks = [];
          this.buffered = 0;
          return { frames, error: this.failed };
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = undefined;
    }
    return { frames };
  }

  /** Removes the first `n` buffered bytes (n <= buffered), copying only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      // A frame must not stay a view into a larger socket chunk: copy it out.
      return Buffer.from(first.subarray(0, n));
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
