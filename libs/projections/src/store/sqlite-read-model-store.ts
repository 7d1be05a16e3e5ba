import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReadModelStore, SqlRunner, SqlValue } from './read-model-store';

/**
 * Read models in a SQLite file (the embedded default). Two connections: one
 * writes, inside transactions; the other reads, and in WAL mode sees only what
 * is committed, so a query never observes half of a projector's batch. With
 * `':memory:'` there is one connection for both (tests only).
 *
 * better-sqlite3 is synchronous: every call completes before its promise is
 * returned, so a transaction's statements run back to back without yielding to
 * I/O; the promises only give the port its shape.
 */
export class SqliteReadModelStore implements ReadModelStore {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly writer: Database.Database;
  private dataVersion: Database.Statement<[], number> | undefined;
  private readonly reader: Database.Database;
  private readonly writeRunner: SqlRunner;
  private readonly readRunner: SqlRunner;
  /** Transactions run one after another, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Whether deleted rows are overwritten (see the constructor's option). */
  readonly secureDelete: boolean;
  /** Whether every commit is fsynced (see the constructor's option). */
  readonly durable: boolean;

  constructor(
    filename: string,
    options: {
      /** Overwrite what is deleted (key stores). */
      readonly secureDelete?: boolean;
      /** fsync every commit (synchronous=FULL): for what cannot be rebuilt, such as keys. Default NORMAL. */
      readonly durable?: boolean;
    } = {},
  ) {
    this.secureDelete = options.secureDelete ?? false;
    this.durable = options.durable ?? false;
    this.description = filename === ':memory:' ? 'sqlite (in memory)' : `sqlite ${filename}`;
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
    this.writer = new Database(filename);
    try {
      this.writer.pragma('journal_mode = WAL');
      // A read model can always be rebuilt: losing the last commits on power loss costs only a replay.
      // A key store cannot: it asks for FULL.
      this.writer.pragma(options.durable ? 'synchronous = FULL' : 'synchronous = NORMAL');
      this.writer.pragma('busy_timeout = 5000');
      // Deleted rows are overwritten with zeros rather than left in free pages (key stores).
      if (options.secureDelete) this.writer.pragma('secure_delete = ON');
      this.reader = filename === ':memory:' ? this.writer : new Database(filename, { readonly: true });
      this.reader.pragma('busy_timeout = 5000');
    } catch (error) {
      this.writer.close();
      throw error;
    }
    this.writeRunner = runnerOver(this.writer);
    this.readRunner = this.reader === this.writer ? this.writeRunner : runnerOver(this.reader);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    // Writes outside a transaction go through the writer, after any transaction in flight.
    return this.transaction((tx) => tx.run(sql, params));
  }

  get<T extends object>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.readRunner.get<T>(sql, params);
  }

  all<T extends object>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.readRunner.all<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.transaction((tx) => tx.exec(sql));
  }

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      if (this.closed) throw new Error('the read-model store is closed');
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        const value = await work(this.writeRunner);
        this.writer.exec('COMMIT');
        return value;
      } catch (error) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw error;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Automatic WAL checkpoints suspended while `work` runs, and one checkpoint at the end. A rebuild
   * commits a few large transactions; checkpointing after every 1,000 pages of WAL (SQLite's
   * default) would copy the same B-tree pages back into the database many times over. Every commit
   * stays whole and carries its projection checkpoint: after a crash SQLite replays the WAL on
   * open as it always does. The page cache is widened for the same span (the directory's B-trees
   * are touched all over by a replay), then set back.
   */
  async bulk<T>(work: () => Promise<T>): Promise<T> {
    const set = (pragmas: readonly string[]) => {
      const result = this.queue.then(() => {
        if (this.closed) throw new Error('the read-model store is closed');
        for (const pragma of pragmas) this.writer.pragma(pragma);
      });
      this.queue = result.catch(() => undefined);
      return result;
    };
    const autocheckpoint = this.writer.pragma('wal_autocheckpoint', { simple: true }) as number;
    const cacheSize = this.writer.pragma('cache_size', { simple: true }) as number;
    await set(['wal_autocheckpoint = 0', 'cache_size = -65536']); // 64 MiB
    try {
      return await work();
    } finally {
      await set([`wal_autocheckpoint = ${autocheckpoint}`, `cache_size = ${cacheSize}`]);
      // One checkpoint for the whole bulk. A reader holding an old snapshot may keep part of the WAL
      // busy: what is left is checkpointed by the next automatic checkpoint, as usual.
      if (!this.closed) await set(['wal_checkpoint(TRUNCATE)']).catch(() => undefined);
    }
  }

  /**
   * Copies the write-ahead log into the database and empties it, so that
   * what was deleted (and overwritten, with `secureDelete`) is gone from the
   * WAL file too.
   */
  truncateWal(): Promise<void> {
    const result = this.queue.then(async () => {
      // A reader in another process holding a snapshot keeps the WAL busy for a moment: try again, then fail.
      for (let attempt = 0; ; attempt++) {
        if (this.closed) throw new Error('the read-model store is closed');
        const [row] = this.writer.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
        if (row?.busy === 0) return;
        if (attempt >= 50) throw new Error('the write-ahead log stayed busy: it could not be emptied');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * SQLite's `data_version` on the writing connection: it changes when, and only when, another
   * connection (another process, say) commits a change to the file. The projector writes through
   * this connection alone, so a change means someone else wrote the read models.
   */
  foreignWriteCounter(): number {
    // Prepared once: the API reads it before every query (better-sqlite3's pragma() prepares anew each call).
    this.dataVersion ??= this.writer.prepare<[], number>('PRAGMA data_version').pluck();
    return Number(this.dataVersion.get());
  }

  ping(): Promise<boolean> {
    try {
      return Promise.resolve(this.reader.prepare('SELECT 1 AS one').get() !== undefined);
    } catch {
      return Promise.resolve(false);
    }
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.closed) return;
    this.closed = true;
    if (this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }
}

function runnerOver(db: Database.Database): SqlRunner {
  const cache = new Map<string, Database.Statement>();
  /** Prepared once: a rebuild runs the same few statements hundreds of thousands of times. */
  const prepare = (sql: string): Database.Statement => {
    let statement = cache.get(sql);
    if (!statement) cache.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
  return {
    dialect: 'sqlite',
    run: (sql, params = []) => settle(() => prepare(sql).run(...params).changes),
    get: <T extends object>(sql: string, params: readonly SqlValue[] = []) =>
      settle(() => prepare(sql).get(...params) as T | undefined),
    all: <T extends object>(sql: string, params: readonly SqlValue[] = []) =>
      settle(() => prepare(sql).all(...params) as T[]),
    exec: (sql) =>
      settle(() => {
        db.exec(sql);
        cache.clear(); // statements prepared against dropped tables are void
      }),
  };
}

/** A synchronous call as a promise: its error rejects rather than throws. */
function settle<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
