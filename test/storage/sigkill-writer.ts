/**
 * The child process of the SIGKILL durability test (sqlite-item-store.test.ts):
 * opens the SQLite store at argv[2] and puts item 0, 1, 2… over WRITER_KEYS
 * keys, writing "ack <n>\n" to stdout after each put has returned. It never
 * stops by itself (short of MAX_PUTS), so its parent kills it mid-stream.
 * Items come from a fixed seed: the parent rebuilds item n with writerItem.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Identity } from '../../src/crypto/identity.js';
import { createItem, type Item } from '../../src/protocol/item.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { SqliteItemStore } from '../../src/storage/sqlite-item-store.js';

/** Item n goes under key n % WRITER_KEYS, so later puts replace earlier ones, as republishing does. */
export const WRITER_KEYS = 200;
export const WRITER_T0_MS = Date.UTC(2026, 0, 1);
/** A bound on a writer whose parent never kills it; one whose parent has gone stops at its next ack. */
const MAX_PUTS = 100_000;

const publisher = Identity.fromSeed(Buffer.alloc(32, 0x61));

/** Item n: its timestamp is WRITER_T0_MS + n; a third of values are JSON with multi-byte text, the rest bytes of varying size up to 64 KiB. */
export const writerItem = (n: number): Item => {
  const value =
    n % 3 === 0
      ? JSON.stringify({ n, text: 'Zoë 東京 ✓', pad: 'x'.repeat((n * 131) % 2000) })
      : new SeededRandom(n + 1).bytes((n * 7919) % (64 * 1024));
  return createItem(publisher, {
    name: `item-${n % WRITER_KEYS}`,
    value,
    timestamp: WRITER_T0_MS + n,
    meta: { n: String(n) },
    createdWith: 'sigkill-writer/1',
  });
};

const run = (dbPath: string): void => {
  const store = SqliteItemStore.open(dbPath);
  for (let n = 0; n < MAX_PUTS; n++) {
    store.put(writerItem(n), WRITER_T0_MS + n);
    // Written only once put has returned: every ack the parent reads names a committed item.
    process.stdout.write(`ack ${n}\n`);
    // A parent that has gone closed the pipe: that write failed with EPIPE, which marks stdout errored at once.
    if (process.stdout.errored) break;
  }
  store.close();
};

const invokedPath = process.argv[1];
if (invokedPath !== undefined && resolve(invokedPath) === fileURLToPath(import.meta.url)) {
  const dbPath = process.argv[2];
  if (dbPath === undefined) throw new Error('usage: node --import tsx test/storage/sigkill-writer.ts <db path>');
  run(dbPath);
}
