import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { Identity } from '../../src/crypto/identity.js';
import {
  EmptyPassphraseError,
  KEY_FILE_NAME,
  KeyFileError,
  KeyFileExistsError,
  KeyFileInvalidError,
  KeyFileMissingError,
  readKeyFile,
  WrongPassphraseError,
  writeKeyFile,
} from '../../src/crypto/key-file.js';

const PASSPHRASE = 'correct horse battery staple';
const identity = Identity.fromSeed(Buffer.alloc(32, 42));

let folder: string;
let keyPath: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'drogulus-key-file-'));
  keyPath = join(folder, KEY_FILE_NAME);
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

describe('writeKeyFile and readKeyFile', () => {
  it('give back an identity with the same public key that signs identically', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const read = readKeyFile(keyPath, PASSPHRASE);
    expect(toHex(read.publicKey)).toBe(toHex(identity.publicKey));
    expect(toHex(read.nodeId)).toBe(toHex(identity.nodeId));
    expect(toHex(read.sign(Buffer.from('a message')))).toBe(toHex(identity.sign(Buffer.from('a message'))));
  });

  it('round-trip a passphrase with non-ASCII characters', () => {
    writeKeyFile(keyPath, identity, 'pässwörd 🔑');
    expect(toHex(readKeyFile(keyPath, 'pässwörd 🔑').publicKey)).toBe(toHex(identity.publicKey));
  });

  it('write an encrypted PKCS#8 PEM with mode 0600 and leave no temporary file behind', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    expect(readFileSync(keyPath, 'utf8').startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----\n')).toBe(true);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(folder)).toEqual([KEY_FILE_NAME]);
  });

  it('write mode 0600 exactly whatever the umask', () => {
    for (const umask of [0o000, 0o277]) {
      const path = join(folder, `key-${umask}.pem`);
      const previous = process.umask(umask);
      try {
        writeKeyFile(path, identity, PASSPHRASE);
      } finally {
        process.umask(previous);
      }
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
  });

  it('encrypt afresh each time, so the same key and passphrase give different files', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const first = readFileSync(keyPath, 'utf8');
    writeKeyFile(keyPath, identity, PASSPHRASE, { force: true });
    expect(readFileSync(keyPath, 'utf8')).not.toBe(first);
  });
});

describe('writeKeyFile', () => {
  it('refuses to overwrite an existing key file and leaves it untouched', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const before = readFileSync(keyPath, 'utf8');
    const error = thrown(() => writeKeyFile(keyPath, Identity.fromSeed(Buffer.alloc(32, 1)), PASSPHRASE));
    expect(error).toBeInstanceOf(KeyFileExistsError);
    expect((error as KeyFileExistsError).code).toBe('DROGULUS_KEY_FILE_EXISTS');
    expect((error as Error).message).toContain(keyPath);
    expect(readFileSync(keyPath, 'utf8')).toBe(before);
    expect(readdirSync(folder)).toEqual([KEY_FILE_NAME]);
  });

  it('refuses to replace any existing file, not only a key file', () => {
    writeFileSync(keyPath, 'something else');
    expect(() => writeKeyFile(keyPath, identity, PASSPHRASE)).toThrow(KeyFileExistsError);
    expect(readFileSync(keyPath, 'utf8')).toBe('something else');
  });

  it('overwrites with force, keeping mode 0600', () => {
    writeFileSync(keyPath, 'old', { mode: 0o644 });
    const other = Identity.fromSeed(Buffer.alloc(32, 1));
    writeKeyFile(keyPath, other, PASSPHRASE, { force: true });
    expect(toHex(readKeyFile(keyPath, PASSPHRASE).publicKey)).toBe(toHex(other.publicKey));
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(folder)).toEqual([KEY_FILE_NAME]);
  });

  it('refuses an empty passphrase and writes nothing', () => {
    const error = thrown(() => writeKeyFile(keyPath, identity, ''));
    expect(error).toBeInstanceOf(EmptyPassphraseError);
    expect((error as EmptyPassphraseError).code).toBe('DROGULUS_EMPTY_PASSPHRASE');
    expect((error as Error).message).toMatch(/empty/);
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe('readKeyFile', () => {
  it('reports a wrong passphrase with the path', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const error = thrown(() => readKeyFile(keyPath, 'not the passphrase'));
    expect(error).toBeInstanceOf(WrongPassphraseError);
    expect(error).toBeInstanceOf(KeyFileError);
    expect((error as WrongPassphraseError).code).toBe('DROGULUS_WRONG_PASSPHRASE');
    expect((error as Error).message).toBe(`wrong passphrase for key file ${keyPath}`);
    expect(() => readKeyFile(keyPath, '')).toThrow(WrongPassphraseError);
  });

  it('reports a wrong passphrase even when the wrong key happens to give valid CBC padding', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const pem = readFileSync(keyPath, 'utf8');
    // About one wrong passphrase in 256 passes the padding check and fails while decoding instead.
    let luckyGuess: string | undefined;
    for (let i = 0; luckyGuess === undefined && i < 10_000; i++) {
      try {
        createPrivateKey({ key: pem, format: 'pem', passphrase: `guess ${i}` });
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_OSSL_BAD_DECRYPT') luckyGuess = `guess ${i}`;
      }
    }
    expect(luckyGuess).toBeDefined();
    expect(() => readKeyFile(keyPath, luckyGuess as string)).toThrow(WrongPassphraseError);
  });

  it('reports a missing file and says how to make one', () => {
    const error = thrown(() => readKeyFile(keyPath, PASSPHRASE));
    expect(error).toBeInstanceOf(KeyFileMissingError);
    expect((error as KeyFileMissingError).code).toBe('DROGULUS_KEY_FILE_MISSING');
    expect((error as Error).message).toBe(`no key file at ${keyPath}: run \`drogulus keygen\` first`);
  });

  it('refuses a file that is not a PEM', () => {
    writeFileSync(keyPath, 'this is not a key\n');
    const error = thrown(() => readKeyFile(keyPath, PASSPHRASE));
    expect(error).toBeInstanceOf(KeyFileInvalidError);
    expect((error as KeyFileInvalidError).code).toBe('DROGULUS_KEY_FILE_INVALID');
    expect((error as Error).message).toContain(keyPath);
  });

  it('refuses a key file whose encrypted contents are truncated or not base64', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const lines = readFileSync(keyPath, 'utf8').split('\n');
    writeFileSync(keyPath, [...lines.slice(0, 2), ...lines.slice(3)].join('\n'));
    expect(() => readKeyFile(keyPath, PASSPHRASE)).toThrow(KeyFileInvalidError);
    writeFileSync(keyPath, [lines[0], '!!!! not base64 !!!!', lines.at(-2)].join('\n'));
    expect(() => readKeyFile(keyPath, PASSPHRASE)).toThrow(KeyFileInvalidError);
  });

  it('refuses an unencrypted Ed25519 key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => readKeyFile(keyPath, PASSPHRASE)).toThrow(KeyFileInvalidError);
    expect(() => readKeyFile(keyPath, PASSPHRASE)).toThrow(/not encrypted/);
  });

  it.each([
    ['RSA', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, /rsa key, not an Ed25519 key/],
    ['X25519', generateKeyPairSync('x25519').privateKey, /x25519 key, not an Ed25519 key/],
    ['Ed448', generateKeyPairSync('ed448').privateKey, /ed448 key, not an Ed25519 key/],
  ])('refuses an encrypted %s key', (_name, privateKey, message) => {
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }));
    expect(() => readKeyFile(keyPath, PASSPHRASE)).toThrow(KeyFileInvalidError);
    expect(() => readKeyFile(keyPath, PASSPHRASE)).toThrow(message);
  });

  it('refuses a legacy OpenSSL-encrypted RSA key', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }));
    expect(() => readKeyFile(keyPath, PASSPHRASE)).toThrow(/expected "ENCRYPTED PRIVATE KEY", found "RSA PRIVATE KEY"/);
  });
});

describe('key files and the openssl command', () => {
  const openssl = (args: string[], input?: string | Buffer): Buffer =>
    execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });

  beforeAll(() => {
    try {
      openssl(['version']);
    } catch (error) {
      throw new Error('these tests need the openssl command on PATH (Debian/Ubuntu: apt-get install openssl)', { cause: error });
    }
  });

  it('lets openssl read a key file with the right passphrase and refuse a wrong one', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    expect(openssl(['pkey', '-in', keyPath, '-passin', `pass:${PASSPHRASE}`, '-noout', '-text']).toString()).toMatch(/ED25519 Private-Key/);
    expect(() => openssl(['pkey', '-in', keyPath, '-passin', 'pass:wrong', '-noout', '-text'])).toThrow();
  });

  it('gives openssl the identity public key', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const der = openssl(['pkey', '-in', keyPath, '-passin', `pass:${PASSPHRASE}`, '-pubout', '-outform', 'DER']);
    expect(toHex(der.subarray(-32))).toBe(toHex(identity.publicKey));
  });

  it('encrypts with PBES2, PBKDF2 and AES-256-CBC', () => {
    writeKeyFile(keyPath, identity, PASSPHRASE);
    const structure = openssl(['asn1parse', '-in', keyPath]).toString();
    expect(structure).toMatch(/:PBES2/);
    expect(structure).toMatch(/:PBKDF2/);
    expect(structure).toMatch(/:aes-256-cbc/);
  });

  it.each([[[] as string[]], [['-iter', '100000']]])('reads a key made by openssl genpkey and pkcs8 -topk8 -v2 aes-256-cbc %j', (extra) => {
    const plain = openssl(['genpkey', '-algorithm', 'ed25519']);
    const encrypted = openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', ...extra, '-passout', `pass:${PASSPHRASE}`], plain);
    writeFileSync(keyPath, encrypted);
    const publicDer = openssl(['pkey', '-pubout', '-outform', 'DER'], plain);
    const read = readKeyFile(keyPath, PASSPHRASE);
    expect(toHex(read.publicKey)).toBe(toHex(publicDer.subarray(-32)));
    expect(() => readKeyFile(keyPath, 'wrong')).toThrow(WrongPassphraseError);
  });
});
