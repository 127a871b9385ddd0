/**
 * What commands print: plain lines for people, one JSON object with --json,
 * and progress (a bar, a spinner) on stderr only when it is a terminal.
 */
export interface Output {
  readonly json: boolean;
  /** Prints `human` for people, or `data` as JSON with --json. */
  result(data: unknown, human: string): void;
  /** A line of information for people; nothing with --json. */
  info(line: string): void;
}

export const createOutput = (json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output => ({
  json,
  result(data, human) {
    stdout.write(json ? `${JSON.stringify(data)}\n` : human.endsWith('\n') ? human : `${human}\n`);
  },
  info(line) {
    if (!json) stderr.write(`${line}\n`);
  },
});

const isTerminal = (stream: NodeJS.WritableStream): boolean => (stream as NodeJS.WriteStream).isTTY === true;

/** A progress bar of `done` out of `total`, redrawn in place on a terminal. */
export class ProgressBar {
  private lastLine = '';

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WritableStream = process.stderr,
    private readonly width = 20,
  ) {}

  update(done: number, total: number, note = ''): void {
    if (!isTerminal(this.stream)) return;
    const filled = total > 0 ? Math.round((Math.min(done, total) / total) * this.width) : 0;
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${done}/${total} ${note}`.trimEnd();
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.stream.write(`\r\x1b[2K${line}`);
  }

  finish(): void {
    if (isTerminal(this.stream) && this.lastLine) this.stream.write('\n');
  }
}

/** A spinner while something runs, on a terminal only; returns its stopper. */
export const startSpinner = (label: string, stream: NodeJS.WritableStream = process.stderr): (() => void) => {
  if (!isTerminal(stream)) return () => undefined;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const timer = setInterval(() => stream.write(`\r\x1b[2K${frames[i++ % frames.length]} ${label}`), 80);
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[2K');
  };
};
