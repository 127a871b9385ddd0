/**
 * What a fuzz harness is: a function from bytes to a check that throws (or
 * rejects) when a property fails, with the seeds, dictionary and structure-aware
 * mutations that help the engine reach deep into the code under test.
 */
import type { Rng } from './rng.js';

export interface Harness {
  readonly name: string;
  /** One line for the run log. */
  readonly description: string;
  /** Inputs longer than this are cut. */
  readonly maxLength: number;
  /** Runs one input; throws or rejects when a property fails. Returns a promise only when it must wait. */
  run(data: Buffer): void | Promise<void>;
  /** Seeds generated in code (fuzz/make-corpus.ts writes them to fuzz/corpus/<name>/). */
  seeds(): Array<{ readonly name: string; readonly data: Buffer }>;
  /** Tokens the byte mutations insert. */
  readonly dictionary?: readonly Uint8Array[];
  /** A structure-aware mutation, tried for some of the inputs; undefined when it does not apply. */
  mutate?(data: Buffer, rng: Rng): Buffer | undefined;
}

/** A property the harness checks failed: the message says which. */
export class PropertyFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyFailure';
  }
}

export const check = (condition: boolean, message: string | (() => string)): void => {
  if (!condition) throw new PropertyFailure(typeof message === 'string' ? message : message());
};
