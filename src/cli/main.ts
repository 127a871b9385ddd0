#!/usr/bin/env node
/**
 * The drogulus command: keygen, whoami, start, set, get, whois, peers, status,
 * devnet and sim. Exit codes: 0 success, 1 not found, 2 usage or bad input,
 * 3 node or network failure.
 */
import { Command, CommanderError } from 'commander';
import { registerClientCommands } from './commands/client-commands.js';
import { registerDevnet } from './commands/devnet.js';
import { registerKeygen } from './commands/keygen.js';
import { registerSim } from './commands/sim.js';
import { registerStart } from './commands/start.js';
import { registerWhoami } from './commands/whoami.js';
import { CliError, ExitCode } from './exit-codes.js';
import { VERSION } from './version.js';

export const buildProgram = (): Command => {
  const program = new Command()
    .name('drogulus')
    .description('An openly writable, decentralised key/value store on a Kademlia DHT')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();
  registerKeygen(program);
  registerWhoami(program);
  registerStart(program);
  registerClientCommands(program);
  registerDevnet(program);
  registerSim(program);
  return program;
};

const main = async (): Promise<void> => {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`drogulus: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`drogulus: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = ExitCode.Failure;
  }
};

await main();
// Exit explicitly: a keep-alive socket of the API client must not hold the process open.
process.exit(process.exitCode ?? ExitCode.Ok);
