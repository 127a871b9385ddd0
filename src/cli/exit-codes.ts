/**
 * The command's exit codes, stable for scripts: 0 success, 1 not found,
 * 2 usage or bad input, 3 node or network failure.
 */
export const ExitCode = {
  Ok: 0,
  NotFound: 1,
  Usage: 2,
  Failure: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a message for people and a given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.Usage);
export const notFound = (message: string): CliError => new CliError(message, ExitCode.NotFound);
export const failure = (message: string): CliError => new CliError(message, ExitCode.Failure);
