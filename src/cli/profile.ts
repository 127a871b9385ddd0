/**
 * The whoami profile: who runs this node, published under its public key after
 * joining so that `whois` finds it. Kept as profile.json in the data dir.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILES } from './data-dir.js';
import { usageError } from './exit-codes.js';

export const PROFILE_FIELDS = ['name', 'nickname', 'affiliation', 'website', 'contact', 'bio', 'notes'] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type Profile = Partial<Record<ProfileField, string>>;

const MAX_FIELD_CHARS = 1000;

export const profilePath = (dataDir: string): string => join(dataDir, FILES.profile);

export const readProfile = (dataDir: string): Profile | undefined => {
  const path = profilePath(dataDir);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw usageError(`profile ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return cleanProfile(parsed);
};

export const writeProfile = (dataDir: string, profile: Profile): void => {
  writeFileSync(profilePath(dataDir), `${JSON.stringify(cleanProfile(profile), null, 2)}\n`, { mode: 0o600 });
};

/** Keeps the known fields that are non-empty strings, trimmed and bounded. */
export const cleanProfile = (raw: unknown): Profile => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw usageError('a profile must be a JSON object');
  const out: Profile = {};
  for (const field of PROFILE_FIELDS) {
    const value = (raw as Record<string, unknown>)[field];
    if (typeof value !== 'string' || value.trim() === '') continue;
    if (value.length > MAX_FIELD_CHARS) throw usageError(`profile field ${field} is longer than ${MAX_FIELD_CHARS} characters`);
    out[field] = value.trim();
  }
  return out;
};
