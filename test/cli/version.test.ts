/** The version the command and the API report is package.json's. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION, SOFTWARE_VERSION } from '../../src/protocol/version.js';

describe('the software version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
    expect(SOFTWARE_VERSION).toBe(`drogulus-ts/${pkg.version}`);
  });
});
