/**
 * `drogulus start`: runs a node until SIGINT/SIGTERM. Joins through
 * --bootstrap, --peers or the routing table saved last time; serves the local
 * API; on a signal stops taking requests, finishes or cancels what is in
 * flight, saves the table and exits 0.
 */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { toHex } from '../../crypto/bytes.js';
import { MAX_DIFFICULTY, meetsDifficulty, puzzleBits } from '../../crypto/puzzle.js';
import { readKeyFile, WrongPassphraseError, KeyFileMissingError, KeyFileInvalidError } from '../../crypto/key-file.js';
import { parseSeedList, readPeersFile } from '../addresses.js';
import { ensureApiToken } from '../api-token.js';
import { context, parseInteger, withCommon, type CommonOptions } from '../common.js';
import { ensureDataDir, FILES } from '../data-dir.js';
import { CliError, ExitCode, usageError } from '../exit-codes.js';
import { createLogger, LOG_LEVELS } from '../logger.js';
import { resolvePassphrase } from '../passphrase.js';
import { readProfile } from '../profile.js';
import { runNode } from '../run-node.js';

interface StartOptions extends CommonOptions {
  port: number;
  host: string;
  bootstrap?: string;
  peers?: string;
  apiPort: number;
  apiHost: string;
  logLevel: string;
  passphraseFile?: string;
  apiAllowedHost?: string[];
  difficulty: number;
}

export const registerStart = (program: Command): void => {
  withCommon(program.command('start'))
    .description('run a node until interrupted')
    .option('--port <port>', 'UDP and TCP port for the DHT', parseInteger('--port', 0, 65535), 1908)
    .option('--host <addr>', 'address to listen on for the DHT', '0.0.0.0')
    .option('--bootstrap <list>', 'comma-separated HOST:PORT[@PUBLIC_KEY] of nodes to join through')
    .option('--peers <file>', 'a peers file: a saved routing table (JSON) or HOST:PORT[@KEY] lines')
    .option('--api-port <port>', 'port of the local HTTP API', parseInteger('--api-port', 0, 65535), 1909)
    .option('--api-host <addr>', 'address of the local HTTP API', '127.0.0.1')
    .option('--api-allowed-host <name>', 'a further Host name the API answers to, e.g. when it listens beyond loopback (repeatable)', (name: string, previous: string[] = []) => [...previous, name])
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('info'))
    .option('--passphrase-file <file>', 'read the key passphrase from the first line of FILE')
    .option(
      '--difficulty <bits>',
      'the network\'s Sybil puzzle: refuse contacts whose key does not meet it, and announce it (every node of a network must agree; make a key with keygen --difficulty)',
      parseInteger('--difficulty', 0, MAX_DIFFICULTY),
      0,
    )
    .action(async (opts: StartOptions) => {
      const { dataDir, out } = context(opts);
      ensureDataDir(dataDir);
      const seeds = opts.bootstrap ? parseSeedList(opts.bootstrap) : opts.peers ? readPeersFile(opts.peers) : undefined;
      const passphrase = await resolvePassphrase({ passphraseFile: opts.passphraseFile, prompt: 'Passphrase for the node key: ' });
      let identity;
      try {
        identity = readKeyFile(join(dataDir, FILES.key), passphrase);
      } catch (error) {
        if (error instanceof WrongPassphraseError || error instanceof KeyFileMissingError || error instanceof KeyFileInvalidError) throw new CliError(error.message, ExitCode.Usage);
        throw error;
      }
      if (!meetsDifficulty(identity.nodeId, opts.difficulty)) {
        throw usageError(`this node's key meets difficulty ${puzzleBits(identity.nodeId)}, below --difficulty ${opts.difficulty}: make one with \`drogulus keygen --difficulty ${opts.difficulty} --force\` (a new identity)`);
      }
      if (opts.apiHost !== '127.0.0.1' && opts.apiHost !== '::1' && opts.apiHost !== 'localhost') {
        process.stderr.write(`WARNING: the local API will listen on ${opts.apiHost}, reachable from other machines; only the token protects writes.\n`);
      }
      const logger = createLogger({ dataDir, level: opts.logLevel, terminal: !opts.json });
      let running;
      try {
        running = await runNode({
          identity,
          dataDir,
          host: opts.host,
          port: opts.port,
          apiHost: opts.apiHost,
          apiPort: opts.apiPort,
          apiToken: ensureApiToken(dataDir),
          logger,
          profile: readProfile(dataDir),
          apiAllowedHosts: opts.apiAllowedHost,
          nodeOptions: { difficulty: opts.difficulty },
        });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw usageError(`address in use: ${(error as Error).message}`);
        throw error;
      }
      const node = running;
      const stopped = new Promise<void>((resolve) => {
        let signalled = false;
        const onSignal = (signal: NodeJS.Signals): void => {
          if (signalled) return;
          signalled = true;
          logger.info({ signal }, 'stopping');
          void node.stop().then(resolve);
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      out.result(
        { public_key: toHex(node.node.publicKey), node_id: toHex(node.node.nodeId), port: node.transport.localAddress.port, api: node.apiUrl },
        `drogulus node ${toHex(node.node.publicKey)} on port ${node.transport.localAddress.port}; API ${node.apiUrl}`,
      );
      await node.keepJoining(seeds);
      await stopped;
    });
};
