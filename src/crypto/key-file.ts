/**
 * The node's private key on disk: an encrypted PKCS#8 PEM that OpenSSL reads
 * (`openssl pkey -in node-key.pem -passin pass:…`). A key file is written
 * atomically with mode 0600 and never silently overwritten; reading one gives
 * back the Identity or an error with a stable code.
 */
import { createPrivateKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { bytesEqual } from './bytes.js';
import { Identity, SEED_BYTES } from './identity.js';

export const KEY_FILE_NAME = 'node-key.pem';

/**
 * Node's `cipher` export uses OpenSSL's PKCS8_encrypt: PBES2 with PBKDF2
 * (hmacWithSHA256, 8-byte salt) and PKCS5_DEFAULT_ITER = 2048 iterations in
 * OpenSSL 3.0, which node does not let us raise. That costs an attacker about a
 * millisecond per guess, so the passphrase itself must be strong. Files made
 * with more iterations (`openssl pkcs8 -topk8 -iter N`) read just the same.
 */
const PEM_CIPHER = 'aes-256-cbc';
const ENCRYPTED_LABEL = 'ENCRYPTED PRIVATE KEY';
const FILE_MODE = 0o600;

/** Every key file error: a stable `code` for programs, the path for people. */
export abstract class KeyFileError extends Error {
  abstract readonly code: string;
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

export class KeyFileExistsError extends KeyFileError {
  readonly code = 'DROGULUS_KEY_FILE_EXISTS';
  override readonly name = 'KeyFileExistsError';

  constructor(path: string) {
    super(path, `a key file already exists at ${path}: refusing to overwrite it`);
  }
}

export class KeyFileMissingError extends KeyFileError {
  readonly code = 'DROGULUS_KEY_FILE_MISSING';
  override readonly name = 'KeyFileMissingError';

  constructor(path: string) {
    super(path, `no key file at ${path}: run \`drogulus keygen\` first`);
  }
}

export class KeyFileInvalidError extends KeyFileError {
  readonly code = 'DROGULUS_KEY_FILE_INVALID';
  override readonly name = 'KeyFileInvalidError';

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(path, `invalid key file ${path}: ${reason}`, options);
  }
}

export class WrongPassphraseError extends KeyFileError {
  readonly code = 'DROGULUS_WRONG_PASSPHRASE';
  override readonly name = 'WrongPassphraseError';

  constructor(path: string, options?: { cause?: unknown }) {
    super(path, `wrong passphrase for key file ${path}`, options);
  }
}

export class EmptyPassphraseError extends Error {
  readonly code = 'DROGULUS_EMPTY_PASSPHRASE';
  override readonly name = 'EmptyPassphraseError';

  constructor(message = 'the passphrase is empty: a key file needs a non-empty passphrase') {
    super(message);
  }
}

/** Encrypts the identity's seed under the passphrase as a PKCS#8 PEM. */
const encryptedPem = (identity: Identity, passphrase: string): string => {
  const seed = identity.seed();
  try {
    const key = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: identity.publicKey.toString('base64url') },
      format: 'jwk',
    });
    return key.export({ type: 'pkcs8', format: 'pem', cipher: PEM_CIPHER, passphrase }) as string;
  } finally {
    seed.fill(0);
  }
};

/**
 * Writes the identity's key to `path`: a temporary file in the same folder
 * (mode 0600, fsynced) that is then linked or renamed into place, so a crash
 * leaves either no key file or a whole one. Refuses to replace an existing
 * file unless `force`.
 */
export const writeKeyFile = (path: string, identity: Identity, passphrase: string, options: { force?: boolean } = {}): void => {
  if (passphrase.length === 0) throw new EmptyPassphraseError();
  const force = options.force ?? false;
  if (!force && existsSync(path)) throw new KeyFileExistsError(path);

  const pem = encryptedPem(identity, passphrase);
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx', FILE_MODE);
  try {
    try {
      fchmodSync(fd, FILE_MODE); // the umask may have taken bits away; 0600 exactly
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (force) renameSync(temporary, path);
    else linkWithoutOverwrite(temporary, path);
  } finally {
    if (existsSync(temporary)) unlinkSync(temporary);
  }
  syncFolder(dirname(path));
};

/** link(2) fails on an existing target, closing the race that existsSync leaves open. */
const linkWithoutOverwrite = (from: string, to: string): void => {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') throw new KeyFileExistsError(to);
    // Some file systems (FAT, some network and VM shares) have no hard links.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    if (existsSync(to)) throw new KeyFileExistsError(to);
    renameSync(from, to);
  }
};

/** Makes the new directory entry durable; platforms that cannot fsync a folder (Windows) are skipped. */
const syncFolder = (folder: string): void => {
  let fd: number;
  try {
    fd = openSync(folder, 'r');
  } catch (error) {
    if (errorCode(error) === 'EISDIR' || errorCode(error) === 'EPERM') return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (errorCode(error) !== 'EINVAL' && errorCode(error) !== 'EPERM') throw error;
  } finally {
    closeSync(fd);
  }
};

/**
 * Reads the key file at `path` and gives back its identity. AES-CBC has no
 * MAC: a wrong passphrase usually fails the padding check, but about one in 256
 * passes it and fails later while decoding. Both are reported as a wrong
 * passphrase when the encrypted envelope itself is well formed.
 */
export const readKeyFile = (path: string, passphrase: string): Identity => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new KeyFileMissingError(path);
    throw error;
  }

  const pem = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (pem === null) throw new KeyFileInvalidError(path, 'it holds no PEM block');
  const [block, label, body] = pem;
  if (label === 'PRIVATE KEY') throw new KeyFileInvalidError(path, 'the key is not encrypted');
  if (label !== ENCRYPTED_LABEL) throw new KeyFileInvalidError(path, `expected "${ENCRYPTED_LABEL}", found "${label}"`);
  if (!/^[A-Za-z0-9+/=\s]*$/.test(body) || !isEncryptedKeyInfo(Buffer.from(body, 'base64'))) {
    throw new KeyFileInvalidError(path, 'the encrypted key is damaged');
  }

  let key: KeyObject;
  try {
    key = createPrivateKey({ key: block, format: 'pem', passphrase });
  } catch (error) {
    throw new WrongPassphraseError(path, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFileInvalidError(path, `it holds ${key.asymmetricKeyType ?? 'an unknown'} key, not an Ed25519 key`);
  }
  return identityOf(path, key.export({ format: 'jwk' }));
};

const identityOf = (path: string, jwk: JsonWebKey): Identity => {
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  try {
    if (seed.length !== SEED_BYTES) throw new KeyFileInvalidError(path, `the Ed25519 seed is ${seed.length} bytes, not ${SEED_BYTES}`);
    const identity = Identity.fromSeed(seed);
    if (jwk.x !== undefined && !bytesEqual(identity.publicKey, Buffer.from(jwk.x, 'base64url'))) {
      throw new KeyFileInvalidError(path, 'the public key does not match the private key');
    }
    return identity;
  } finally {
    seed.fill(0);
  }
};

/**
 * Whether the bytes are DER of the EncryptedPrivateKeyInfo shape (RFC 5208):
 * SEQUENCE { SEQUENCE { OBJECT IDENTIFIER, … }, OCTET STRING }, nothing after.
 */
const isEncryptedKeyInfo = (der: Buffer): boolean => {
  const outer = readTlv(der, 0);
  if (outer?.tag !== 0x30 || outer.end !== der.length) return false;
  const algorithm = readTlv(der, outer.start);
  if (algorithm?.tag !== 0x30 || readTlv(der, algorithm.start)?.tag !== 0x06) return false;
  const encrypted = readTlv(der, algorithm.end);
  return encrypted?.tag === 0x04 && encrypted.end === outer.end && encrypted.end > encrypted.start;
};

/** One DER tag-length-value at `offset`: its tag and where its contents start and end. */
const readTlv = (der: Buffer, offset: number): { tag: number; start: number; end: number } | undefined => {
  if (offset + 2 > der.length) return undefined;
  const tag = der[offset];
  const first = der[offset + 1];
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || start + count > der.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    start += count;
  }
  const end = start + length;
  return end <= der.length ? { tag, start, end } : undefined;
};

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
