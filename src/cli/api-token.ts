/**
 * The local API's bearer token: 32 random bytes as hex in `api-token` in the
 * data dir, mode 0600, made at first start; the CLI reads it to authorise writes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { FILES } from './data-dir.js';

export const tokenPath = (dataDir: string): string => join(dataDir, FILES.apiToken);

export const readApiToken = (dataDir: string): string | undefined => {
  const path = tokenPath(dataDir);
  if (!existsSync(path)) return undefined;
  const token = readFileSync(path, 'utf8').trim();
  return token.length > 0 ? token : undefined;
};

export const ensureApiToken = (dataDir: string): string => {
  const existing = readApiToken(dataDir);
  if (existing) return existing;
  const token = randomBytes(32).toString('hex');
  writeFileSync(tokenPath(dataDir), `${token}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(tokenPath(dataDir), 0o600);
  return token;
};
