/**
 * Options every command shares (--data-dir, --json) and the helpers client
 * commands use to reach the running node's API.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DrogulusClient } from '../api/client.js';
import { readApiToken } from './api-token.js';
import { resolveDataDir } from './data-dir.js';
import { createOutput, type Output } from './output.js';

export interface CommonOptions {
  readonly dataDir?: string;
  readonly json?: boolean;
}

export interface ClientOptions extends CommonOptions {
  readonly api: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:1909';

export const withCommon = (command: Command): Command =>
  command
    .option('--data-dir <dir>', 'the node\'s data directory (default: $DROGULUS_HOME, else the platform data dir)')
    .option('--json', 'machine-readable output: one JSON object');

export const withApi = (command: Command): Command =>
  withCommon(command).addOption(new Option('--api <url>', 'the running node\'s local API').default(DEFAULT_API_URL).env('DROGULUS_API'));

export const context = (opts: CommonOptions): { dataDir: string; out: Output } => ({
  dataDir: resolveDataDir(opts.dataDir),
  out: createOutput(opts.json === true),
});

/** A client of the node's API, with the token from the data dir when there is one. */
export const apiClient = (opts: ClientOptions): DrogulusClient => {
  const dataDir = resolveDataDir(opts.dataDir);
  return new DrogulusClient({ baseUrl: opts.api, token: process.env.DROGULUS_API_TOKEN ?? readApiToken(dataDir) });
};

export const parseInteger =
  (name: string, min: number, max: number) =>
  (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };

export const parseNonNegative =
  (name: string) =>
  (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number of seconds, 0 or more`);
    return n;
  };
