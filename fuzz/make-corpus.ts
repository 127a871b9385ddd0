/**
 * Writes each harness's seeds to fuzz/corpus/<harness>/: valid encodings of
 * every message type from the codec (for the handlers harness, wrapped in the
 * program that delivers them). Run it again when the codec or a harness's
 * input format changes: `npx tsx fuzz/make-corpus.ts`.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codecHarness } from './harnesses/codec.js';
import { handlersHarness } from './harnesses/handlers.js';
import { sealHarness } from './harnesses/seal.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

for (const harness of [codecHarness, sealHarness, handlersHarness]) {
  const dir = join(CORPUS, harness.name);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) rmSync(join(dir, name));
  const seeds = harness.seeds();
  for (const seed of seeds) writeFileSync(join(dir, seed.name), seed.data);
  process.stdout.write(`${harness.name}: ${seeds.length} seeds in ${dir}\n`);
}
