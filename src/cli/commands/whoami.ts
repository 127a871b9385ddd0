/** `drogulus whoami`: writes the profile this node publishes under its public key. */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { context, withCommon, type CommonOptions } from '../common.js';
import { ensureDataDir } from '../data-dir.js';
import { cleanProfile, PROFILE_FIELDS, type Profile, readProfile, writeProfile } from '../profile.js';

export const registerWhoami = (program: Command): void => {
  const command = withCommon(program.command('whoami')).description('write the profile this node publishes under its public key (asks for each field on a terminal)');
  for (const field of PROFILE_FIELDS) command.option(`--${field} <text>`, `profile ${field}`);
  command.action(async (opts: CommonOptions & Profile) => {
    const { dataDir, out } = context(opts);
    ensureDataDir(dataDir);
    const given = PROFILE_FIELDS.filter((f) => opts[f] !== undefined);
    let profile: Profile;
    if (given.length > 0) {
      profile = cleanProfile({ ...(readProfile(dataDir) ?? {}), ...Object.fromEntries(given.map((f) => [f, opts[f]])) });
    } else if (process.stdin.isTTY) {
      profile = await askProfile(readProfile(dataDir) ?? {});
    } else {
      profile = readProfile(dataDir) ?? {};
    }
    writeProfile(dataDir, profile);
    const lines = PROFILE_FIELDS.filter((f) => profile[f]).map((f) => `${f.padEnd(12)}${profile[f]}`);
    out.result(profile, lines.length > 0 ? lines.join('\n') : '(empty profile)');
  });
};

const askProfile = async (current: Profile): Promise<Profile> => {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answers: Record<string, string> = {};
    for (const field of PROFILE_FIELDS) {
      const hint = current[field] ? ` [${current[field]}]` : '';
      const answer = (await rl.question(`${field}${hint}: `)).trim();
      answers[field] = answer || current[field] || '';
    }
    return cleanProfile(answers);
  } finally {
    rl.close();
  }
};
