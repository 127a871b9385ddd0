/**
 * The ItemStore of real nodes: one SQLite file in WAL mode, through
 * better-sqlite3's synchronous API. Every write is one autocommitted
 * statement, committed before the method returns. Items come back exactly as
 * put: JSON values as the same text, byte values as Buffers with the same
 * bytes. The schema and its versions are in ./migrations.ts. An adapter: the
 * DHT core is given an ItemStore and never imports this file.
 */
import Database, { type Database as Connection } from 'better-sqlite3';
import { type Item, VALUE_KIND_BYTES, VALUE_KIND_JSON, valueLength } from '../protocol/item.js';
import type { TableSnapshot } from '../routing/routing-table.js';
import { seconds } from '../runtime/clock.js';
import type { ItemStore, PublisherUsage, StoredItem } from './item-store.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaTooNew, schemaVersion, SchemaVersionError } from './migrations.js';

/**
 * What an acknowledged write must survive.
 * - 'process-crash' (synchronous = NORMAL): a crash or SIGKILL of the process
 *   loses nothing committed. In WAL mode a commit is a write() of its frames
 *   to the -wal file; the operating system holds them and recovery replays
 *   them on the next open. Only the fsync is skipped (it happens at
 *   checkpoints), so a power cut or kernel panic can lose the last commits,
 *   though never corrupt the file.
 * - 'power-loss' (synchronous = FULL): the -wal file is also fsynced at every
 *   commit, so commits survive power loss too, at the cost of one fsync
 *   (about a millisecond or more) per put, touch, markUpdated, delete and
 *   saveTable.
 */
export type Durability = 'process-crash' | 'power-loss';

export interface SqliteItemStoreOptions {
  /** Opens an existing, migrated database for reading only; every write throws. Default false. */
  readonly readonly: boolean;
  /** Default 'process-crash'; see Durability. */
  readonly durability: Durability;
  /** How long a statement waits for another connection's lock before it fails with SQLITE_BUSY. Default 5 s. */
  readonly busyTimeoutMs: number;
}

export const SQLITE_STORE_DEFAULTS: SqliteItemStoreOptions = Object.freeze({
  readonly: false,
  durability: 'process-crash',
  busyTimeoutMs: seconds(5),
});

const SYNCHRONOUS: Readonly<Record<Durability, 'NORMAL' | 'FULL'>> = Object.freeze({ 'process-crash': 'NORMAL', 'power-loss': 'FULL' });
const SYNCHRONOUS_NAMES = ['off', 'normal', 'full', 'extra'] as const;

/** The row of `state` that holds the routing table snapshot. */
const TABLE_STATE = 'routing-table';

/** Rows read per query by entries(): at most this many values (64 KiB each at most) are held at once. */
const ENTRIES_PAGE_ROWS = 64;

const ITEM_COLUMNS = 'key, value, timestamp, expires, created_with, public_key, name, meta, signature, updated_ms, accessed_ms';

interface ItemRow {
  readonly key: Buffer;
  /** TEXT for JSON (value_kind 1), BLOB for bytes (value_kind 0): a CHECK in the schema ties the two. */
  readonly value: string | Buffer;
  readonly timestamp: number;
  readonly expires: number;
  readonly created_with: string;
  readonly public_key: Buffer;
  readonly name: string;
  readonly meta: string;
  readonly signature: Buffer;
  readonly updated_ms: number;
  readonly accessed_ms: number;
}

interface PutParams {
  readonly key: Uint8Array;
  readonly valueKind: number;
  readonly valueBytes: number;
  readonly value: string | Uint8Array;
  readonly timestamp: number;
  readonly expires: number;
  readonly nowMs: number;
  readonly publicKey: Uint8Array;
  readonly name: string;
  readonly createdWith: string;
  readonly meta: string;
  readonly signature: Uint8Array;
}

/** What the connection is really running with, read back from SQLite (for status output and tests). */
export interface SqliteSettings {
  readonly journalMode: string;
  readonly synchronous: (typeof SYNCHRONOUS_NAMES)[number];
  readonly foreignKeys: boolean;
  readonly busyTimeoutMs: number;
  readonly schemaVersion: number;
}

const prepareStatements = (db: Connection) => ({
  get: db.prepare<[Uint8Array], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE key = ?`),
  firstPage: db.prepare<[number], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items ORDER BY key LIMIT ?`),
  nextPage: db.prepare<[Uint8Array, number], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE key > ? ORDER BY key LIMIT ?`),
  // Never INSERT OR REPLACE: its implicit delete would bypass the totals triggers.
  put: db.prepare<[PutParams], never>(`
    INSERT INTO items (key, value_kind, value_bytes, timestamp, expires, updated_ms, accessed_ms, public_key, name, created_with, meta, signature, value)
    VALUES (@key, @valueKind, @valueBytes, @timestamp, @expires, @nowMs, @nowMs, @publicKey, @name, @createdWith, @meta, @signature, @value)
    ON CONFLICT (key) DO UPDATE SET
      value_kind = excluded.value_kind, value_bytes = excluded.value_bytes, timestamp = excluded.timestamp,
      expires = excluded.expires, updated_ms = excluded.updated_ms, public_key = excluded.public_key, name = excluded.name,
      created_with = excluded.created_with, meta = excluded.meta, signature = excluded.signature, value = excluded.value`),
  touch: db.prepare<[number, Uint8Array], never>('UPDATE items SET accessed_ms = ? WHERE key = ?'),
  markUpdated: db.prepare<[number, Uint8Array], never>('UPDATE items SET updated_ms = ? WHERE key = ?'),
  delete: db.prepare<[Uint8Array], never>('DELETE FROM items WHERE key = ?'),
  totals: db.prepare<[], { count: number; value_bytes: number }>('SELECT count, value_bytes FROM item_totals WHERE id = 0'),
  publisherUsage: db.prepare<[Uint8Array], { count: number; bytes: number }>('SELECT count(*) AS count, coalesce(sum(value_bytes), 0) AS bytes FROM items WHERE public_key = ?'),
  expired: db.prepare<[number, number], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE expires > 0 AND expires <= ? ORDER BY expires LIMIT ?`),
  leastRecentlyRead: db.prepare<[number], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items ORDER BY accessed_ms LIMIT ?`),
  saveState: db.prepare<[string, string], never>('INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
  loadState: db.prepare<[string], { value: string }>('SELECT value FROM state WHERE name = ?'),
});

export class SqliteItemStore implements ItemStore {
  private readonly statements: ReturnType<typeof prepareStatements>;

  private constructor(private readonly db: Connection) {
    this.statements = prepareStatements(db);
  }

  /**
   * Opens the database at `path`, creating the file if it does not exist (its
   * directory must), and migrates it to the latest schema. Throws a
   * SchemaVersionError for a database newer than this code, or, when opening
   * read-only, older than it.
   */
  static open(path: string, options: Partial<SqliteItemStoreOptions> = {}): SqliteItemStore {
    const settings = resolveOptions(options);
    const db = new Database(path, { readonly: settings.readonly, fileMustExist: settings.readonly });
    try {
      // First, so that switching to WAL and migrating wait for other connections' locks too.
      db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
      if (!settings.readonly) {
        // WAL: readers never block the writer, and a commit is a single append (see Durability).
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal' && path !== ':memory:') throw new Error(`could not put SQLite database ${path} in WAL mode (it is in ${String(mode)} mode)`);
      }
      db.pragma(`synchronous = ${SYNCHRONOUS[settings.durability]}`);
      db.pragma('foreign_keys = ON');
      if (settings.readonly) checkReadable(db);
      else migrate(db);
      return new SqliteItemStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get size(): number {
    return this.totals().count;
  }

  get valueBytes(): number {
    return this.totals().value_bytes;
  }

  get(key: Uint8Array): StoredItem | undefined {
    const row = this.statements.get.get(key);
    return row && toStored(row);
  }

  put(item: Item, nowMs: number): void {
    this.statements.put.run({
      key: item.key,
      valueKind: typeof item.value === 'string' ? VALUE_KIND_JSON : VALUE_KIND_BYTES,
      valueBytes: valueLength(item.value),
      // JSON stays text, so SQLite holds its exact UTF-8 and gives back a string.
      value: item.value,
      timestamp: item.timestamp,
      expires: item.expires,
      nowMs,
      publicKey: item.publicKey,
      name: item.name,
      createdWith: item.createdWith,
      meta: JSON.stringify(item.meta),
      signature: item.signature,
    });
  }

  touch(key: Uint8Array, nowMs: number): void {
    this.statements.touch.run(nowMs, key);
  }

  markUpdated(key: Uint8Array, nowMs: number): void {
    this.statements.markUpdated.run(nowMs, key);
  }

  delete(key: Uint8Array): boolean {
    return this.statements.delete.run(key).changes > 0;
  }

  /**
   * Pages through the items in key order, one short query per page. No SQLite
   * cursor stays open across a yield (better-sqlite3 refuses every other
   * statement while one is iterating), so the caller may delete or put while
   * iterating. An item deleted before its page is read is not yielded; an item
   * put meanwhile is yielded if its key sorts after the current page. Unlike
   * reading every row up front, memory stays at one page of values.
   */
  *entries(): Generator<StoredItem, void, undefined> {
    let page = this.statements.firstPage.all(ENTRIES_PAGE_ROWS);
    while (page.length > 0) {
      for (const row of page) yield toStored(row);
      if (page.length < ENTRIES_PAGE_ROWS) return;
      page = this.statements.nextPage.all(page[page.length - 1].key, ENTRIES_PAGE_ROWS);
    }
  }

  publisherUsage(publicKey: Uint8Array): PublisherUsage {
    const row = this.statements.publisherUsage.get(publicKey)!;
    return { count: row.count, bytes: row.bytes };
  }

  /** Two indexed queries (items_by_expires, items_by_accessed): a full store does not scan the table. */
  evictionCandidates(nowMs: number, limit: number): StoredItem[] {
    if (limit <= 0) return [];
    const expired = this.statements.expired.all(nowMs, limit);
    const seen = new Set(expired.map((row) => row.key.toString('hex')));
    const rest = expired.length < limit ? this.statements.leastRecentlyRead.all(limit) : [];
    const rows = expired.concat(rest.filter((row) => !seen.has(row.key.toString('hex'))));
    return rows.slice(0, limit).map(toStored);
  }

  saveTable(snapshot: TableSnapshot): void {
    this.statements.saveState.run(TABLE_STATE, JSON.stringify(snapshot));
  }

  /** The saved snapshot, or undefined when none was saved or what is stored is not a snapshot: a damaged table must not stop a node from starting. */
  loadTable(): TableSnapshot | undefined {
    const row = this.statements.loadState.get(TABLE_STATE);
    return row && parseSnapshot(row.value);
  }

  settings(): SqliteSettings {
    const synchronous = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: SYNCHRONOUS_NAMES[synchronous],
      foreignKeys: this.db.pragma('foreign_keys', { simple: true }) === 1,
      busyTimeoutMs: this.db.pragma('busy_timeout', { simple: true }) as number,
      schemaVersion: schemaVersion(this.db),
    };
  }

  /** Closes the database; closing again does nothing. Any other call after close throws. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private totals(): { count: number; value_bytes: number } {
    // The migration inserts the single row, and nothing deletes it.
    return this.statements.totals.get()!;
  }
}

const resolveOptions = (options: Partial<SqliteItemStoreOptions>): SqliteItemStoreOptions => {
  const settings: SqliteItemStoreOptions = {
    readonly: options.readonly ?? SQLITE_STORE_DEFAULTS.readonly,
    durability: options.durability ?? SQLITE_STORE_DEFAULTS.durability,
    busyTimeoutMs: options.busyTimeoutMs ?? SQLITE_STORE_DEFAULTS.busyTimeoutMs,
  };
  if (!Object.hasOwn(SYNCHRONOUS, settings.durability)) {
    throw new RangeError(`durability must be 'process-crash' or 'power-loss', not ${JSON.stringify(settings.durability)}`);
  }
  if (!Number.isSafeInteger(settings.busyTimeoutMs) || settings.busyTimeoutMs < 0 || settings.busyTimeoutMs > 2 ** 31 - 1) {
    throw new RangeError(`busyTimeoutMs must be an integer from 0 to 2^31-1, not ${settings.busyTimeoutMs}`);
  }
  return settings;
};

/** A read-only connection cannot migrate, so the file must already be at exactly our schema version. */
const checkReadable = (db: Connection): void => {
  const found = schemaVersion(db);
  if (found > LATEST_SCHEMA_VERSION) throw schemaTooNew(found, LATEST_SCHEMA_VERSION);
  if (found < LATEST_SCHEMA_VERSION) {
    throw new SchemaVersionError(
      'DROGULUS_DB_SCHEMA_TOO_OLD',
      found,
      LATEST_SCHEMA_VERSION,
      `database schema version ${found} is older than this drogulus uses (${LATEST_SCHEMA_VERSION}): open it once read-write to migrate it`,
    );
  }
};

const toStored = (row: ItemRow): StoredItem => ({
  item: {
    key: row.key,
    value: row.value,
    timestamp: row.timestamp,
    expires: row.expires,
    createdWith: row.created_with,
    publicKey: row.public_key,
    name: row.name,
    meta: JSON.parse(row.meta) as Record<string, string>,
    signature: row.signature,
  },
  updatedMs: row.updated_ms,
  accessedMs: row.accessed_ms,
});

const parseSnapshot = (text: string): TableSnapshot | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Only the outline is checked here: RoutingTable.restore skips and counts malformed contacts itself.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const s = parsed as Record<string, unknown>;
  const ok = s.version === 1 && typeof s.nodeId === 'string' && Array.isArray(s.contacts) && Array.isArray(s.blacklist);
  return ok ? (parsed as TableSnapshot) : undefined;
};
