/** `drogulus keygen`: makes the node's key pair, stored encrypted in the data dir. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../../crypto/bytes.js';
import { Identity } from '../../crypto/identity.js';
import { writeKeyFile } from '../../crypto/key-file.js';
import { grindIdentity, MAX_DIFFICULTY } from '../../crypto/puzzle.js';
import { context, parseInteger, withCommon, type CommonOptions } from '../common.js';
import { ensureDataDir, FILES } from '../data-dir.js';
import { usageError } from '../exit-codes.js';
import { resolvePassphrase } from '../passphrase.js';

export const registerKeygen = (program: Command): void => {
  withCommon(program.command('keygen'))
    .description('make this node\'s Ed25519 key pair, encrypted with a passphrase')
    .option('--force', 'replace an existing key (the old identity is lost)')
    .option('--passphrase-file <file>', 'read the passphrase from the first line of FILE')
    .option('--difficulty <bits>', 'make a key that meets the Sybil puzzle at this difficulty: 2^bits key pairs tried on average', parseInteger('--difficulty', 0, MAX_DIFFICULTY), 0)
    .action(async (opts: CommonOptions & { force?: boolean; passphraseFile?: string; difficulty: number }) => {
      const { dataDir, out } = context(opts);
      const path = join(ensureDataDir(dataDir), FILES.key);
      if (existsSync(path) && !opts.force) throw usageError(`a key already exists at ${path}; pass --force to replace it`);
      const passphrase = await resolvePassphrase({ passphraseFile: opts.passphraseFile, confirm: true, prompt: 'New passphrase for the node key: ' });
      const { identity, attempts } = opts.difficulty > 0 ? grindIdentity(opts.difficulty) : { identity: Identity.generate(), attempts: 1 };
      writeKeyFile(path, identity, passphrase, { force: opts.force === true });
      const publicKey = toHex(identity.publicKey);
      const nodeId = toHex(identity.nodeId);
      out.result(
        { public_key: publicKey, node_id: nodeId, difficulty: opts.difficulty, attempts },
        `public key  ${publicKey}\nnode id     ${nodeId}\nkey file    ${path}${opts.difficulty > 0 ? `\npuzzle      difficulty ${opts.difficulty}, ${attempts} key pairs tried` : ''}`,
      );
    });
};
