/**
 * A hang detector that works while the main thread is stuck: a worker thread
 * watches a heartbeat counter in shared memory, and when the current input has
 * run longer than the limit it writes that input to the crash directory and
 * kills the process, as libFuzzer does on -timeout.
 */
import { Worker } from 'node:worker_threads';

const MAX_INPUT_BYTES = 1 << 20;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { beats, input, timeoutMs, crashDir, harness } = workerData;
const counters = new Int32Array(beats);
const bytes = new Uint8Array(input);
let lastBeat = -1;
let since = Date.now();
setInterval(() => {
  const beat = Atomics.load(counters, 0);
  if (beat !== lastBeat) {
    lastBeat = beat;
    since = Date.now();
    return;
  }
  if (Atomics.load(counters, 2) === 0 || Date.now() - since < timeoutMs) return;
  const data = Buffer.from(bytes.subarray(0, Atomics.load(counters, 1)));
  const name = harness + '-hang-' + crypto.createHash('sha1').update(data).digest('hex').slice(0, 12) + '.bin';
  fs.mkdirSync(crashDir, { recursive: true });
  fs.writeFileSync(path.join(crashDir, name), data);
  fs.writeSync(2, '\\n==== HANG: an input ran for more than ' + timeoutMs + ' ms; saved as ' + path.join(crashDir, name) + '\\n');
  fs.writeSync(1, JSON.stringify({ summary: true, harness, hang: path.join(crashDir, name) }) + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, Math.min(1000, Math.max(50, timeoutMs / 4)));
`;

export class Watchdog {
  private readonly counters: Int32Array;
  private readonly input: Uint8Array;
  private readonly worker: Worker;
  private beat = 0;

  constructor(harness: string, crashDir: string, timeoutMs: number) {
    const beats = new SharedArrayBuffer(12);
    const input = new SharedArrayBuffer(MAX_INPUT_BYTES);
    this.counters = new Int32Array(beats);
    this.input = new Uint8Array(input);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { beats, input, timeoutMs, crashDir, harness } });
    // Not unref'd: a harness stuck on a promise that never settles must not let the process exit quietly.
  }

  /** Called before each input: records it, so a hang on it can be saved. */
  starting(data: Uint8Array): void {
    const length = Math.min(data.length, MAX_INPUT_BYTES);
    this.input.set(data.subarray(0, length));
    Atomics.store(this.counters, 1, length);
    Atomics.store(this.counters, 0, ++this.beat);
    Atomics.store(this.counters, 2, 1);
  }

  /** Called after each input. */
  finished(): void {
    Atomics.store(this.counters, 2, 0);
    Atomics.store(this.counters, 0, ++this.beat);
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}
