/**
 * Where the key file's passphrase comes from, first match wins: a passphrase
 * file, the DROGULUS_PASSPHRASE environment variable, then a prompt on the
 * terminal that echoes nothing. The result is never empty. Streams and the
 * environment are injected so tests can type at a fake terminal.
 */
import { readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { EmptyPassphraseError } from '../crypto/key-file.js';

export const PASSPHRASE_ENV = 'DROGULUS_PASSPHRASE';
const DEFAULT_PROMPT = 'Passphrase: ';
const CONFIRM_PROMPT = 'Repeat passphrase: ';

export class NoPassphraseError extends Error {
  readonly code = 'DROGULUS_NO_PASSPHRASE';
  override readonly name = 'NoPassphraseError';

  constructor() {
    super(`no passphrase: set ${PASSPHRASE_ENV}, pass --passphrase-file FILE, or run on a terminal`);
  }
}

export class PassphraseFileError extends Error {
  readonly code = 'DROGULUS_PASSPHRASE_FILE_UNREADABLE';
  override readonly name = 'PassphraseFileError';

  constructor(path: string, cause: unknown) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    super(`cannot read passphrase file ${path}: ${reason}`, { cause });
  }
}

export class PassphraseCancelledError extends Error {
  readonly code = 'DROGULUS_PASSPHRASE_CANCELLED';
  override readonly name = 'PassphraseCancelledError';

  constructor() {
    super('passphrase entry cancelled');
  }
}

export class PassphraseMismatchError extends Error {
  readonly code = 'DROGULUS_PASSPHRASE_MISMATCH';
  override readonly name = 'PassphraseMismatchError';

  constructor() {
    super('the passphrases do not match');
  }
}

export interface PassphraseOptions {
  /** `--passphrase-file`: its first line, without the line ending, is the passphrase. */
  passphraseFile?: string;
  /** Default process.env; DROGULUS_PASSPHRASE is read from it (an empty value counts as unset). */
  env?: NodeJS.ProcessEnv;
  /** Default process.stdin; prompted only when it is a TTY. */
  stdin?: NodeJS.ReadStream & { isTTY?: boolean };
  /** Default process.stderr; where the prompt goes, so stdout stays clean. */
  stderr?: NodeJS.WritableStream;
  /** Ask twice at the prompt and require the same answer (keygen). Files and the environment are taken as given. */
  confirm?: boolean;
  /** Default "Passphrase: ". */
  prompt?: string;
}

export const resolvePassphrase = async (options: PassphraseOptions = {}): Promise<string> => {
  if (options.passphraseFile !== undefined) return readPassphraseFile(options.passphraseFile);

  const fromEnv = (options.env ?? process.env)[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;

  const stdin = options.stdin ?? process.stdin;
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function') throw new NoPassphraseError();
  const prompts = [options.prompt ?? DEFAULT_PROMPT];
  if (options.confirm === true) prompts.push(CONFIRM_PROMPT);
  const [first, ...others] = await readHiddenLines(stdin, options.stderr ?? process.stderr, prompts);
  if (others.some((other) => other !== first)) throw new PassphraseMismatchError();
  return first;
};

const readPassphraseFile = async (path: string): Promise<string> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PassphraseFileError(path, error);
  }
  // A byte order mark is an editor's doing, not part of the passphrase.
  const firstLine = text.replace(/^\uFEFF/, '').split('\n')[0].replace(/\r+$/, '');
  if (firstLine === '') throw new EmptyPassphraseError(`the passphrase file ${path} starts with an empty line`);
  return firstLine;
};

/**
 * Shows each prompt on `stderr` and reads one line per prompt from `stdin` in
 * raw mode, echoing nothing. Backspace deletes a character, Ctrl-U the line,
 * Enter ends it; Ctrl-C, Ctrl-D or the end of input cancel. Terminal escape
 * sequences (arrow keys) are ignored. Raw mode is restored on every path.
 */
const readHiddenLines = (stdin: NodeJS.ReadStream, stderr: NodeJS.WritableStream, prompts: string[]): Promise<string[]> =>
  new Promise((resolve, reject) => {
    const answers: string[] = [];
    const decoder = new StringDecoder('utf8');
    const wasRaw = stdin.isRaw === true;
    let line: string[] = [];
    let afterCarriageReturn = false;
    let escape: 'none' | 'started' | 'sequence' = 'none';

    const finish = (error: Error | undefined, rest = ''): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      if (rest !== '') stdin.unshift(Buffer.from(rest));
      stderr.write('\n');
      if (error === undefined) resolve(answers);
      else reject(error);
    };

    /** Handles one character: more are needed, every prompt is answered, or entry failed. */
    const take = (char: string): 'more' | 'answered' | Error => {
      const wasAfterCarriageReturn = afterCarriageReturn;
      afterCarriageReturn = char === '\r';
      if (escape === 'started') {
        escape = char === '[' || char === 'O' ? 'sequence' : 'none';
        return 'more';
      }
      if (escape === 'sequence') {
        if (char >= '@' && char <= '~') escape = 'none';
        return 'more';
      }
      if (char === '\n' && wasAfterCarriageReturn) return 'more'; // the second half of CR LF
      switch (char) {
        case '\n':
        case '\r':
          if (line.length === 0) return new EmptyPassphraseError();
          answers.push(line.join(''));
          line = [];
          if (answers.length === prompts.length) return 'answered';
          stderr.write(`\n${prompts[answers.length]}`);
          return 'more';
        case '\u0003': // Ctrl-C
        case '\u0004': // Ctrl-D
          return new PassphraseCancelledError();
        case '\u007f': // Backspace on most terminals
        case '\b':
          line.pop();
          return 'more';
        case '\u0015': // Ctrl-U
          line = [];
          return 'more';
        case '\u001b':
          escape = 'started';
          return 'more';
        default:
          if (char >= ' ') line.push(char);
          return 'more';
      }
    };

    const onData = (chunk: Buffer | string): void => {
      const chars = Array.from(typeof chunk === 'string' ? chunk : decoder.write(chunk));
      for (let i = 0; i < chars.length; i++) {
        const step = take(chars[i]);
        if (step === 'more') continue;
        if (step !== 'answered') return finish(step);
        // Input typed ahead of the last Enter goes back to the stream for its next reader.
        const rest = chars.slice(i + 1).join('');
        return finish(undefined, afterCarriageReturn ? rest.replace(/^\n/, '') : rest);
      }
    };
    const onEnd = (): void => finish(new PassphraseCancelledError());
    const onError = (error: Error): void => finish(error);

    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
    stderr.write(prompts[0]);
  });
