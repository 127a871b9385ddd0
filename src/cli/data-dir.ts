/**
 * Where a node keeps its files: --data-dir, else $DROGULUS_HOME, else the
 * platform's data directory. The directory is private to its user (0700).
 */
import { mkdirSync, chmodSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join, resolve } from 'node:path';

export const FILES = Object.freeze({
  key: 'node-key.pem',
  database: 'drogulus.db',
  apiToken: 'api-token',
  profile: 'profile.json',
  log: 'drogulus.log',
  pid: 'drogulus.pid',
});

export const defaultDataDir = (env: NodeJS.ProcessEnv = process.env): string => {
  if (env.DROGULUS_HOME) return resolve(env.DROGULUS_HOME);
  const home = homedir();
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'drogulus');
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'drogulus');
    default:
      return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'drogulus');
  }
};

export const resolveDataDir = (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string => (flag ? resolve(flag) : defaultDataDir(env));

/** Creates the data dir if needed, readable by its owner only. */
export const ensureDataDir = (dir: string): string => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (platform() !== 'win32') chmodSync(dir, 0o700);
  return dir;
};
