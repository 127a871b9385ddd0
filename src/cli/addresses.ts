/**
 * Parsing of HOST:PORT lists and peers files given on the command line.
 */
import { readFileSync } from 'node:fs';
import type { Seed } from '../dht/node.js';
import type { TableSnapshot } from '../routing/routing-table.js';
import { fromHex } from '../crypto/bytes.js';
import { usageError } from './exit-codes.js';

/** "HOST:PORT", "[IPv6]:PORT", optionally followed by "@PUBLIC_KEY_HEX". */
export const parseSeed = (text: string): Seed => {
  const [address, keyHex] = text.trim().split('@');
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!match) throw usageError(`"${text}" is not HOST:PORT (use [ADDRESS]:PORT for IPv6)`);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`port in "${text}" must be 1..65535`);
  let publicKey: Buffer | undefined;
  if (keyHex !== undefined) {
    publicKey = fromHex(keyHex, 32);
    if (!publicKey) throw usageError(`public key in "${text}" must be 64 hex characters`);
  }
  return { host: match[1], port, ...(publicKey ? { publicKey } : {}) };
};

export const parseSeedList = (text: string): Seed[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseSeed);

/** A peers file: a saved routing table (JSON), or one HOST:PORT[@KEY] per line. */
export const readPeersFile = (path: string): Seed[] | TableSnapshot => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw usageError(`cannot read peers file ${path}: ${(error as Error).message}`);
  }
  if (text.trim().startsWith('{')) {
    try {
      return JSON.parse(text) as TableSnapshot;
    } catch (error) {
      throw usageError(`peers file ${path} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0)
    .map(parseSeed);
};
