import type Database from 'better-sqlite3';
import type { RecordedEvent } from '@nrm/event-store';

/**
 * A read model kept in the projector's SQLite database. The projector calls
 * every method inside its own transaction, together with the checkpoint
 * update, so a projection never opens, commits or rolls back one itself.
 */
export interface SqliteProjection {
  /** Unique within a projector, stable across releases: it keys the checkpoint (e.g. 'case-view'). */
  readonly name: string;
  /** Bump it whenever the tables or the way events map onto them change: the projector drops and rebuilds. */
  readonly version: number;
  /** Only these event types reach `apply`; `undefined` delivers every type. */
  readonly eventTypes?: readonly string[];
  /** Creates its tables (called in a transaction when the projection is new or its version changed). */
  setUp(db: Database.Database): void;
  /**
   * Drops its tables (before a rebuild). Also called before the first `setUp`
   * of a projection the database has never seen, so use `DROP ... IF EXISTS`.
   */
  tearDown(db: Database.Database): void;
  /**
   * Applies one event inside the projector's transaction; must be deterministic
   * and synchronous (a returned promise is treated as a failure). Throwing rolls
   * the transaction back and stops the projector at this event.
   */
  apply(db: Database.Database, event: RecordedEvent): void;
}
