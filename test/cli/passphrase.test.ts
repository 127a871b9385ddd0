import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NoPassphraseError,
  PassphraseCancelledError,
  PassphraseFileError,
  PassphraseMismatchError,
  resolvePassphrase,
} from '../../src/cli/passphrase.js';
import { EmptyPassphraseError } from '../../src/crypto/key-file.js';

/** A terminal to type at: stdin is a TTY in raw mode on demand, stderr records what is shown. */
const fakeTerminal = () => {
  const rawModes: boolean[] = [];
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    isRaw: false,
    setRawMode(mode: boolean) {
      rawModes.push(mode);
      input.isRaw = mode;
      return input;
    },
  });
  let shown = '';
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      shown += chunk.toString();
      callback();
    },
  });
  return {
    stdin: input as unknown as NodeJS.ReadStream,
    stderr,
    type: (...chunks: Array<string | Buffer>) => chunks.forEach((chunk) => input.write(chunk)),
    rawModes,
    shown: () => shown,
  };
};

/** Stdin that is not a terminal (a pipe). */
const pipe = () => new PassThrough() as unknown as NodeJS.ReadStream;

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'drogulus-passphrase-'));
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

const fileWith = (text: string | Buffer): string => {
  const path = join(folder, 'passphrase');
  writeFileSync(path, text);
  return path;
};

describe('resolvePassphrase from a passphrase file', () => {
  it('takes the first line without its line ending', async () => {
    expect(await resolvePassphrase({ passphraseFile: fileWith('first line\nsecond line\n'), env: {}, stdin: pipe() })).toBe('first line');
    expect(await resolvePassphrase({ passphraseFile: fileWith('windows line\r\nsecond\r\n'), env: {}, stdin: pipe() })).toBe('windows line');
    expect(await resolvePassphrase({ passphraseFile: fileWith('no newline'), env: {}, stdin: pipe() })).toBe('no newline');
  });

  it('keeps spaces inside and around the passphrase', async () => {
    expect(await resolvePassphrase({ passphraseFile: fileWith('  spaced out \n'), env: {}, stdin: pipe() })).toBe('  spaced out ');
  });

  it('drops a UTF-8 byte order mark', async () => {
    expect(await resolvePassphrase({ passphraseFile: fileWith('\uFEFFpässword\n'), env: {}, stdin: pipe() })).toBe('pässword');
  });

  it('reports a missing file with its path', async () => {
    const missing = join(folder, 'absent');
    const attempt = resolvePassphrase({ passphraseFile: missing, env: {}, stdin: pipe() });
    await expect(attempt).rejects.toBeInstanceOf(PassphraseFileError);
    await expect(attempt).rejects.toThrow(`cannot read passphrase file ${missing}: no such file`);
    await expect(attempt).rejects.toMatchObject({ code: 'DROGULUS_PASSPHRASE_FILE_UNREADABLE' });
  });

  it('reports an unreadable file', async () => {
    await expect(resolvePassphrase({ passphraseFile: folder, env: {}, stdin: pipe() })).rejects.toBeInstanceOf(PassphraseFileError);
  });

  it('refuses a file whose first line is empty', async () => {
    await expect(resolvePassphrase({ passphraseFile: fileWith('\nsecret\n'), env: {}, stdin: pipe() })).rejects.toBeInstanceOf(EmptyPassphraseError);
    await expect(resolvePassphrase({ passphraseFile: fileWith(''), env: {}, stdin: pipe() })).rejects.toBeInstanceOf(EmptyPassphraseError);
  });
});

describe('resolvePassphrase from the environment', () => {
  it('takes DROGULUS_PASSPHRASE as it is', async () => {
    expect(await resolvePassphrase({ env: { DROGULUS_PASSPHRASE: ' from env ' }, stdin: pipe() })).toBe(' from env ');
  });

  it('treats an empty DROGULUS_PASSPHRASE as unset', async () => {
    await expect(resolvePassphrase({ env: { DROGULUS_PASSPHRASE: '' }, stdin: pipe() })).rejects.toBeInstanceOf(NoPassphraseError);
  });
});

describe('resolvePassphrase order of precedence', () => {
  it('prefers the passphrase file to the environment and the terminal', async () => {
    const terminal = fakeTerminal();
    const passphrase = await resolvePassphrase({
      passphraseFile: fileWith('from file\n'),
      env: { DROGULUS_PASSPHRASE: 'from env' },
      stdin: terminal.stdin,
      stderr: terminal.stderr,
    });
    expect(passphrase).toBe('from file');
    expect(terminal.rawModes).toEqual([]);
    expect(terminal.shown()).toBe('');
  });

  it('fails on a bad passphrase file rather than falling back to the environment', async () => {
    const attempt = resolvePassphrase({ passphraseFile: join(folder, 'absent'), env: { DROGULUS_PASSPHRASE: 'from env' }, stdin: pipe() });
    await expect(attempt).rejects.toBeInstanceOf(PassphraseFileError);
  });

  it('prefers the environment to the terminal, even when confirmation is asked', async () => {
    const terminal = fakeTerminal();
    const passphrase = await resolvePassphrase({ env: { DROGULUS_PASSPHRASE: 'from env' }, stdin: terminal.stdin, stderr: terminal.stderr, confirm: true });
    expect(passphrase).toBe('from env');
    expect(terminal.rawModes).toEqual([]);
    expect(terminal.shown()).toBe('');
  });

  it('says every way to give a passphrase when there is no terminal and no other source', async () => {
    const attempt = resolvePassphrase({ env: {}, stdin: pipe() });
    await expect(attempt).rejects.toBeInstanceOf(NoPassphraseError);
    await expect(attempt).rejects.toThrow('no passphrase: set DROGULUS_PASSPHRASE, pass --passphrase-file FILE, or run on a terminal');
    await expect(attempt).rejects.toMatchObject({ code: 'DROGULUS_NO_PASSPHRASE' });
  });
});

describe('resolvePassphrase at the terminal prompt', () => {
  it('reads typed characters with backspace until Enter, in raw mode, echoing nothing', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr });
    terminal.type('se', 'x', '\u007f', 'cret', '\r');
    expect(await passphrase).toBe('secret');
    expect(terminal.shown()).toBe('Passphrase: \n');
    expect(terminal.rawModes).toEqual([true, false]);
  });

  it('shows the given prompt on stderr', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr, prompt: 'Key file passphrase: ' });
    terminal.type('pw\r');
    expect(await passphrase).toBe('pw');
    expect(terminal.shown()).toBe('Key file passphrase: \n');
  });

  it('decodes UTF-8 split across chunks and ignores arrow keys', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr });
    const bytes = Buffer.from('pä');
    terminal.type(bytes.subarray(0, 2), bytes.subarray(2), '\u001b[D', 'ss\u001bOA', '\r');
    expect(await passphrase).toBe('päss');
  });

  it('clears the line on Ctrl-U and deletes a whole emoji on backspace', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr });
    terminal.type('typo', '\u0015', 'key🔑', '\b', '\r');
    expect(await passphrase).toBe('key');
  });

  it('asks twice with confirm and gives the passphrase when both match', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr, confirm: true });
    terminal.type('twice\r', 'twice\r');
    expect(await passphrase).toBe('twice');
    expect(terminal.shown()).toBe('Passphrase: \nRepeat passphrase: \n');
    expect(terminal.rawModes).toEqual([true, false]);
  });

  it('treats CR LF as one Enter, even when both answers arrive in one chunk', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr, confirm: true });
    terminal.type('same\r\nsame\r\n');
    expect(await passphrase).toBe('same');
  });

  it('refuses two different answers with confirm', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr, confirm: true });
    terminal.type('first\r', 'second\r');
    await expect(passphrase).rejects.toBeInstanceOf(PassphraseMismatchError);
    await expect(passphrase).rejects.toMatchObject({ code: 'DROGULUS_PASSPHRASE_MISMATCH' });
    expect(terminal.rawModes).toEqual([true, false]);
  });

  it('cancels on Ctrl-C and restores the terminal', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr });
    terminal.type('half', '\u0003', 'more\r');
    await expect(passphrase).rejects.toBeInstanceOf(PassphraseCancelledError);
    await expect(passphrase).rejects.toThrow('passphrase entry cancelled');
    await expect(passphrase).rejects.toMatchObject({ code: 'DROGULUS_PASSPHRASE_CANCELLED' });
    expect(terminal.rawModes).toEqual([true, false]);
    expect(terminal.shown()).toBe('Passphrase: \n');
  });

  it('cancels when the input ends before Enter', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr });
    terminal.type('half');
    (terminal.stdin as unknown as PassThrough).end();
    await expect(passphrase).rejects.toBeInstanceOf(PassphraseCancelledError);
    expect(terminal.rawModes).toEqual([true, false]);
  });

  it('refuses an empty answer without asking again', async () => {
    const terminal = fakeTerminal();
    const passphrase = resolvePassphrase({ env: {}, stdin: terminal.stdin, stderr: terminal.stderr, confirm: true });
    terminal.type('\r');
    await expect(passphrase).rejects.toBeInstanceOf(EmptyPassphraseError);
    expect(terminal.shown()).toBe('Passphrase: \n');
  });
});
