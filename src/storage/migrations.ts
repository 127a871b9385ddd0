/**
 * The SQLite store's schema, as an ordered list of migrations. The schema
 * version is SQLite's `PRAGMA user_version`: migration n takes it from n-1 to
 * n, inside one transaction with the version bump, so a failed migration
 * leaves the previous version intact. A database newer than this code is
 * refused, never touched. Migrations are append-only: never edit a shipped one.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  /** The user_version this migration produces; migrations are numbered 1, 2, 3… in order. */
  readonly version: number;
  readonly description: string;
  readonly up: (db: Database) => void;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    description: 'items, their totals, and named state (the routing table snapshot)',
    up: (db: Database): void => {
      // STRICT: a value of the wrong type is an error, not a silent conversion.
      // `value` comes last on purpose: large values spill into overflow pages,
      // and a column stored after them could only be read by walking that chain.
      // The CHECKs keep value_kind and value_bytes true to the value itself, so
      // a row can never decode to a different kind or be counted wrongly.
      db.exec(`
        CREATE TABLE items (
          key BLOB PRIMARY KEY NOT NULL,
          value_kind INTEGER NOT NULL,
          value_bytes INTEGER NOT NULL,
          timestamp INTEGER NOT NULL,
          expires INTEGER NOT NULL,
          updated_ms INTEGER NOT NULL,
          accessed_ms INTEGER NOT NULL,
          public_key BLOB NOT NULL,
          name TEXT NOT NULL,
          created_with TEXT NOT NULL,
          meta TEXT NOT NULL,
          signature BLOB NOT NULL,
          value ANY NOT NULL,
          CHECK ((value_kind = 0 AND typeof(value) = 'blob') OR (value_kind = 1 AND typeof(value) = 'text')),
          CHECK (value_bytes = octet_length(value))
        ) STRICT;

        -- For per-publisher quotas.
        CREATE INDEX items_by_public_key ON items (public_key);
        -- For expiry sweeps; items that never expire (0) are left out of the index.
        CREATE INDEX items_by_expires ON items (expires) WHERE expires > 0;

        -- size and valueBytes without a scan, kept by triggers in the same
        -- transaction as each write, so they are right after a crash and for
        -- every connection. Writers must not use INSERT OR REPLACE: its
        -- implicit delete fires no trigger (recursive_triggers is off).
        CREATE TABLE item_totals (
          id INTEGER PRIMARY KEY CHECK (id = 0),
          count INTEGER NOT NULL,
          value_bytes INTEGER NOT NULL
        ) STRICT;
        INSERT INTO item_totals (id, count, value_bytes) VALUES (0, 0, 0);
        CREATE TRIGGER items_totals_after_insert AFTER INSERT ON items BEGIN
          UPDATE item_totals SET count = count + 1, value_bytes = value_bytes + NEW.value_bytes WHERE id = 0;
        END;
        CREATE TRIGGER items_totals_after_delete AFTER DELETE ON items BEGIN
          UPDATE item_totals SET count = count - 1, value_bytes = value_bytes - OLD.value_bytes WHERE id = 0;
        END;
        CREATE TRIGGER items_totals_after_update AFTER UPDATE OF value_bytes ON items BEGIN
          UPDATE item_totals SET value_bytes = value_bytes - OLD.value_bytes + NEW.value_bytes WHERE id = 0;
        END;

        -- Named JSON documents: 'routing-table' holds the TableSnapshot.
        CREATE TABLE state (
          name TEXT PRIMARY KEY NOT NULL,
          value TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 2,
    description: 'an index on accessed_ms, for the least-recently-read eviction of a full store',
    up: (db: Database): void => {
      db.exec('CREATE INDEX items_by_accessed ON items (accessed_ms);');
    },
  },
]);

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/** The database's schema version does not match what this code can use. */
export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';

  constructor(
    readonly code: 'DROGULUS_DB_SCHEMA_TOO_NEW' | 'DROGULUS_DB_SCHEMA_TOO_OLD',
    readonly found: number,
    readonly supported: number,
    message: string,
  ) {
    super(message);
  }
}

export const schemaTooNew = (found: number, supported: number): SchemaVersionError =>
  new SchemaVersionError(
    'DROGULUS_DB_SCHEMA_TOO_NEW',
    found,
    supported,
    `database schema version ${found} is newer than this drogulus supports (${supported}): upgrade drogulus to open it`,
  );

export const schemaVersion = (db: Database): number => db.pragma('user_version', { simple: true }) as number;

/**
 * Brings `db` up to the last of `migrations`, one transaction per migration.
 * Each transaction is IMMEDIATE and reads the version inside it, so two
 * processes opening the same new file cannot both run a migration.
 * Returns the versions before and after.
 */
export const migrate = (db: Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } => {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}, expected ${i + 1}: migrations must be numbered 1, 2, 3… in order`);
  });
  const latest = migrations.length;
  const from = schemaVersion(db);
  if (from > latest) throw schemaTooNew(from, latest);
  for (const migration of migrations.slice(from)) {
    db.transaction(() => {
      const current = schemaVersion(db);
      // Another process got here first.
      if (current >= migration.version) return;
      migration.up(db);
      // user_version lives in the database header, so this write commits or rolls back with the migration.
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  const to = schemaVersion(db);
  // A newer drogulus may have migrated the file while we waited for the lock.
  if (to > latest) throw schemaTooNew(to, latest);
  return { from, to };
};
