/**
 * The SQLite store: the shared ItemStore contract (with reopen), then what only
 * a file can show: migrations, connection settings, the bytes on disk, and that
 * every acknowledged put survives a SIGKILL of the writing process.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Identity } from '../../src/crypto/identity.js';
import { checkItem, createItem, type Item, itemSigningBytes } from '../../src/protocol/item.js';
import { SeededRandom } from '../../src/runtime/random.js';
import type { ItemStore } from '../../src/storage/item-store.js';
import { LATEST_SCHEMA_VERSION, migrate, MIGRATIONS, type Migration, SchemaVersionError } from '../../src/storage/migrations.js';
import { SqliteItemStore } from '../../src/storage/sqlite-item-store.js';
import { WRITER_KEYS, WRITER_T0_MS, writerItem } from './sigkill-writer.js';
import { runItemStoreContract } from './store-contract.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WRITER = join(import.meta.dirname, 'sigkill-writer.ts');
const T0_MS = Date.UTC(2026, 0, 1);
const alice = Identity.fromSeed(Buffer.alloc(32, 0x71));

let dir: string;
const dbPath = (): string => join(dir, 'items.db');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drogulus-sqlite-'));
});

// Runs after the contract suite's own afterEach has closed its stores.
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const pathOf = new WeakMap<ItemStore, string>();
runItemStoreContract(
  'SqliteItemStore',
  () => {
    const store = SqliteItemStore.open(dbPath());
    pathOf.set(store, dbPath());
    return store;
  },
  {
    reopen: (store) => {
      const again = SqliteItemStore.open(pathOf.get(store)!);
      pathOf.set(again, pathOf.get(store)!);
      return again;
    },
  },
);

/** A raw connection, for looking at the file behind the store's back. */
const withRaw = <T>(path: string, use: (db: Database.Database) => T): T => {
  const db = new Database(path);
  try {
    return use(db);
  } finally {
    db.close();
  }
};

const tableNames = (db: Database.Database): string[] =>
  db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((r) => r.name);

/** Same bytes: the signing bytes cover every field but the signature, with the value's kind, byte for byte. */
const expectSameItem = (actual: Item | undefined, expected: Item): void => {
  expect(actual).toBeDefined();
  expect(typeof actual!.value).toBe(typeof expected.value);
  expect(itemSigningBytes(actual!).toString('hex')).toBe(itemSigningBytes(expected).toString('hex'));
  expect(Buffer.from(actual!.signature).toString('hex')).toBe(Buffer.from(expected.signature).toString('hex'));
};

const recount = (path: string): { count: number; bytes: number } =>
  withRaw(path, (db) => db.prepare<[], { count: number; bytes: number }>('SELECT count(*) AS count, coalesce(sum(octet_length(value)), 0) AS bytes FROM items').get()!);

describe('SqliteItemStore schema and migrations', () => {
  it('migrates an empty (version 0) database to the latest schema', () => {
    withRaw(dbPath(), (db) => expect(db.pragma('user_version', { simple: true })).toBe(0));
    SqliteItemStore.open(dbPath()).close();
    withRaw(dbPath(), (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
      expect(tableNames(db)).toEqual(['item_totals', 'items', 'items_by_accessed', 'items_by_expires', 'items_by_public_key', 'state']);
      const columns = (db.pragma('table_info(items)') as Array<{ name: string }>).map((c) => c.name);
      expect(columns.sort()).toEqual(
        ['key', 'value', 'value_kind', 'timestamp', 'expires', 'created_with', 'public_key', 'name', 'meta', 'signature', 'updated_ms', 'accessed_ms', 'value_bytes'].sort(),
      );
    });
  });

  it('opens a database already at the latest schema without migrating it again', () => {
    SqliteItemStore.open(dbPath()).close();
    withRaw(dbPath(), (db) => expect(migrate(db)).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION }));
  });

  it('refuses a database whose schema is newer than it supports, and leaves the file as it was', () => {
    withRaw(dbPath(), (db) => db.pragma('user_version = 99'));
    let error: unknown;
    try {
      SqliteItemStore.open(dbPath());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect((error as SchemaVersionError).message).toMatch(`database schema version 99 is newer than this drogulus supports (${LATEST_SCHEMA_VERSION})`);
    expect((error as SchemaVersionError).code).toBe('DROGULUS_DB_SCHEMA_TOO_NEW');
    withRaw(dbPath(), (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(99);
      expect(tableNames(db)).toEqual([]);
    });
  });

  it('applies each migration in its own transaction, so a failing one leaves the version before it', () => {
    const failing: Migration = {
      version: 2,
      description: 'fails half way',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('migration 2 failed');
      },
    };
    withRaw(dbPath(), (db) => {
      expect(() => migrate(db, [MIGRATIONS[0], failing])).toThrow('migration 2 failed');
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(tableNames(db)).not.toContain('half_done');
      expect(tableNames(db)).toContain('items');
    });
  });

  it('refuses a list of migrations not numbered 1, 2, 3 in order', () => {
    const skipping: Migration = { version: 3, description: 'skips 2', up: () => undefined };
    withRaw(dbPath(), (db) => {
      expect(() => migrate(db, [MIGRATIONS[0], skipping])).toThrow(/expected 2/);
      expect(db.pragma('user_version', { simple: true })).toBe(0);
    });
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
  });
});

describe('SqliteItemStore connection settings', () => {
  it('runs in WAL mode with synchronous NORMAL, foreign keys on and a busy timeout by default', () => {
    const store = SqliteItemStore.open(dbPath());
    expect(store.settings()).toEqual({ journalMode: 'wal', synchronous: 'normal', foreignKeys: true, busyTimeoutMs: 5000, schemaVersion: LATEST_SCHEMA_VERSION });
    store.close();
    // WAL is a property of the file, so every later connection gets it too.
    withRaw(dbPath(), (db) => expect(db.pragma('journal_mode', { simple: true })).toBe('wal'));
  });

  it('runs with synchronous FULL when asked to survive power loss', () => {
    const store = SqliteItemStore.open(dbPath(), { durability: 'power-loss', busyTimeoutMs: 250 });
    expect(store.settings()).toMatchObject({ journalMode: 'wal', synchronous: 'full', busyTimeoutMs: 250 });
    store.close();
  });

  it('refuses an unknown durability or a bad busy timeout before touching the file', () => {
    expect(() => SqliteItemStore.open(dbPath(), { durability: 'eventually' as never })).toThrow(RangeError);
    expect(() => SqliteItemStore.open(dbPath(), { busyTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => SqliteItemStore.open(dbPath(), { busyTimeoutMs: 1.5 })).toThrow(RangeError);
    expect(existsSync(dbPath())).toBe(false);
  });

  it('closes once and ignores a second close', () => {
    const store = SqliteItemStore.open(dbPath());
    store.close();
    expect(() => store.close()).not.toThrow();
    expect(() => store.get(Buffer.alloc(64))).toThrow();
  });
});

describe('SqliteItemStore on disk', () => {
  it('stores a JSON value as its exact UTF-8 text and a byte value as a blob', () => {
    const json = createItem(alice, { name: 'j', value: '{"city":"東京","n":1e3}', timestamp: T0_MS });
    const bytes = createItem(alice, { name: 'b', value: new Uint8Array([0, 255, 10]), timestamp: T0_MS });
    const store = SqliteItemStore.open(dbPath());
    store.put(json, T0_MS);
    store.put(bytes, T0_MS);
    type Row = { kind: number; type: string; bytes: number; hex: string };
    const rowOf = (item: Item): Row =>
      withRaw(dbPath(), (db) =>
        db.prepare<[Uint8Array], Row>('SELECT value_kind AS kind, typeof(value) AS type, value_bytes AS bytes, hex(value) AS hex FROM items WHERE key = ?').get(item.key)!,
      );
    const jsonText = Buffer.from('{"city":"東京","n":1e3}', 'utf8');
    expect(rowOf(json)).toEqual({ kind: 1, type: 'text', bytes: jsonText.length, hex: jsonText.toString('hex').toUpperCase() });
    expect(rowOf(bytes)).toEqual({ kind: 0, type: 'blob', bytes: 3, hex: '00FF0A' });
    // Not re-serialised: "1e3" stays "1e3".
    expect(store.get(json.key)!.item.value).toBe('{"city":"東京","n":1e3}');
    expect(Buffer.isBuffer(store.get(bytes.key)!.item.value)).toBe(true);
    store.close();
  });

  it('keeps size and value bytes equal to a recount of the rows through random puts, replacements and deletes (seed 7)', () => {
    const random = new SeededRandom(7);
    const store = SqliteItemStore.open(dbPath());
    for (let step = 0; step < 300; step++) {
      const name = `k${random.int(20)}`;
      const choice = random.int(4);
      if (choice === 0) {
        store.delete(createItem(alice, { name, value: '0', timestamp: T0_MS }).key);
      } else {
        const value = choice === 1 ? JSON.stringify('é'.repeat(random.int(50))) : random.bytes(random.int(3000));
        store.put(createItem(alice, { name, value, timestamp: T0_MS + step }), T0_MS + step);
      }
      if (step % 50 === 49) {
        const { count, bytes } = recount(dbPath());
        expect({ size: store.size, valueBytes: store.valueBytes }).toEqual({ size: count, valueBytes: bytes });
      }
    }
    store.close();
  });

  it('yields every item once from entries across several pages, while the caller deletes each', () => {
    const store = SqliteItemStore.open(dbPath());
    const all = Array.from({ length: 150 }, (_, i) => createItem(alice, { name: `e${i}`, value: new Uint8Array([i]), timestamp: T0_MS }));
    for (const item of all) store.put(item, T0_MS);
    const visited = new Set<string>();
    for (const entry of store.entries()) {
      const hex = Buffer.from(entry.item.key).toString('hex');
      expect(visited.has(hex)).toBe(false);
      visited.add(hex);
      expect(store.delete(entry.item.key)).toBe(true);
    }
    expect(visited.size).toBe(all.length);
    expect(store.size).toBe(0);
    store.close();
  });

  it('returns no table when what is stored is not valid JSON or not a snapshot, and saves a good one over it', () => {
    const store = SqliteItemStore.open(dbPath());
    const good = { version: 1 as const, nodeId: 'ab', contacts: [], blacklist: [] };
    const stored = ['{"version":1,', 'null', '[]', '"text"', '{"version":2,"nodeId":"ab","contacts":[],"blacklist":[]}', '{"version":1,"nodeId":"ab"}'];
    for (const text of stored) {
      withRaw(dbPath(), (db) => db.prepare("INSERT INTO state (name, value) VALUES ('routing-table', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value").run(text));
      expect(store.loadTable()).toBeUndefined();
    }
    store.saveTable(good);
    expect(store.loadTable()).toEqual(good);
    store.close();
  });

  it('opens read-only a database another connection is writing, sees its commits, and refuses writes', () => {
    const writer = SqliteItemStore.open(dbPath());
    const first = createItem(alice, { name: 'r1', value: '1', timestamp: T0_MS });
    const second = createItem(alice, { name: 'r2', value: '2', timestamp: T0_MS });
    writer.put(first, T0_MS);
    const reader = SqliteItemStore.open(dbPath(), { readonly: true });
    expectSameItem(reader.get(first.key)?.item, first);
    writer.put(second, T0_MS);
    expectSameItem(reader.get(second.key)?.item, second);
    expect(reader.size).toBe(2);
    expect(() => reader.put(createItem(alice, { name: 'r3', value: '3', timestamp: T0_MS }), T0_MS)).toThrow(/readonly/);
    reader.close();
    writer.close();
  });

  it('refuses to open read-only a file that does not exist or a database that needs migrating', () => {
    expect(() => SqliteItemStore.open(dbPath(), { readonly: true })).toThrow();
    expect(existsSync(dbPath())).toBe(false);
    withRaw(dbPath(), (db) => db.pragma('user_version = 0'));
    expect(() => SqliteItemStore.open(dbPath(), { readonly: true })).toThrow(/database schema version 0 is older than this drogulus uses/);
  });
});

describe('SqliteItemStore durability', () => {
  // Past WRITER_KEYS, so the kill can land on a replacement as well as on a new key.
  const KILL_AFTER_ACKS = 300;
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  /** Runs the writer, SIGKILLs it once KILL_AFTER_ACKS acks are in, and gives back every ack it wrote before dying. */
  const runAndKillWriter = (path: string): Promise<{ acks: number[]; signal: NodeJS.Signals | null }> =>
    new Promise((resolvePromise, reject) => {
      const writer = spawn(process.execPath, ['--import', 'tsx', WRITER, path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      child = writer;
      const acks: number[] = [];
      let pending = '';
      let stderr = '';
      writer.stdout.setEncoding('utf8');
      writer.stderr.setEncoding('utf8');
      writer.stderr.on('data', (chunk: string) => (stderr += chunk));
      writer.stdout.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        // The last piece is an incomplete line (or ''): it is not an ack yet.
        pending = lines.pop()!;
        for (const line of lines) {
          const match = /^ack (\d+)$/.exec(line);
          if (!match) return reject(new Error(`the writer wrote ${JSON.stringify(line)}`));
          acks.push(Number(match[1]));
        }
        if (acks.length >= KILL_AFTER_ACKS) writer.kill('SIGKILL');
      });
      writer.on('error', reject);
      // 'close' comes after the process has exited and its stdout is drained, so every ack it wrote is in.
      writer.on('close', (code, signal) => {
        if (acks.length < KILL_AFTER_ACKS) reject(new Error(`the writer ended (code ${code}, signal ${signal}) after ${acks.length} acks:\n${stderr}`));
        else resolvePromise({ acks, signal });
      });
    });

  it('keeps every acknowledged put, byte for byte, when the writing process is killed with SIGKILL', { timeout: 30_000 }, async () => {
    const { acks, signal } = await runAndKillWriter(dbPath());
    // Killed mid-stream, not after finishing, and with its commits still in the WAL, not checkpointed away.
    expect(signal).toBe('SIGKILL');
    expect(acks).toEqual(acks.map((_, i) => i));
    expect(statSync(`${dbPath()}-wal`).size).toBeGreaterThan(0);

    const store = SqliteItemStore.open(dbPath());
    const lastAck = acks[acks.length - 1];
    const slots = Math.min(WRITER_KEYS, acks.length);
    for (let slot = 0; slot < slots; slot++) {
      // The latest acked put to this key; a later one may have committed before its ack was written.
      const acked = lastAck - ((lastAck - slot) % WRITER_KEYS);
      const held = store.get(writerItem(slot).key)?.item;
      expect(held).toBeDefined();
      const n = held!.timestamp - WRITER_T0_MS;
      expect(n).toBeGreaterThanOrEqual(acked);
      expectSameItem(held, writerItem(n));
    }
    for (const { item } of store.entries()) {
      expectSameItem(item, writerItem(item.timestamp - WRITER_T0_MS));
      expect(checkItem(item, WRITER_T0_MS)).toBeUndefined();
    }
    const { count, bytes } = recount(dbPath());
    expect({ size: store.size, valueBytes: store.valueBytes }).toEqual({ size: count, valueBytes: bytes });
    expect(count).toBeGreaterThanOrEqual(slots);
    store.close();
    withRaw(dbPath(), (db) => expect(db.pragma('integrity_check', { simple: true })).toBe('ok'));
  });
});
