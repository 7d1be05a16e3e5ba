/**
 * Where read models live: the embedded default keeps them in a SQLite file,
 * production in PostgreSQL. Projections and queries speak to this port only,
 * in the SQL both engines share, with `?` placeholders.
 *
 * The common ground they keep to: `CREATE TABLE IF NOT EXISTS`, `INSERT ... ON
 * CONFLICT ... DO UPDATE / DO NOTHING`, `BIGINT` for positions and counts,
 * booleans stored as 0/1, JSON documents stored as `TEXT` and parsed in
 * TypeScript, aliases in double quotes when they are not lower case. DDL
 * passed to `exec` may end a table with `WITHOUT ROWID`: PostgreSQL drops it.
 */

/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | null;

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlRunner {
  readonly dialect: SqlDialect;
  /** Runs a statement that returns no rows; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** The first row, or `undefined`. */
  get<T extends object>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T extends object>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs one or more statements without parameters (DDL). */
  exec(sql: string): Promise<void>;
}

export interface ReadModelStore extends SqlRunner {
  /**
   * Runs `work` in one transaction on one connection: committed when it
   * resolves, rolled back when it rejects. Transactions run one at a time.
   * Reads made on the store itself (not on `tx`) see only committed data.
   */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Optional: runs `work` (a rebuild's many transactions) in a bulk-load mode. Each transaction
   * still commits on its own, data and checkpoint together, so a crash leaves the same consistent
   * state as without it; what changes is housekeeping between transactions. SQLite suspends its
   * write-ahead log's automatic checkpoints (and widens its page cache) for the duration and
   * checkpoints once at the end.
   */
  bulk?<T>(work: () => Promise<T>): Promise<T>;
  /** For health and logs: the engine and where, without credentials. */
  readonly description: string;
  /** True when the engine answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
