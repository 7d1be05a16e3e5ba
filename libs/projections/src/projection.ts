import type { RecordedEvent } from '@nrm/event-store';
import type { SqlRunner } from './store/read-model-store';

/**
 * A read model kept in the projector's read-model store (SQLite or
 * PostgreSQL). The projector calls every method inside its own transaction,
 * together with the checkpoint update, so a projection never opens, commits or
 * rolls back one itself, and writes only through the `tx` it is given.
 */
export interface Projection {
  /** Unique within a projector, stable across releases: it keys the checkpoint (e.g. 'case-view'). */
  readonly name: string;
  /** Bump it whenever the tables or the way events map onto them change: the projector drops and rebuilds. */
  readonly version: number;
  /** Only these event types reach `apply`; `undefined` delivers every type. */
  readonly eventTypes?: readonly string[];
  /** Creates its tables (called in a transaction when the projection is new or its version changed). */
  setUp(tx: SqlRunner): Promise<void>;
  /**
   * Optional: creates its secondary indexes, `IF NOT EXISTS`. When given, `setUp` creates the
   * tables only (with their keys and unique constraints, which `apply` relies on); a rebuild then
   * loads the tables first and builds the indexes once at its end, and every start creates any
   * that an interrupted rebuild left out. `apply` must not need them to be correct.
   */
  createIndexes?(tx: SqlRunner): Promise<void>;
  /**
   * Drops its tables (before a rebuild). Also called before the first `setUp`
   * of a projection the store has never seen, so use `DROP ... IF EXISTS`.
   */
  tearDown(tx: SqlRunner): Promise<void>;
  /**
   * Applies one event inside the projector's transaction; must be
   * deterministic. Rejecting rolls the transaction back and stops the
   * projector at this event.
   */
  apply(tx: SqlRunner, event: RecordedEvent): Promise<void>;
  /**
   * Optional: applies several events (of its types, in order) at once, with
   * the same end state as `apply` on each in turn, e.g. to read and write each
   * document once per batch. When it rejects, the projector replays the batch
   * event by event with `apply` to find the event at fault.
   */
  applyBatch?(tx: SqlRunner, events: readonly RecordedEvent[]): Promise<void>;
}
