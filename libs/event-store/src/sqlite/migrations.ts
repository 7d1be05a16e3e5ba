import type Database from 'better-sqlite3';
import { EventStoreSchemaError } from '../errors';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Versioned schema changes, applied in order at open. Never edit a migration
 * that has shipped: add the next one.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events table, append-only',
    sql: `
      CREATE TABLE events (
        position       INTEGER PRIMARY KEY,
        event_id       TEXT    NOT NULL UNIQUE,
        stream         TEXT    NOT NULL,
        revision       INTEGER NOT NULL CHECK (revision >= 0),
        type           TEXT    NOT NULL,
        schema_version INTEGER NOT NULL CHECK (schema_version >= 1),
        data           TEXT    NOT NULL,
        metadata       TEXT    NOT NULL,
        recorded_at    TEXT    NOT NULL,
        UNIQUE (stream, revision)
      );
      CREATE TRIGGER events_are_immutable_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
      CREATE TRIGGER events_are_immutable_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
    `,
  },
  {
    version: 2,
    name: 'index events by type, for type-filtered reads',
    // Read models that follow a few rare types (the registry, consent) then skip the rest in O(log n).
    sql: 'CREATE INDEX events_by_type ON events (type, position);',
  },
  {
    version: 3,
    name: 'positions handed out are never handed out again',
    // The events table's own max(position) drops when its last rows are deleted (triggers dropped
    // first), and SQLite would then give the next event a position the audit log already holds.
    // The high-water mark lives in a table of its own, only ever raised: a later insert at or
    // below it is refused, so a deleted tail leaves a gap the audit log reports, never a reuse.
    sql: `
      CREATE TABLE positions_handed_out (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        position  INTEGER NOT NULL CHECK (position >= 0)
      );
      INSERT INTO positions_handed_out (id, position) SELECT 1, coalesce(max(position), 0) FROM events;
      CREATE TRIGGER positions_handed_out_only_rise BEFORE UPDATE ON positions_handed_out
        WHEN NEW.position < OLD.position OR NEW.id <> OLD.id
        BEGIN SELECT RAISE(ABORT, 'positions handed out never go down'); END;
      CREATE TRIGGER positions_handed_out_are_kept BEFORE DELETE ON positions_handed_out
        BEGIN SELECT RAISE(ABORT, 'positions handed out are kept'); END;
      CREATE TRIGGER events_never_reuse_a_position BEFORE INSERT ON events
        WHEN NEW.position <= (SELECT position FROM positions_handed_out WHERE id = 1)
        BEGIN SELECT RAISE(ABORT, 'this position was handed out before'); END;
      CREATE TRIGGER events_raise_positions_handed_out AFTER INSERT ON events
        BEGIN UPDATE positions_handed_out SET position = NEW.position WHERE id = 1; END;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Brings the database to the latest schema, in one immediate transaction. */
export function migrate(db: Database.Database, clock: () => Date): number {
  const apply = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new EventStoreSchemaError(
        `the event database has schema version ${current}, newer than this nrm-ledger knows (${LATEST_SCHEMA_VERSION}); upgrade nrm-ledger before opening it`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, clock().toISOString());
    }
    return LATEST_SCHEMA_VERSION;
  });
  return apply.immediate();
}
